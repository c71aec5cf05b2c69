"""Counting conventions: the choices that make two sources disagree about one network.

Room: shared (read by spec, analysis and every consumer); imports only pydantic.

A :class:`Conventions` value is passed into the analysis and echoed in every
report, so a number never appears without the rules that produced it.
"""

from __future__ import annotations

from enum import Enum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Rounding(str, Enum):
    """What to do when ``(N + 2P - D(F-1) - 1)/S + 1`` is not a whole number."""

    STRICT = "strict"  # an error: the stride does not fit (lecture notes 001/003)
    FLOOR = "floor"  # drop the last partial window (PyTorch, the AlexNet table)
    CEIL = "ceil"  # keep a last partial window (Caffe's pooling)


DTYPE_BYTES: dict[str, int] = {"float64": 8, "float32": 4, "float16": 2, "bfloat16": 2, "int8": 1}

MacCount = Literal["weights", "torchinfo"]
MAC_COUNTS: tuple[str, ...] = ("weights", "torchinfo")

PRESET_NAMES = ("default", "lecture", "pytorch", "caffe", "keras")


class Conventions(BaseModel):
    """The rules in force for one analysis.

    ``pool_rounding`` of ``None`` means "same as ``rounding``".
    """

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    preset: str = Field("default", description="The named preset these values started from.")
    rounding: Rounding = Field(Rounding.STRICT, description="Output-size rounding for conv.")
    pool_rounding: Rounding | None = Field(None, description="Rounding for pooling layers.")
    conv_bias: bool = Field(True, description="Conv layers count one bias per filter.")
    fc_bias: bool = Field(True, description="Fully connected layers count one bias per unit.")
    count_input_nodes: bool = Field(False, description="Add the input volume to the node total.")
    dtype: Literal["float64", "float32", "float16", "bfloat16", "int8"] = Field(
        "float32", description="Storage type of weights and activations."
    )
    macs: MacCount = Field(
        "weights", description="What a MAC counts: 'weights' (multiply-accumulates of conv "
        "and FC weights) or 'torchinfo' (its total_mult_adds: every parameter once per output "
        "position of a convolution, once for any other layer).")

    @property
    def bytes_per_value(self) -> int:
        """Bytes of one stored number in ``dtype``."""
        return DTYPE_BYTES[self.dtype]

    def rounding_for(self, kind: str) -> Rounding:
        """The rounding rule for a layer kind (pooling may differ, as in Caffe)."""
        if kind == "pool" and self.pool_rounding is not None:
            return self.pool_rounding
        return self.rounding

    def describe(self) -> str:
        """One line naming every rule, for report headers."""
        pool = self.pool_rounding.value if self.pool_rounding else self.rounding.value
        return (
            f"conventions: {self.preset} (rounding: conv {self.rounding.value}, pool {pool}; "
            f"conv bias {'on' if self.conv_bias else 'off'}, "
            f"FC bias {'on' if self.fc_bias else 'off'}; "
            f"input nodes {'counted' if self.count_input_nodes else 'not counted'}; "
            f"{self.dtype}, {self.bytes_per_value} B/value"
            + ("; MACs: torchinfo's total_mult_adds" if self.macs == "torchinfo" else "")
            + ")"
        )


_PRESETS: dict[str, dict[str, object]] = {
    # strict sizes, biases everywhere
    "default": {},
    # the AlexNet table of the lecture: floor, FC rows without bias, input nodes excluded
    "lecture": {"rounding": Rounding.FLOOR, "fc_bias": False},
    # torch.nn: floor everywhere (ceil_mode=False), biases on
    "pytorch": {"rounding": Rounding.FLOOR},
    # Caffe: floor for convolution, ceil for pooling
    "caffe": {"rounding": Rounding.FLOOR, "pool_rounding": Rounding.CEIL},
    # Keras 'valid' padding floors as PyTorch does; biases on
    "keras": {"rounding": Rounding.FLOOR},
}


def preset(name: str, **overrides: object) -> Conventions:
    """The named preset, with any field overridden.

    Raises ``KeyError`` for an unknown name; callers turn it into a located error.
    """
    key = name.lower()
    values = dict(_PRESETS[key])
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Conventions(preset=key, **values)  # type: ignore[arg-type]
