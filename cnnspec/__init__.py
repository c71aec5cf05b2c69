"""cnnspec: write a convolutional network down, check it, size it, train it in NumPy.

>>> import cnnspec
>>> spec = cnnspec.load("Conv(5x5,6)-ReLU-Pool(2)-FC(10)-SM", input_shape="32x32x1")
>>> spec.analyze()["totals"]["params"]
8726

The package is four rooms that import one way: ``spec`` <- ``analysis`` <-
``engine`` <- consumers (``render``, ``homework``, ``export``, ``cli``).
This module stays import-light so that ``cnnspec --help`` starts fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cnnspec.api import Spec

__version__ = "0.1.0"
__all__ = ["Spec", "__version__", "load", "set_threads", "threads"]


def load(spec: Any, *, input_shape: Any = None, conventions: str | None = None) -> Spec:
    """Load and validate a spec: a YAML path, a zoo name, or a network string.

    Returns a :class:`cnnspec.api.Spec`; ``.analyze()`` gives the JSON-shaped report,
    ``.build(seed=0)`` the NumPy network.
    """
    from cnnspec.api import load as _load

    return _load(spec, input_shape=input_shape, conventions=conventions)


def set_threads(threads: int | None) -> None:
    """Cap the BLAS threads of every matrix product the engine runs (``None``: all cores).

    Products too small or skinny to gain from a second thread run on one whatever
    the cap (the rule is in :mod:`cnnspec.engine.blas`).
    """
    from cnnspec.engine.blas import BLAS

    BLAS.set_limit(threads)


def threads(count: int | None) -> Any:
    """Context manager: within it, no product uses more than ``count`` BLAS threads.

    >>> with cnnspec.threads(1):  # doctest: +SKIP
    ...     model.predict(images)
    """
    from cnnspec.engine.blas import threads_limit

    return threads_limit(count)


def __getattr__(name: str) -> Any:
    if name == "Spec":
        from cnnspec.api import Spec

        return Spec
    raise AttributeError(name)
