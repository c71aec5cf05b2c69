"""How big each volume is drawn: sides to scale in H and W, thickness by channels.

Room: consumers (render). Pure arithmetic on the report's shapes; no drawing library.

Units are drawing units (the figure maps one unit to :data:`INCH_PER_UNIT` inches).
A dimension is drawn linearly while its largest value is at most
:data:`SIDE_LOG_RATIO` (sides) or :data:`CHANNEL_LOG_RATIO` (channels) times its
smallest; beyond that a linear scale would turn the small volumes into
slivers, so it is drawn on a log2 scale, and the legend says so. FC layers
and other vectors are thin bars whose height grows with log2 of their length.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from cnnspec.analysis.records import Report

INCH_PER_UNIT = 0.55
FONT = 6.5  # points
CHAR_W = 0.58 * FONT / 72 / INCH_PER_UNIT  # average character width, in units
LINE_H = 1.3 * FONT / 72 / INCH_PER_UNIT  # text line height, in units
SIDE_LOG_RATIO = 40  # sides: 224 down to 7 (ResNet) still reads linearly
CHANNEL_LOG_RATIO = 12  # channels: 3 up to 2048 does not
MAX_SIDE, MIN_SIDE = 2.6, 0.22
MAX_THICK, MIN_THICK = 0.9, 0.06
MAX_BAR, MIN_BAR = 2.4, 0.35
BAR_W = 0.12
OBLIQUE = 0.3  # the W side is drawn receding at 45 degrees, this fraction of its length


def text_width(text: str, size: float = FONT) -> float:
    """Approximate width of ``text`` at ``size`` points, in units."""
    return len(text) * CHAR_W * size / FONT


@dataclass(frozen=True)
class Scales:
    """The scales of one drawing, fixed by the largest and smallest values it shows."""

    side_min: int
    side_max: int
    channels_min: int
    channels_max: int
    units_max: int

    @property
    def side_log(self) -> bool:
        """True when H and W are drawn on a log2 scale."""
        return self.side_max > SIDE_LOG_RATIO * self.side_min

    @property
    def channels_log(self) -> bool:
        """True when channel thickness is on a log2 scale."""
        return self.channels_max > CHANNEL_LOG_RATIO * self.channels_min

    def side(self, n: int) -> float:
        """Drawn length of a spatial side of ``n`` values."""
        if self.side_log:
            frac = math.log2(max(n, 1)) / max(math.log2(self.side_max), 1.0)
        else:
            frac = n / self.side_max
        return MIN_SIDE + (MAX_SIDE - MIN_SIDE) * frac

    def thickness(self, c: int) -> float:
        """Drawn thickness of a volume of ``c`` channels."""
        if self.channels_log:
            frac = math.log2(max(c, 1)) / max(math.log2(self.channels_max), 1.0)
        else:
            frac = c / self.channels_max
        return MIN_THICK + (MAX_THICK - MIN_THICK) * frac

    def bar(self, n: int) -> float:
        """Drawn height of a vector of ``n`` values (always log2)."""
        frac = math.log2(max(n, 2)) / max(math.log2(max(self.units_max, 2)), 1.0)
        return MIN_BAR + (MAX_BAR - MIN_BAR) * frac

    def legend(self) -> list[str]:
        """Lines saying what is drawn to scale, and how."""
        side = "a log2 scale" if self.side_log else "a linear scale"
        depth = "a log2 scale" if self.channels_log else "a linear scale"
        return [f"Volumes H x W x C: height = H and receding side = W on {side} "
                f"({self.side_min}..{self.side_max}); thickness = C on {depth} "
                f"({self.channels_min}..{self.channels_max}).",
                "Vectors (FC outputs) are bars, height ~ log2(length). Activations, batch "
                "norm, dropout and LRN (+ReLU ...) are listed under the layer they follow.",
                "Arcs: residual (+), dense (C) and gate (×, x times its gate) connections; "
                "branches into C: inception; "
                "dashed frames: blocks collapsed by --depth; p = trainable parameters."]


def scales_for(report: Report) -> Scales:
    """The scales that fit every shape of ``report``, input included."""
    shapes = [tuple(report.input), *(tuple(r.output) for r in report.layers)]
    volumes = [s for s in shapes if len(s) == 3]
    vectors = [s[0] for s in shapes if len(s) == 1]
    # 1 x 1 maps (after global pooling) are drawn at the smallest size; they do not
    # decide between a linear and a log scale
    sides = [d for s in volumes for d in s[:2] if d > 1] or [1]
    channels = [s[2] for s in volumes] or [1]
    return Scales(min(sides), max(sides), min(channels), max(channels), max(vectors or [2]))
