"""`import --from-torch`: PyTorch modules read back into specs."""

from __future__ import annotations

import pytest

import cnnspec
from cnnspec.errors import ExportError
from cnnspec.export.torch_code import generate_torch

from .helpers import DATA, FIXTURES

torch = pytest.importorskip("torch")
from cnnspec.export.torch_import import load_module, read_torch  # noqa: E402

HANDWRITTEN = DATA / "handwritten_net.py"


@pytest.mark.parametrize("name", ["lenet5", "resnet18", "googlenet", "dpn68", "lenet5-1998",
                                  *FIXTURES])
def test_exported_modules_read_back_to_the_same_network(name: str, tmp_path) -> None:
    spec = cnnspec.load(name)
    report = spec.report(include_aux=True)
    path = tmp_path / "model.py"
    path.write_text(generate_torch(spec.network, report))
    imported = read_torch(f"{path}:Model", report.input)
    back = imported.report  # analysed with the auxiliary heads, as the module holds them
    assert back.totals.trainable_params == report.totals.trainable_params
    assert back.totals.non_trainable_params == report.totals.non_trainable_params
    assert back.leaves()[-1].output == report.leaves()[-1].output


def test_a_handwritten_module() -> None:
    imported = read_torch(f"{HANDWRITTEN}:SmallNet", (32, 32, 3), "small")
    module = imported.report
    params = sum(p.numel() for p in load_module(f"{HANDWRITTEN}:SmallNet").parameters())
    assert module.totals.trainable_params == params == imported.source_params
    text = imported.text
    assert "- residual:" in text and "shortcut: Conv(1x1, 32, s=2, bias=false)-BN" in text
    assert "- concat:" in text and "Conv(1x1, 8)-ReLU-Conv(3x3, 8, p=1)" in text
    assert "Dropout(0.25)" in text and text.rstrip().endswith("- FC(10)")
    assert module.leaves()[-1].output == (10,)


def test_a_factory_function_is_called() -> None:
    imported = read_torch(f"{HANDWRITTEN}:small_net", (32, 32, 3))
    assert imported.report.name == "smallnet"


def test_unknown_layers_and_targets_are_errors() -> None:
    with pytest.raises(ExportError, match="no layer for SELU"):
        read_torch(f"{HANDWRITTEN}:WithSelu", (8, 8, 3))
    with pytest.raises(ExportError, match="has no attribute 'Nope'"):
        read_torch(f"{HANDWRITTEN}:Nope", (8, 8, 3))
    with pytest.raises(ExportError, match="does not name a module attribute"):
        read_torch("just_a_name", (8, 8, 3))
    with pytest.raises(ExportError, match="cannot import 'no_such_package_xyz'"):
        read_torch("no_such_package_xyz:Net", (8, 8, 3))
    with pytest.raises(ExportError, match="H x W x C"):
        read_torch(f"{HANDWRITTEN}:SmallNet", (784,))
