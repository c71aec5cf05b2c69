"""The node union and the root of the tree.

Room: spec. ``AnyNode`` is a discriminated union on ``kind`` of every layer
and block model; ``Network`` is the validated spec a user works with.
"""

from __future__ import annotations

from typing import Annotated, Any, Union

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from cnnspec.conventions import Conventions
from cnnspec.spec import activations as _activations
from cnnspec.spec import blocks as _blocks
from cnnspec.spec import channel_blocks as _channel_blocks
from cnnspec.spec import layers as _layers
from cnnspec.spec.layers import PositiveInt

NODE_MODELS: tuple[type[_layers.Node], ...] = (
    *_layers.LAYER_MODELS, *_activations.ACTIVATION_MODELS, *_blocks.BLOCK_MODELS,
    *_channel_blocks.CHANNEL_MODELS)

MODEL_OF_KIND: dict[str, type[_layers.Node]] = {
    model.model_fields["kind"].default: model for model in NODE_MODELS}

# every layer and block model, told apart by its ``kind`` tag
AnyNode = Annotated[Union[NODE_MODELS], Field(discriminator="kind")]  # type: ignore[valid-type]  # noqa: UP007


class Claims(BaseModel):
    """Figures a source prints for this network; the analysis checks each one."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, defer_build=True)

    source: str | None = Field(None, description="Where the figures come from.")
    params: int | None = Field(None, description="Stated parameter (weight) total.")
    param_bytes: int | None = Field(None, description="Stated parameter memory in bytes.")
    nodes: int | None = Field(None, description="Stated number of stored activations.")
    activation_bytes: int | None = Field(None, description="Stated activation memory in bytes.")
    macs: int | None = Field(None, description="Stated multiply-accumulates.")


class Network(BaseModel):
    """A whole network: input shape, conventions and the tree of nodes."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, defer_build=True)

    name: str = Field("network", description="A name for reports.")
    description: str | None = Field(None, description="Free text: source paper, variant.")
    input: tuple[PositiveInt, ...] | None = Field(
        None, description="Input shape H x W x C, e.g. '224x224x3'."
    )
    conventions: Conventions = Field(default_factory=Conventions)
    layers: list[AnyNode] = Field(default_factory=list, description="The network, in order.")
    claims: Claims | None = Field(None, description="Published figures to check.")
    source: SkipJsonSchema[Any] = Field(None, exclude=True, repr=False)


# The block models name ``AnyNode`` in their annotations. Every model defers its schema
# (building them all at import took most of ``import cnnspec``); pydantic builds the
# whole tree's schema once, on the first validation, and looks the name up here.
_blocks.AnyNode = AnyNode  # type: ignore[attr-defined]
_channel_blocks.AnyNode = AnyNode  # type: ignore[attr-defined]
