"""Block models: nodes that hold other nodes, making the spec a tree.

Room: spec. The ``AnyNode`` union they refer to lives in ``tree.py``.

``Sequence``, ``Residual``, ``Concat`` and ``Aux`` hold user-written layers.
``Transition`` and ``DualPath`` are fixed compositions (DenseNet, DPN) that
spell out their layers with ``expand*`` methods, so the analysis and the
engine walk the same layers; ``TableConv`` is LeNet-5's partially connected
convolution.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field, field_validator

from cnnspec.spec.layers import Node, NonNegativeInt, NonNegativePair, PositiveInt, PositivePair

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


class Transition(Node):
    """DenseNet's transition: BN-ReLU-Conv(1x1, floor(theta*C))-AvgPool(2x2, stride 2).

    ``compression`` is theta (0 < theta <= 1): a dense block ending with C channels
    is squeezed to ``floor(theta * C)`` (DenseNet-BC uses theta = 0.5). The filter
    count depends on the input, so the analysis computes it
    (``cnnspec.analysis.block_counts.transition_filters``) and :meth:`expand` then
    gives the four layers it stands for.
    """

    kind: Literal["transition"] = "transition"
    compression: float = Field(0.5, gt=0.0, le=1.0, description="theta: C -> floor(theta*C).")
    pool: PositiveInt = Field(2, description="Average-pooling window and stride.")
    bias: bool = Field(False, description="Give the 1x1 convolution a bias.")
    display: ClassVar[str] = "Transition"
    is_block: ClassVar[bool] = True

    def expand(self, filters: int) -> list[AnyNode]:
        """The layers for ``filters`` output channels: BN, ReLU, 1x1 conv, average pool."""
        from cnnspec.spec.layers import BatchNorm, Conv, Pool, ReLU

        src = self.source
        return [BatchNorm(source=src), ReLU(source=src),
                Conv(kernel=(1, 1), filters=filters, bias=self.bias, source=src),
                Pool(mode="avg", kernel=(self.pool, self.pool), stride=(self.pool, self.pool),
                     source=src, written="APool")]


class DualPath(Node):
    """DPN's dual-path block: one grouped bottleneck feeding a residual and a dense path.

    The tensor between dual-path blocks is the concatenation ``[res | dense]``:
    its first ``out`` channels are the residual path, the rest the densely
    connected path. With input ``C = out + D`` channels:

    * bottleneck (pre-activation, as the DPN code): BN-ReLU-Conv(1x1, ``width``),
      BN-ReLU-Conv(3x3, ``width``, stride, pad 1, ``groups``),
      BN-ReLU-Conv(1x1, ``out + inc``); its output is split into ``y_res``
      (``out`` channels) and ``y_dense`` (``inc`` channels);
    * without projection the input is split the same way: ``x_res`` = the first
      ``out`` channels, ``x_dense`` = the other ``D``. With projection (the first
      block of a stage, and whenever the stride is not 1) BN-ReLU-Conv(1x1,
      ``out + 2*inc``, stride) makes ``x_res`` (``out``) and ``x_dense``
      (``D = 2*inc``) from the whole input;
    * output: ``[x_res + y_res | x_dense | y_dense]``, that is
      ``out + D + inc`` channels: ``C + inc`` without projection, ``out + 3*inc``
      with it. The residual path stays ``out`` wide while the dense path grows by
      ``inc`` per block (the analysis: ``cnnspec.analysis.block_counts.dual_path_channels``).

    Analysis rows, in order: the block, the bottleneck's nine layers, the projection's
    three (when there is one), then the merge row (kind ``dual_path_merge``).
    """

    kind: Literal["dual_path"] = "dual_path"
    width: PositiveInt = Field(description="Bottleneck width (the 1x1 and grouped 3x3 convs).")
    out: PositiveInt = Field(description="Residual-path channels.")
    inc: PositiveInt = Field(description="Channels added to the dense path per block.")
    groups: PositiveInt = Field(1, description="Groups of the 3x3 convolution (cardinality).")
    stride: PositiveInt = Field(1, description="Stride of the 3x3 convolution and projection.")
    projection: bool = Field(False, description="Project the input (first block of a stage).")
    eps: float = Field(1e-3, gt=0.0, description="Batch-norm epsilon (1e-3 in the DPN code).")
    display: ClassVar[str] = "DualPath"
    is_block: ClassVar[bool] = True

    def _bn_relu_conv(self, kernel: int, filters: int, stride: int = 1, padding: int = 0,
                      groups: int = 1) -> list[AnyNode]:
        from cnnspec.spec.layers import BatchNorm, Conv, ReLU

        src = self.source
        return [BatchNorm(eps=self.eps, source=src), ReLU(source=src),
                Conv(kernel=(kernel, kernel), filters=filters, stride=(stride, stride),
                     padding=(padding, padding), groups=groups, bias=False, source=src)]

    def expand_body(self) -> list[AnyNode]:
        """The grouped bottleneck: three BN-ReLU-Conv triples ending in ``out + inc``."""
        return [*self._bn_relu_conv(1, self.width),
                *self._bn_relu_conv(3, self.width, self.stride, 1, self.groups),
                *self._bn_relu_conv(1, self.out + self.inc)]

    def expand_projection(self) -> list[AnyNode]:
        """BN-ReLU-Conv(1x1, ``out + 2*inc``, stride), or ``[]`` without projection."""
        if not self.projection:
            return []
        return self._bn_relu_conv(1, self.out + 2 * self.inc, self.stride)


class TableConv(Node):
    """A convolution whose filters each read a chosen set of input channels.

    LeNet-5's C3 (LeCun et al. 1998, Table I): ``connections[k]`` lists the input
    channels (0-based) filter ``k`` sees, so filter ``k`` has
    ``FH * FW * len(connections[k])`` weights (+1 bias) and the layer has
    ``len(connections)`` filters. A full table is an ordinary convolution.
    """

    kind: Literal["table_conv"] = "table_conv"
    kernel: PositivePair = Field(description="Filter size FH x FW.")
    connections: list[list[NonNegativeInt]] = Field(
        min_length=1, description="Per filter, the input channels it reads.")
    stride: PositivePair = Field((1, 1), description="Stride S (or SH x SW).")
    padding: NonNegativePair = Field((0, 0), description="Zero padding P on each side.")
    bias: bool | None = Field(None, description="Count a bias per filter (default: conventions).")
    display: ClassVar[str] = "TableConv"

    @field_validator("connections")
    @classmethod
    def _each_filter_reads_something(cls, table: list[list[int]]) -> list[list[int]]:
        for k, channels in enumerate(table):
            if not channels:
                raise ValueError(f"filter {k} reads no input channel")
            if len(set(channels)) != len(channels):
                raise ValueError(f"filter {k} lists an input channel twice")
        return table

    @property
    def filters(self) -> int:
        """The number of filters K (output depth): one per row of the table."""
        return len(self.connections)


BLOCK_MODELS = (Sequence, Residual, Concat, Aux, Transition, DualPath, TableConv)
