"""Shapes of an ONNX graph's values, inferred without copying its weights.

Room: consumers (export). ``onnx`` is imported inside functions.
"""

from __future__ import annotations

from typing import Any


def _without_weights(model: Any) -> Any:
    """``model`` with its large initializers declared as inputs, for a fast shape inference."""
    from onnx import ModelProto, helper

    light = ModelProto()
    light.ir_version = model.ir_version
    light.opset_import.extend(model.opset_import)
    graph = light.graph
    graph.node.extend(model.graph.node)
    graph.input.extend(model.graph.input)
    graph.output.extend(model.graph.output)
    declared = {i.name for i in model.graph.input}
    for init in model.graph.initializer:
        if (len(init.dims) and max(init.dims) > 64) or init.data_location:
            if init.name not in declared:
                graph.input.append(helper.make_tensor_value_info(init.name, init.data_type,
                                                                 list(init.dims)))
        else:
            graph.initializer.append(init)
    return light


def _shapes_of(graph: Any) -> dict[str, list[int]]:
    """Inferred shapes of the graph's values (0 for an unknown dimension)."""
    return {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
            for v in [*graph.value_info, *graph.input, *graph.output]}


def value_shapes(model: Any) -> dict[str, list[int]]:
    """Every value's inferred shape; large initializers are declared, not copied."""
    from onnx import shape_inference

    return _shapes_of(shape_inference.infer_shapes(_without_weights(model)).graph)
