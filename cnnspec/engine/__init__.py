"""The NumPy engine: functional forward/backward pairs, optimisers, initialisers.

Room: ``cnnspec/engine``; imports NumPy and :mod:`cnnspec.errors` (and,
one-way, nothing from ``cli``, ``render`` or ``homework``).

* :mod:`cnnspec.engine.functional` -- the ops (see its docstring for the list).
* :mod:`cnnspec.engine.im2col` -- strided windows, im2col/col2im.
* :mod:`cnnspec.engine.optim` -- optimisers and ``make_optimizer``.
* :mod:`cnnspec.engine.init` -- He and Xavier initialisers.
* :mod:`cnnspec.engine.gradcheck` -- numerical gradients, relative error.

Layout is NCHW, float32 by default; dilation=1 is a dense kernel.
"""
