"""The bridge as documented: `cnnspec train`, then `cnnspec export --weights`, then PyTorch.

A checkpoint loads into the exported module through the exported loader as
``load_cnnspec_state(model, np.load("best.npz"))`` and through the state dict with a
strict ``model.load_state_dict``, auxiliary heads included; outputs match the engine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from cnnspec.api import load
from cnnspec.cli.main import cli
from cnnspec.engine.checkpoint import load_checkpoint
from tests.train.conftest import digits_npz

torch = pytest.importorskip("torch")

AUX_SPEC = Path(__file__).parents[1] / "engine" / "aux_head.yaml"


def run(*args: Any) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def digits(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return digits_npz(tmp_path_factory.mktemp("data") / "digits.npz", train=200, test=50)


def train_and_export(tmp: Path, digits: Path, *spec: str) -> tuple[Path, dict[str, Any]]:
    """Train one epoch, export with the weights; the run folder and the module's namespace."""
    out = tmp / "run"
    code, stdout, err = run("train", *spec, "--data", f"npz:{digits}", "--epochs", 1,
                            "--batch", 32, "--augment", 0, "--out", out, "-q")
    assert code == 0, err
    assert stdout.strip() == str(out / "best.npz")
    code, _, err = run("export", *spec, "--to", "pytorch", "-o", tmp / "net.py",
                       "--weights", out / "best.npz")
    assert code == 0, err
    namespace: dict[str, Any] = {}
    exec(compile((tmp / "net.py").read_text(), "net.py", "exec"), namespace)
    return out, namespace


def digits_batch(digits: Path) -> np.ndarray:
    with np.load(digits) as data:
        return data["x_test"][:8, None].astype(np.float32)  # (8, 1, 8, 8)


def test_a_trained_checkpoint_loads_with_the_exported_loader(tmp_path: Path,
                                                             digits: Path) -> None:
    out, ns = train_and_export(tmp_path, digits, "Conv(3x3,6,p=1)-ReLU-MPool(2)-FC(10)-SM",
                               "--input", "8x8x1")
    with np.load(out / "best.npz") as arrays:  # exactly as the docs write it
        assert {"meta/spec", "meta/info", "param/Conv:1.weight"} <= set(arrays.files)
        model = ns["Model"]().eval()
        ns["load_cnnspec_state"](model, arrays)
    with np.load(out / "last.npz") as arrays:  # optimiser state is skipped too
        assert any(k.startswith("optim/") for k in arrays.files)
        ns["load_cnnspec_state"](ns["Model"]().eval(), arrays)
    engine = load_checkpoint(out / "best.npz").build()
    x = digits_batch(digits)
    with torch.no_grad():
        ours = model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours, engine.forward(x), atol=1e-5)
    assert np.abs(ours - engine.forward(x)).max() < 1e-5
    strict = ns["Model"]().eval()
    strict.load_state_dict(torch.load(tmp_path / "net.pt"))
    with torch.no_grad():
        np.testing.assert_allclose(strict(torch.from_numpy(x)).numpy(), ours, atol=1e-6)


def test_auxiliary_heads_are_trained_exported_and_loaded_strictly(tmp_path: Path,
                                                                  digits: Path) -> None:
    out, ns = train_and_export(tmp_path, digits, str(AUX_SPEC))
    checkpoint = load_checkpoint(out / "best.npz")
    assert {"Conv:2.weight", "FC:1.weight"} <= set(checkpoint.state)
    engine = checkpoint.build()
    untrained = load(str(AUX_SPEC)).build(seed=0)  # the head learned: its weights moved
    assert not np.allclose(untrained.params["FC:1.weight"], engine.params["FC:1.weight"])
    model = ns["Model"]()
    model.load_state_dict(torch.load(tmp_path / "net.pt"))  # strict: every key, heads too
    with np.load(out / "best.npz") as arrays:
        ns["load_cnnspec_state"](model, arrays)
    x = digits_batch(digits)
    with torch.no_grad():
        ours = model.eval()(torch.from_numpy(x)).numpy()
        np.testing.assert_allclose(ours, engine.forward(x), atol=1e-5)
        _, aux = model.train()(torch.from_numpy(x))  # no dropout or batch norm in this head
    engine.forward(x, training=True)
    head = engine.aux_heads[0]
    assert head.z is not None
    np.testing.assert_allclose(aux[0].numpy(), head.z, atol=1e-5)


def test_train_takes_the_aux_weight(tmp_path: Path, digits: Path) -> None:
    out = tmp_path / "run"
    code, _, err = run("train", str(AUX_SPEC), "--data", f"npz:{digits}", "--epochs", 1,
                       "--batch", 32, "--augment", 0, "--aux-weight", 0, "--out", out, "-q")
    assert code == 0, err
    checkpoint = load_checkpoint(out / "best.npz")
    assert checkpoint.info["config"]["aux_weight"] == 0.0
    untrained = load(str(AUX_SPEC)).build(seed=0)
    np.testing.assert_array_equal(checkpoint.state["FC:1.weight"],
                                  untrained.params["FC:1.weight"])
