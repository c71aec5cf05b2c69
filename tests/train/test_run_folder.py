"""The run folder: checked before the first batch, one run's files only, true messages."""

from __future__ import annotations

import errno
from collections import namedtuple
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from cnnspec.cli.main import cli
from cnnspec.engine.train import DataChoice, TrainCallback, TrainConfig, train
from cnnspec.engine.train.run_folder import RUN_FILES, checkpoint_bytes
from cnnspec.errors import TrainingError
from tests.train.conftest import TINY, tiny

FAST = ["--batch", "32", "--augment", "0", "-q"]


def invoke(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args])


def train_args(out: Path, data: str, *extra: object) -> list[object]:
    return ["train", TINY, "--input", "8x8x1", "--data", data, "--out", out, *FAST, *extra]


def test_a_read_only_folder_is_refused_before_training(tmp_path: Path, data_spec: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    def read_only(*args: Any, **kwargs: Any) -> Any:
        raise OSError(errno.EROFS, "Read-only file system", str(tmp_path / "ro" / ".probe"))

    monkeypatch.setattr("cnnspec.engine.train.run_folder.tempfile.mkstemp", read_only)
    started = []
    monkeypatch.setattr("cnnspec.engine.train.loop.Trainer.fit",
                        lambda self: started.append(1))
    result = invoke(*train_args(tmp_path / "ro", data_spec, "--epochs", 1))
    assert result.exit_code == 1 and not started
    assert result.stderr.strip() == (f"error: cannot write the run folder {tmp_path / 'ro'}: "
                                     "the file system is read-only; choose another folder "
                                     "with --out")


def test_a_full_disk_is_refused_before_training(tmp_path: Path, data_spec: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr("cnnspec.engine.train.run_folder.shutil.disk_usage",
                        lambda path: usage(10**6, 10**6 - 4096, 4096))
    result = invoke(*train_args(tmp_path / "full", data_spec, "--epochs", 1))
    assert result.exit_code == 1
    # adam: last = 810 * 4 * 3 B, best = 810 * 4 B; 2 * 9,720 + 3,240 + 262,144 B
    assert result.stderr.strip() == (f"error: the disk holding {tmp_path / 'full'} has 4.0 KiB "
                                     "free, but the run's checkpoints need about 278.1 KiB; "
                                     "free some space or choose another folder with --out")
    assert not any((tmp_path / "full" / name).exists() for name in RUN_FILES)


def test_checkpoint_bytes() -> None:
    assert checkpoint_bytes({"parameters": 100, "optimizer_state": 200, "gradients": 7}) \
        == 2 * 300 + 100 + 2**18


def test_overwrite_then_nan_leaves_no_file_of_the_old_run(tmp_path: Path,
                                                          data_spec: str) -> None:
    out = tmp_path / "run"
    assert invoke(*train_args(out, data_spec, "--epochs", 1)).exit_code == 0
    assert {p.name for p in out.iterdir()} == set(RUN_FILES)
    (out / "notes.txt").write_text("mine")
    result = invoke(*train_args(out, data_spec, "--epochs", 1, "--overwrite", "--lr", "1e12",
                                "--optimizer", "sgd", "--no-normalize"))
    assert result.exit_code == 1
    assert "training stopped at epoch 1" in result.stderr
    assert result.stderr.strip().endswith("no checkpoint was written (the run stopped in its "
                                          "first epoch)")
    assert {p.name for p in out.iterdir()} == {"notes.txt"}  # the user's file stays


class PoisonAfterFirstEpoch(TrainCallback):
    """Makes every weight NaN when epoch 1 ends, so epoch 2 stops on its first batch."""

    def __init__(self) -> None:
        self.model: Any = None

    def on_epoch_end(self, row: Any, improved: bool) -> None:
        if row.epoch == 1:
            for value in self.model.params.values():
                value[...] = np.nan


def test_after_nan_the_message_says_what_last_npz_holds(tmp_path: Path, digits_file: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    poison = PoisonAfterFirstEpoch()
    from cnnspec.engine.train import session

    build = session.build

    def keep(*args: Any, **kwargs: Any) -> Any:
        poison.model = build(*args, **kwargs)
        return poison.model

    monkeypatch.setattr(session, "build", keep)
    out = tmp_path / "run"
    with pytest.raises(TrainingError) as info:
        train(tiny().network, TrainConfig(epochs=3, batch=32, augment=0),
              data=DataChoice(f"npz:{digits_file}"), out_dir=out, callback=poison)
    assert info.value.message.startswith("training stopped at epoch 2, batch 1")
    assert info.value.hint.endswith(f"{out / 'last.npz'} holds the weights after epoch 1")


def test_a_spec_name_cannot_lead_train_out_of_runs(tmp_path: Path, data_spec: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    spec = work / "spec.yaml"
    spec.write_text('name: "../../escaped"\ninput: 8x8x1\narchitecture: ' + TINY + "\n")
    result = invoke("train", spec, "--data", data_spec, "--epochs", 1, *FAST)
    assert result.exit_code == 0, result.stderr
    assert (work / "runs" / "escaped" / "best.npz").is_file()
    assert not (tmp_path / "escaped").exists()


def test_a_spec_name_with_dollars_and_brackets_trains_and_plots(tmp_path: Path,
                                                                data_spec: str) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text('name: "$x^{2$ [/]Lee[group3] \\e[2J"\ninput: 8x8x1\narchitecture: '
                    + TINY + "\n")
    out = tmp_path / "run"
    result = invoke("train", spec, "--data", data_spec, "--epochs", 1, "--out", out,
                    "--batch", "32", "--augment", "0")
    assert result.exit_code == 0, result.stderr
    assert "$x^{2$ [/]Lee[group3] \\x1b[2J: " in result.stderr
    assert "\x1b" not in result.stderr
    assert (out / "curves.png").stat().st_size > 0


def test_an_out_that_is_a_file_is_refused(tmp_path: Path) -> None:
    from cnnspec.engine.train.run_folder import check_run_folder

    out = tmp_path / "taken"
    out.write_text("not a folder")  # (the CLI's --out already refuses it as a usage error)
    with pytest.raises(TrainingError) as info:
        check_run_folder(out, 0)
    assert info.value.message == f"{out} is a file, not a folder"
    assert out.read_text() == "not a folder"
