"""Gates and channel operations: the pieces of SE, MobileNetV3, EfficientNet and ShuffleNetV2.

Room: spec. ``Gate`` holds user-written layers (its ``body``), like ``Residual``;
``Split`` and ``Shuffle`` are layers. The ``AnyNode`` union lives in ``tree.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field, model_validator

from cnnspec.spec.layers import Node, PositiveInt

if TYPE_CHECKING:
    from cnnspec.spec.tree import AnyNode


class Gate(Node):
    """``y = x * g(x)``: the input multiplied by what its ``body`` computes from it.

    ``g(x)`` is a per-channel vector ``1 x 1 x C`` (broadcast over H x W, as in
    squeeze-and-excitation), a same-shape map ``H x W x C``, or a spatial map
    ``H x W x 1`` (broadcast over the channels).
    """

    kind: Literal["gate"] = "gate"
    body: list[AnyNode] = Field(default_factory=list,
                                description="The branch g whose output multiplies the input.")
    display: ClassVar[str] = "Gate"
    is_block: ClassVar[bool] = True


class Split(Node):
    """Take some of the input's channels: ``part`` of ``of`` equal parts, or ``start:stop``.

    ``Split(1, 2)`` is the first half, ``Split(2, 2)`` the second (ShuffleNetV2);
    ``Split(start=0, stop=24)`` the channels 0 to 23. Channels are numbered from 0.
    """

    kind: Literal["split"] = "split"
    part: PositiveInt | None = Field(None, description="Which equal part, from 1.")
    of: PositiveInt | None = Field(None, description="Into how many equal parts.")
    start: int | None = Field(None, ge=0, description="First channel of a range (from 0).")
    stop: PositiveInt | None = Field(None, description="One past the range's last channel.")
    display: ClassVar[str] = "Split"

    @model_validator(mode="after")
    def _one_way_of_choosing(self) -> Split:
        parts = (self.part, self.of)
        bounds = (self.start, self.stop)
        if None not in parts and bounds == (None, None):
            if self.part > self.of:  # type: ignore[operator]
                raise ValueError(f"part {self.part} of {self.of} does not exist: parts "
                                 f"are numbered 1 to {self.of}")
            return self
        if parts == (None, None) and self.stop is not None:
            if (self.start or 0) >= self.stop:
                raise ValueError(f"the range {self.start or 0}:{self.stop} holds no channel")
            return self
        raise ValueError("give either part and of (Split(1, 2): the first half) or a range "
                         "start and stop (Split(start=0, stop=24))")

    def channel_range(self, c: int) -> tuple[int, int] | None:
        """``(start, stop)`` of the channels taken from ``c``, or ``None`` if they do not fit."""
        if self.of is not None and self.part is not None:
            if c % self.of:
                return None
            size = c // self.of
            return (self.part - 1) * size, self.part * size
        start = self.start or 0
        assert self.stop is not None
        return (start, self.stop) if self.stop <= c else None


class Shuffle(Node):
    """Channel shuffle (ShuffleNet): ``C = g * n`` channels read as ``g x n``, transposed.

    Output channel ``i * g + j`` is input channel ``j * n + i``.
    """

    kind: Literal["shuffle"] = "shuffle"
    groups: PositiveInt = Field(2, description="g, the number of groups to interleave.")
    display: ClassVar[str] = "Shuffle"


CHANNEL_MODELS = (Gate, Split, Shuffle)
