"""Bridges: a spec to PyTorch code, ONNX and a JSON Schema; a model back to a spec.

Room: consumers; reads the spec tree and the analysis records (never recomputing a shape
or count), and the engine's checkpoints and initialisers. torch and onnx are optional
extras, imported inside functions only.

* :mod:`~cnnspec.export.plan` pairs the spec tree with its analysis rows;
  :mod:`~cnnspec.export.naming` is the parameter contract (``"{row name}.{param}"``).
* :mod:`~cnnspec.export.torch_code` writes the PyTorch module;
  :mod:`~cnnspec.export.onnx_export` builds the ONNX graph;
  :mod:`~cnnspec.export.weights` supplies checkpoint or seeded random weights.
* :mod:`~cnnspec.export.onnx_import` and :mod:`~cnnspec.export.torch_import` read models
  into a :class:`~cnnspec.export.graph_ir.OpGraph`, which
  :mod:`~cnnspec.export.spec_yaml` writes as a spec and checks against the source.
* :mod:`~cnnspec.export.schema` is the JSON Schema of YAML spec files.
"""
