"""Work that cannot fit is refused before it starts; the machine's failures end in one line."""

from __future__ import annotations

import errno
import subprocess
import sys

import pytest
from click.testing import CliRunner

from cnnspec.cli.main import cli
from cnnspec.engine.budget import ENV_LIMIT, ENV_SKIP


@pytest.fixture(autouse=True)
def _no_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_LIMIT, raising=False)
    monkeypatch.delenv(ENV_SKIP, raising=False)


def invoke(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, list(args), env=env)


def one_line_error(result) -> str:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "internal error" not in lines[0] and "Traceback" not in result.stderr
    return lines[0]


def test_run_refuses_a_network_larger_than_memory() -> None:
    result = invoke("run", "FC(9000)-FC(10)", "--input", "224x224x3", env={ENV_LIMIT: "4G"})
    line = one_line_error(result)
    # parameters (150528 * 9000 + 9000 + 9000 * 10 + 10) * 4 B = 5,419,404,040 B
    assert line.startswith("error: running network on a batch of 8 needs about 10.1 GiB "
                           "(parameters 5.0 GiB + gradients 5.0 GiB + activations 4.9 MiB), "
                           "but only 4.0 GiB of memory is available")
    assert "use a smaller --batch or a smaller --input" in line
    assert "--no-memory-check" in line


@pytest.mark.parametrize("command", [
    ["run", "FC(200000)", "--input", "224x224x3"],
    ["run", "FC(200000)", "--input", "224x224x3", "--forward-only", "--batch", "1"],
    ["train", "FC(200000)", "--input", "224x224x3", "--epochs", "1"],
    ["export", "FC(200000)", "--input", "224x224x3", "--to", "onnx", "-o", "big.onnx"],
])
def test_a_112_gib_layer_is_refused_cleanly(command: list[str], tmp_path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    if command[0] == "export":
        pytest.importorskip("onnx")
    monkeypatch.chdir(tmp_path)
    line = one_line_error(invoke(*command, env={ENV_LIMIT: "16G"}))
    assert "112.2 GiB" in line and "but only 16.0 GiB of memory is available" in line
    assert not (tmp_path / "runs").exists() and not (tmp_path / "big.onnx").exists()


def test_an_input_of_ten_to_the_22_pixels_is_refused() -> None:
    # refused by the memory check (or by the spec's own bounds on sizes): never NumPy's
    # "array is too big" as an internal error
    line = one_line_error(invoke("run", "FC(10)", "--input", "99999999999x99999999999x3"))
    assert "error:" in line and "too big" not in line


def test_the_override_runs_anyway() -> None:
    args = ["run", "Conv(3x3,4)-ReLU-FC(10)", "--input", "8x8x1", "--batch", "2"]
    assert invoke(*args, env={ENV_LIMIT: "1K"}).exit_code == 1
    assert invoke(*args, "--no-memory-check", env={ENV_LIMIT: "1K"}).exit_code == 0
    assert invoke(*args, env={ENV_LIMIT: "1K", ENV_SKIP: "1"}).exit_code == 0


@pytest.mark.parametrize("exc, expected", [
    (MemoryError("Unable to allocate 112. GiB"), "error: out of memory (Unable to allocate "
                                                 "112. GiB); use a smaller --batch"),
    (RecursionError("maximum recursion depth exceeded"), "error: the input is nested too "
                                                         "deeply"),
    (OSError(errno.EROFS, "Read-only file system", "/ro/out.png"),
     "/ro/out.png: error: the file system is read-only; choose a writable place"),
    (OSError(errno.ENOSPC, "No space left on device", "/full/out.png"),
     "/full/out.png: error: the disk is full; free some space"),
    (OSError(errno.EACCES, "Permission denied", "/root/x"),
     "/root/x: error: permission denied; write somewhere you may write"),
    (OSError(errno.EIO, "Input/output error", "/mnt/usb/x"),
     "/mnt/usb/x: error: Input/output error; check the file and the device"),
])
def test_machine_failures_are_one_line(exc: BaseException, expected: str,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise exc

    monkeypatch.setattr("cnnspec.cli.run.load_spec", fail)
    line = one_line_error(invoke("run", "lenet5"))
    assert line.startswith(expected), line


def test_a_real_defect_is_still_reported_as_one(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr("cnnspec.cli.run.load_spec", fail)
    result = invoke("run", "lenet5")
    assert result.exit_code == 1
    assert result.stderr.startswith("internal error: ZeroDivisionError: division by zero; "
                                    "this is a bug in cnnspec, please report it")


def test_a_closed_pipe_ends_quietly_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")

    monkeypatch.setattr("cnnspec.cli.run.load_spec", fail)
    result = invoke("run", "lenet5")
    assert result.exit_code == 1 and result.stderr == ""


@pytest.mark.parametrize("args", [["zoo"], ["analyze", "resnet50"]])
def test_a_closed_pipe_ends_quietly(args: list[str]) -> None:
    # like `cnnspec zoo | head -1`: the reader leaves after one line
    process = subprocess.Popen([sys.executable, "-c", "from cnnspec.cli.main import main; "
                                "main()", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.readline()
    process.stdout.close()
    stderr = process.stderr.read().decode()
    process.wait(timeout=60)
    assert stderr == ""
    assert process.returncode in (0, 1)


def test_error_messages_show_control_characters_escaped(tmp_path) -> None:
    name = tmp_path / "a\x1b[2Jb.yaml"
    result = invoke("analyze", str(name))
    assert result.exit_code == 1
    assert "\x1b" not in result.stderr and "a\\x1b[2Jb.yaml" in result.stderr


HOSTILE_NAME = "$x^{2$ [/]Lee[group3] Lee [group 3] \\e[2J\\e]0;pwned\\a"


@pytest.mark.parametrize("command", [
    ["analyze"], ["validate"], ["explain"], ["run", "--batch", "2"], ["compare", "lenet5"],
    ["analyze", "-f", "csv"], ["draw", "-o", "net.png"],
])
def test_a_hostile_spec_name_is_printed_as_data(command: list[str], tmp_path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    spec = tmp_path / "spec.yaml"
    spec.write_text(f'name: "{HOSTILE_NAME}"\ninput: 8x8x1\n'
                    "architecture: Conv(3x3,4)-ReLU-FC(10)\n")
    result = invoke(command[0], str(spec), *command[1:])
    assert result.exit_code == 0, result.stderr
    data_to_a_pipe = command[0] == "explain" or "csv" in command  # data stays as written
    output = result.stderr + ("" if data_to_a_pipe else result.stdout)
    assert "\x1b" not in output and "\x07" not in output
    if not data_to_a_pipe and command[0] != "draw":
        assert "[/]Lee[group3] Lee [group 3] \\x1b[2J" in output  # whole, escaped


def test_data_on_a_terminal_shows_control_characters_escaped(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from cnnspec.cli.options import emit

    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    emit("a,\x1b[2Jb\n", None)
    monkeypatch.setattr("sys.stdout.isatty", lambda: False)
    emit("c,\x07d\n", None)
    assert capsys.readouterr().out == "a,\\x1b[2Jb\nc,\x07d\n"
