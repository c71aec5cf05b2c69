"""`cnnspec draw`: what the picture holds, and that it is written."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

import cnnspec
from cnnspec.cli.main import cli
from cnnspec.errors import CnnspecError
from cnnspec.render.draw_atoms import AuxHead, Box, Branches, Skip
from cnnspec.render.draw_layout import Stream, expand
from cnnspec.render.draw_scale import scales_for
from cnnspec.render.draw_tree import build_tree

pytest.importorskip("matplotlib")
from cnnspec.render.draw import auto_depth, draw_network


def pieces(name: str, depth: int | None = None) -> Stream:
    report = cnnspec.load(name).report()
    stream = Stream(scales_for(report))
    expand(build_tree(report, depth), stream, True)
    return stream


def test_lenet_boxes_and_their_labels() -> None:
    stream = pieces("lenet5")
    boxes = [p for p in stream.pieces if isinstance(p, Box)]
    assert [b.title for b in boxes] == ["Conv:1", "MPool:1", "Conv:2", "MPool:2", "FC:1",
                                        "FC:2", "FC:3"]
    assert boxes[0].shape == (28, 28, 6) and boxes[0].tags == ["ReLU"] and boxes[0].params == 156
    assert boxes[-1].tags == ["SM"]
    assert ("28×28×6", "shape") in boxes[0].lines()


def test_boxes_are_drawn_to_scale() -> None:
    scales = scales_for(cnnspec.load("lenet5").report())
    assert not scales.side_log and scales.channels_log  # 5..32 linear; 1..16 channels: log
    assert scales.side(28) / scales.side(14) == pytest.approx(1.7, rel=0.1)
    assert scales.thickness(16) > scales.thickness(6) > scales.thickness(1)
    assert "linear scale (5..32)" in scales.legend()[0]
    vgg = scales_for(cnnspec.load("vgg16").report())  # 224 down to 7: still linear
    assert vgg.side_log is False and vgg.side(224) == pytest.approx(2.6)


def test_resnet_blocks_are_residual_arcs() -> None:
    skips = [p for p in pieces("resnet50").pieces if isinstance(p, Skip)]
    assert len(skips) == 16 and {s.join for s in skips} == {"+"}
    assert skips[0].skip_text == "Conv:5 + BN:5" and skips[1].skip_text == "identity"
    assert skips[0].title == "bottleneck_proj(64, 1)" and skips[0].after == ["ReLU"]
    assert len(skips[0].body.pieces) == 3


def test_inception_dense_and_dual_path_blocks() -> None:
    google = pieces("googlenet").pieces
    assert sum(isinstance(p, Branches) for p in google) == 9
    assert [p.title for p in google if isinstance(p, AuxHead)] == ["aux_head:aux1",
                                                                   "aux_head:aux2"]
    dense = [p for p in pieces("densenet121").pieces if isinstance(p, Skip)]
    assert len(dense) == 58 and {s.join for s in dense} == {"C"}
    assert dense[0].out_text == "56×56×96"
    dual = [p for p in pieces("dpn68").pieces if isinstance(p, Skip)]
    assert {s.join for s in dual} == {"+C"} and dual[0].skip_text == "projection Conv:5"


def test_depth_collapses_blocks_into_framed_boxes() -> None:
    stream = pieces("resnet50", depth=1)
    framed = [p for p in stream.pieces if isinstance(p, Box) and p.framed]
    assert [b.title for b in framed][:2] == ["bottleneck_proj(64, 1)", "Group:1 x2"]
    assert framed[0].params == 75_008
    assert [g.title for g in stream.groups] == ["stage(64, 3, stride=1)", "stage(128, 4)",
                                               "stage(256, 6)", "stage(512, 3)"]


def test_auto_depth_keeps_small_networks_whole() -> None:
    assert auto_depth(cnnspec.load("resnet152").report()) is None
    assert build_tree(cnnspec.load("lenet5").report()).count_boxes() == 7


@pytest.mark.parametrize(("name", "suffix"), [("lenet5", "png"), ("alexnet", "svg"),
                                               ("resnet50", "png")])
def test_files_are_written(name: str, suffix: str, tmp_path) -> None:
    path = tmp_path / f"{name}.{suffix}"
    draw_network(cnnspec.load(name).report(), path, dpi=60)
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG") if suffix == "png" else b"<svg" in data[:500]
    if suffix == "svg":
        assert b"Conv:5" in data and b"13\xc3\x9713\xc3\x97256" in data  # 13×13×256


def test_unknown_picture_format(tmp_path) -> None:
    with pytest.raises(CnnspecError, match=r"cannot draw to 'net\.gif'"):
        draw_network(cnnspec.load("lenet5").report(), tmp_path / "net.gif")


def test_draw_command(tmp_path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["draw", "resnet18", "-o", str(tmp_path / "r.png"), "-d", "1",
                                 "--dpi", "50"])
    assert result.exit_code == 0
    assert "blocks below depth 1 as single boxes" in result.stderr
    result = runner.invoke(cli, ["draw", "lenet5", "-o", str(tmp_path / "x.bmp")])
    assert result.exit_code == 1 and "name the file .png, .svg or .pdf" in result.stderr


def _all_skips(chain_pieces: list) -> list[Skip]:
    """Every Skip, those inside other blocks' bodies included."""
    found = []
    for piece in chain_pieces:
        if isinstance(piece, Skip):
            found.append(piece)
            found += _all_skips(piece.body.pieces)
    return found


def test_gates_are_arcs_into_a_product() -> None:
    """EfficientNet-B0's 16 squeeze-and-excitation gates: x carried round to x * g(x)."""
    skips = _all_skips(pieces("efficientnet_b0").pieces)
    gates = [s for s in skips if s.join == "×"]
    assert len(gates) == 16 and gates[0].skip_text == "identity (multiplied)"
    assert gates[0].title == "se(32, 8)"
    assert [len(g.body.pieces) for g in gates[:1]] == [4]  # GAP, Conv, SiLU, Conv (+Sigmoid)
    assert sum(s.join == "+" for s in skips) == 9  # the residual MBConv blocks
