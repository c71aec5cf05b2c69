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
__all__ = ["Spec", "__version__", "load"]


def load(spec: Any, *, input_shape: Any = None, conventions: str | None = None) -> Spec:
    """Load and validate a spec: a YAML path, a zoo name, or a network string.

    Returns a :class:`cnnspec.api.Spec`; ``.analyze()`` gives the JSON-shaped report,
    ``.build(seed=0)`` the NumPy network.
    """
    from cnnspec.api import load as _load

    return _load(spec, input_shape=input_shape, conventions=conventions)


def __getattr__(name: str) -> Any:
    if name == "Spec":
        from cnnspec.api import Spec

        return Spec
    raise AttributeError(name)
