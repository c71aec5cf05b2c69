"""`cnnspec export`, `schema` and `import` as a user runs them."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from click.testing import CliRunner

import cnnspec
from cnnspec.cli.main import cli

from .helpers import DATA


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("command", ["export", "schema", "import", "draw"])
def test_help_has_examples(command: str) -> None:
    code, out, _ = run(command, "--help")
    assert code == 0 and "Examples:" in out


def test_pytorch_code_goes_to_stdout() -> None:
    code, out, err = run("export", "lenet5", "--to", "pytorch")
    assert code == 0 and err == ""
    assert out.startswith('"""Lenet5: the cnnspec spec \'lenet5\' as a PyTorch module.')
    compile(out, "lenet5.py", "exec")


def test_schema_to_a_file(tmp_path) -> None:
    code, _, err = run("schema", "-o", str(tmp_path / "s.json"))
    assert code == 0 and "wrote" in err
    assert json.loads((tmp_path / "s.json").read_text())["required"] == ["architecture"]


def test_onnx_needs_an_output_file() -> None:
    code, _, err = run("export", "lenet5", "--to", "onnx")
    assert code == 2 and "give -o FILE.onnx" in err


def test_onnx_without_the_package_says_what_to_install(monkeypatch, tmp_path) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now raises ImportError
    code, _, err = run("export", "lenet5", "--to", "onnx", "-o", str(tmp_path / "m.onnx"))
    assert code == 1
    assert err.strip() == ("error: exporting to or importing from ONNX needs the onnx package; "
                           "install the extra: pip install 'cnnspec[onnx]'")
    assert not (tmp_path / "m.onnx").exists()
    code, _, err = run("import", str(tmp_path / "m.onnx"))
    assert code == 1 and "no such file" in err  # the path is checked first
    (tmp_path / "m.onnx").write_bytes(b"\x08\x07")
    code, _, err = run("import", str(tmp_path / "m.onnx"))
    assert code == 1 and "pip install 'cnnspec[onnx]'" in err


def test_onnx_export_and_import(tmp_path) -> None:
    pytest.importorskip("onnx")
    model = tmp_path / "r18.onnx"
    code, _, err = run("export", "resnet18", "--to", "onnx", "-o", str(model), "--seed", "2")
    assert code == 0 and "random He-init weights (seed 2)" in err
    code, out, err = run("import", str(model), "--name", "r18-back")
    assert code == 0 and "name: r18-back" in out
    assert "r18-back: 11,689,512 trainable parameters, output 1000" in err


def test_import_needs_one_source() -> None:
    assert run("import")[0] == 2
    code, _, err = run("import", "x.onnx", "--from-torch", "m.py:Net")
    assert code == 2 and "either" in err
    code, _, err = run("import", "--from-torch", f"{DATA / 'handwritten_net.py'}:SmallNet")
    assert code == 2 and "--input" in err


def test_import_errors_are_one_line(tmp_path) -> None:
    code, _, err = run("import", str(tmp_path / "none.onnx"))
    assert code == 1 and err.count("\n") == 1 and "no such file" in err
    pytest.importorskip("torch")
    code, _, err = run("import", "--from-torch", f"{DATA / 'handwritten_net.py'}:WithSelu",
                       "-i", "8x8x3")
    assert code == 1 and err.count("\n") == 1 and "no layer for SELU" in err
    assert "Traceback" not in err


def test_import_from_torch_writes_a_spec(tmp_path) -> None:
    pytest.importorskip("torch")
    out_file = tmp_path / "small.yaml"
    code, _, err = run("import", "--from-torch", f"{DATA / 'handwritten_net.py'}:SmallNet",
                       "-i", "32x32x3", "-o", str(out_file))
    assert code == 0 and f"wrote {out_file}" in err
    assert cnnspec.load(str(out_file)).report().totals.trainable_params > 0


def test_weights_become_a_state_dict_with_the_engines_outputs(tmp_path) -> None:
    torch = pytest.importorskip("torch")
    spec = cnnspec.load("lenet5")
    engine = spec.build(seed=5)
    checkpoint = tmp_path / "best.npz"
    engine.save(str(checkpoint))
    code, _, err = run("export", "lenet5", "--to", "pytorch", "-o", str(tmp_path / "net.py"),
                       "--weights", str(checkpoint))
    assert code == 0 and f"wrote {tmp_path / 'net.pt'}" in err
    namespace: dict = {}
    exec(compile((tmp_path / "net.py").read_text(), "net.py", "exec"), namespace)
    model = namespace["Model"]().eval()
    model.load_state_dict(torch.load(tmp_path / "net.pt"))
    x = np.random.default_rng(1).uniform(0, 1, (2, 1, 32, 32)).astype(np.float32)
    with torch.no_grad():
        np.testing.assert_allclose(model(torch.from_numpy(x)).numpy(), engine.forward(x),
                                   rtol=1e-5, atol=1e-6)


def test_onnx_with_weights_matches_the_engine(tmp_path) -> None:
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    engine = cnnspec.load("lenet5").build(seed=6)
    engine.save(str(tmp_path / "w.npz"))
    code, _, err = run("export", "lenet5", "--to", "onnx", "-o", str(tmp_path / "m.onnx"),
                       "--weights", str(tmp_path / "w.npz"))
    assert code == 0 and "weights from" in err
    x = np.random.default_rng(2).uniform(0, 1, (2, 1, 32, 32)).astype(np.float32)
    ours = ort.InferenceSession(str(tmp_path / "m.onnx")).run(None, {"input": x})[0]
    np.testing.assert_allclose(ours, engine.forward(x), rtol=1e-5, atol=1e-6)


def test_weights_of_another_spec_are_refused(tmp_path) -> None:
    cnnspec.load("lenet5").build(seed=0).save(str(tmp_path / "l5.npz"))
    code, _, err = run("export", "cifar10-cs231n", "--to", "pytorch",
                       "--weights", str(tmp_path / "l5.npz"))
    assert code == 1 and err.count("\n") == 1
    assert "l5.npz: error: checkpoint array" in err or "the checkpoint" in err
