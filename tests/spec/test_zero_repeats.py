"""A repeat count that a block's arithmetic makes 0 expands to nothing; a typed 0 is an error."""

from __future__ import annotations

import pytest

import cnnspec
from cnnspec.errors import SpecError

STAGE = """
input: 8x8x4
blocks:
  stage(c, n):
    - Conv(3x3, c, p=1)
    - "[Conv(1x1, c)-ReLU] x (n-1)"
  stage_list(c, n):
    - Conv(3x3, c, p=1)
    - repeat: n-1
      layers: Conv(1x1, c)-ReLU
architecture: stage(8, 1)-stage(8, 3)-stage_list(8, 1)-stage_list(8, 2)-GAP-FC(2)
"""


def test_a_stage_of_one_block_has_no_repeated_part(tmp_path) -> None:
    path = tmp_path / "stages.yaml"
    path.write_text(STAGE)
    report = cnnspec.load(str(path)).report()
    convs = [r for r in report.leaves() if r.kind == "conv"]
    # stage(8, 1): 1 conv; stage(8, 3): 1 + 2; stage_list(8, 1): 1; stage_list(8, 2): 1 + 1
    assert len(convs) == 1 + 3 + 1 + 2
    model = cnnspec.load(str(path)).build()
    assert len([layer for layer in model.layers if layer.record.kind == "conv"]) == 7


@pytest.mark.parametrize("text", ["8x8x4 [Conv(1x1, 4)] x 0", "8x8x4 [Conv(1x1, 4)] x0",
                                  "8x8x4 [Conv(1x1, 4)] x -1"])
def test_a_typed_zero_stays_an_error(text: str) -> None:
    with pytest.raises(SpecError, match="is not allowed") as info:
        cnnspec.load(text)
    assert info.value.loc is not None and info.value.loc.column == 22  # the x


def test_a_negative_count_from_arithmetic_is_an_error(tmp_path) -> None:
    path = tmp_path / "neg.yaml"
    path.write_text("input: 8x8x4\nblocks:\n  s(n):\n    - '[ReLU] x (n-2)'\n"
                    "architecture: s(1)\n")
    with pytest.raises(SpecError, match=r"repeat count \(n-2\) = -1 is not allowed"):
        cnnspec.load(str(path))
