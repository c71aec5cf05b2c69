"""Layer models: one pydantic model per layer kind, tagged by ``kind``.

Room: spec; imports pydantic, ``cnnspec.errors``, ``cnnspec.conventions`` and the spec's limits.

Sizes a user has not given yet are ``None``: the structure is still valid
(``cnnspec validate`` accepts it) and the analysis names what is missing.
Pairs (kernel, stride, padding, dilation) are ``(height, width)``.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from cnnspec.spec.budget import MAX_SIZE


def to_pair(value: Any) -> Any:
    """``5`` -> ``(5, 5)``; ``"5x3"`` -> ``(5, 3)``; ``[5, 3]`` -> ``(5, 3)``; others unchanged."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return (value, value)
    if isinstance(value, str):
        parts = value.lower().replace("×", "x").replace(" ", "").split("x")
        if any(len(p) > 19 for p in parts):  # int() of thousands of digits is refused
            raise ValueError(f"has a number of {max(map(len, parts)):,} digits; sizes are at "
                             f"most {MAX_SIZE:,}")
        if len(parts) == 2 and all(p.lstrip("-").isdigit() for p in parts):
            return (int(parts[0]), int(parts[1]))
        if len(parts) == 1 and parts[0].lstrip("-").isdigit():
            return (int(parts[0]), int(parts[0]))
        return value
    if isinstance(value, (list, tuple)) and len(value) == 1:
        return (value[0], value[0])
    return value


PositiveInt = Annotated[int, Field(gt=0, le=MAX_SIZE)]
NonNegativeInt = Annotated[int, Field(ge=0, le=MAX_SIZE)]
PositivePair = Annotated[tuple[PositiveInt, PositiveInt], BeforeValidator(to_pair)]
NonNegativePair = Annotated[tuple[NonNegativeInt, NonNegativeInt], BeforeValidator(to_pair)]


class Node(BaseModel):
    """Fields every node of the tree has.

    ``label`` is the user's name for the node (``Conv:1``); ``written`` is the
    layer name as the user spelled it (``MPool``), used in tables; ``source``
    is where in the user's text the node came from (a ``SourceRef``).
    """

    # deferred: the schema is built once, for the whole tree, on first validation
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, defer_build=True)

    label: str | None = Field(None, description="A name for this node, e.g. 'Conv:1'.")
    written: SkipJsonSchema[str | None] = Field(None, repr=False)
    source: SkipJsonSchema[Any] = Field(None, exclude=True, repr=False)

    display: ClassVar[str] = "Layer"
    is_block: ClassVar[bool] = False

    @property
    def type_name(self) -> str:
        """The layer type as the user wrote it, or the canonical display name."""
        return self.written or self.display


class Conv(Node):
    """2-D convolution: ``K`` filters of ``FH x FW x C_in/groups`` each."""

    kind: Literal["conv"] = "conv"
    kernel: PositivePair | None = Field(None, description="Filter size FH x FW, e.g. 3 or '5x3'.")
    filters: PositiveInt | None = Field(None, description="Number of filters K (output depth).")
    in_channels: PositiveInt | None = Field(
        None, description="Expected input depth, when the filter is written FHxFWxC."
    )
    stride: PositivePair = Field((1, 1), description="Stride S (or SH x SW).")
    padding: NonNegativePair | Literal["same", "valid"] = Field(
        (0, 0), description="Zero padding P on each side, or 'same' / 'valid'."
    )
    dilation: PositivePair = Field((1, 1), description="Dilation D; 1 is a dense kernel.")
    groups: PositiveInt = Field(1, description="Grouped convolution: C_in and K split in groups.")
    bias: bool | None = Field(None, description="Count a bias per filter (default: conventions).")
    pad_value: float = Field(0.0, description="Constant used for padding (0 = zero padding).")
    display: ClassVar[str] = "Conv"


class Pool(Node):
    """Window pooling (max, average or stochastic); no weights."""

    kind: Literal["pool"] = "pool"
    mode: Literal["max", "avg", "stochastic"] = Field("max", description="Pooling function.")
    kernel: PositivePair | None = Field(None, description="Window size.")
    stride: PositivePair | None = Field(None, description="Stride (default: the window size).")
    padding: NonNegativePair = Field((0, 0), description="Padding on each side.")
    ceil_mode: bool | None = Field(None, description="Round output size up (default: conventions).")
    display: ClassVar[str] = "Pool"


