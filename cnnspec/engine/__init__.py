"""The NumPy engine: a validated spec built into a network that trains.

Room 3 of 4: imports NumPy, the spec tree and the analysis records (read-only), and
:mod:`cnnspec.errors`; nothing from ``cli``, ``render``, ``homework`` or ``export``.

* :mod:`cnnspec.engine.functional` -- the ops as forward/backward pairs (see its docstring).
* :mod:`cnnspec.engine.im2col` -- strided windows, im2col/col2im.
* :mod:`cnnspec.engine.map_shifts` -- whole-map im2col/col2im where each kernel offset is
  one shift of the input (or of one of its phases, at a stride).
* :mod:`cnnspec.engine.layers` -- layer objects wrapping the ops, and the block containers.
* :mod:`cnnspec.engine.model` -- ``build(network)`` -> ``Model`` (forward, backward, loss).
* :mod:`cnnspec.engine.checkpoint` -- ``.npz`` checkpoints with the spec embedded.
* :mod:`cnnspec.engine.profile` -- per-layer time and peak memory of a run.
* :mod:`cnnspec.engine.budget` -- the memory check: the analysis' estimate against the
  memory available, before anything is allocated.
* :mod:`cnnspec.engine.optim` -- the seven optimisers and ``make_optimizer``.
* :mod:`cnnspec.engine.init` -- He and Xavier initialisers.
* :mod:`cnnspec.engine.gradcheck` -- numerical gradients, relative error.
* :mod:`cnnspec.engine.data` -- digits, MNIST, CIFAR-10 and ``.npz`` data sets, downloads.
* :mod:`cnnspec.engine.train` -- the training loop, checkpoints per epoch, transfer learning.

Layout is NCHW, float32 by default; dilation=1 is a dense kernel.
"""
