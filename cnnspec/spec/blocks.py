"""Block models: nodes that hold other nodes, making the spec a tree.

Room: spec. The ``AnyNode`` union they refer to lives in ``tree.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field

from cnnspec.spec.layers import Node, PositiveInt

if TYPE_CHECKING:
    from cnnspec.spec.tree import AnyNode


class Sequence(Node):
    """Layers in order, the whole run repeated ``repeat`` times (``[ ... ] x 3``)."""

    kind: Literal["sequence"] = "sequence"
    layers: list[AnyNode] = Field(default_factory=list, description="The layers, in order.")
    repeat: PositiveInt = Field(1, description="How many times the run is repeated.")
    display: ClassVar[str] = "Group"
    is_block: ClassVar[bool] = True


class Residual(Node):
    """``y = F(x) + shortcut(x)``; an empty shortcut is the identity."""

    kind: Literal["residual"] = "residual"
    body: list[AnyNode] = Field(default_factory=list, description="F, the residual branch.")
    shortcut: list[AnyNode] = Field(
        default_factory=list, description="Projection on the skip path (empty: identity)."
    )
    display: ClassVar[str] = "Residual"
    is_block: ClassVar[bool] = True


class Concat(Node):
    """Parallel branches on one input, concatenated on channels (inception).

    An empty branch passes the input through, so ``[[], [BN, ReLU, Conv]]`` is
    DenseNet's ``x_{l+1} = [x_l, H(x_l)]``.
    """

    kind: Literal["concat"] = "concat"
    branches: list[list[AnyNode]] = Field(
        default_factory=list, description="Sub-networks run on the same input."
    )
    display: ClassVar[str] = "Concat"
    is_block: ClassVar[bool] = True


class Aux(Node):
    """An auxiliary classifier head: reads the current tensor, feeds nothing forward."""

    kind: Literal["aux"] = "aux"
    layers: list[AnyNode] = Field(default_factory=list, description="The head's layers.")
    display: ClassVar[str] = "AuxHead"
    is_block: ClassVar[bool] = True


BLOCK_MODELS = (Sequence, Residual, Concat, Aux)