class GlobalPool(Node):
    """Pool each channel's whole map to one value: ``H x W x C -> 1 x 1 x C``."""

    kind: Literal["global_pool"] = "global_pool"
    mode: Literal["avg", "max"] = "avg"
    display: ClassVar[str] = "GlobalPool"


class AdaptivePool(Node):
    """Average pooling to a fixed output size (PyTorch's AdaptiveAvgPool2d)."""

    kind: Literal["adaptive_pool"] = "adaptive_pool"
    output: PositivePair | None = Field(None, description="Output size OH x OW.")
    display: ClassVar[str] = "AdaptiveAvgPool"


class FC(Node):
    """Fully connected layer: every input node to every one of ``units`` outputs."""

    kind: Literal["fc"] = "fc"
    units: PositiveInt | None = Field(None, description="Number of output units.")
    bias: bool | None = Field(None, description="Count a bias per unit (default: conventions).")
    display: ClassVar[str] = "FC"


class ReLU(Node):
    """``max(0, x)``."""

    kind: Literal["relu"] = "relu"
    display: ClassVar[str] = "ReLU"


class Sigmoid(Node):
    """``1 / (1 + exp(-x))``."""

    kind: Literal["sigmoid"] = "sigmoid"
    display: ClassVar[str] = "Sigmoid"


class Tanh(Node):
    """``tanh(x)``."""

    kind: Literal["tanh"] = "tanh"
    display: ClassVar[str] = "Tanh"


class Softmax(Node):
    """``exp(x_k) / sum_j exp(x_j)`` over the last axis."""

    kind: Literal["softmax"] = "softmax"
    display: ClassVar[str] = "Softmax"


class Flatten(Node):
    """``H x W x C -> H*W*C`` (no weights)."""

    kind: Literal["flatten"] = "flatten"
    display: ClassVar[str] = "Flatten"


class Dropout(Node):
    """Inverted dropout with drop probability ``p`` (training only)."""

    kind: Literal["dropout"] = "dropout"
    p: float = Field(0.5, ge=0.0, lt=1.0, description="Probability of dropping a unit.")
    display: ClassVar[str] = "Dropout"


class LRN(Node):
    """Local response normalisation across channels (AlexNet).

    ``b^i = a^i / (k + alpha * sum_{j=max(0,i-n/2)}^{min(N-1,i+n/2)} (a^j)^2)^beta``
    """

    kind: Literal["lrn"] = "lrn"
    size: PositiveInt = Field(5, description="n, the number of neighbouring channels.")
    k: float = Field(2.0, description="Additive constant k.")
    alpha: float = Field(1e-4, description="Scale alpha.")
    beta: float = Field(0.75, description="Exponent beta.")
    display: ClassVar[str] = "LRN"


class BatchNorm(Node):
    """Batch normalisation: 2C trainable (gamma, beta) + 2C running statistics."""

    kind: Literal["batchnorm"] = "batchnorm"
    eps: float = Field(1e-5, gt=0.0, description="Added to the variance.")
    momentum: float = Field(0.1, gt=0.0, le=1.0, description="Running-statistics momentum.")
    display: ClassVar[str] = "BN"


class Subsample(Node):
    """LeNet-1998 trainable subsampling: ``w_c * sum(2x2 block) + b_c`` per channel."""

    kind: Literal["subsample"] = "subsample"
    kernel: PositivePair = Field((2, 2), description="Block size.")
    stride: PositivePair | None = Field(None, description="Stride (default: the block size).")
    display: ClassVar[str] = "Subsample"


class Expect(Node):
    """An expected shape written in the notation (``=> 224 x 224 x 120``); checked, no work."""

    kind: Literal["expect"] = "expect"
    shape: tuple[PositiveInt, ...] = Field(description="H, W, C (or N) the data must have here.")
    display: ClassVar[str] = "Expect"


LAYER_MODELS: tuple[type[Node], ...] = (
    Conv,
    Pool,
    GlobalPool,
    AdaptivePool,
    FC,
    ReLU,
    Sigmoid,
    Tanh,
    Softmax,
    Flatten,
    Dropout,
    LRN,
    BatchNorm,
    Subsample,
    Expect,
)
