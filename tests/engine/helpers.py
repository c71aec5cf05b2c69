"""Shared test helpers for the engine tests (gradient checks)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from cnnspec.engine.gradcheck import numerical_gradient_array, relative_error

# STYLE.md asks for < 1e-7 on smooth ops in float64; every check below meets it.
GRAD_TOL = 1e-7


def assert_grads_match(
    run: Callable[[], np.ndarray],
    wrt: Mapping[str, np.ndarray],
    analytic: Mapping[str, np.ndarray],
    dout: np.ndarray,
    tol: float = GRAD_TOL,
    h: float = 1e-5,
) -> dict[str, float]:
    """Compare analytic gradients with central differences of sum(run() * dout).

    ``run`` must read the arrays in ``wrt`` by closure (they are perturbed in
    place). Returns the relative error per name, after asserting each < tol.

    For ops that are linear in the checked argument (conv, fc, pooling away
    from ties) central differences are exact for any ``h``; a larger ``h``
    (1e-3) then only shrinks the round-off ``~1e-16 |f| / h``, which otherwise
    dominates the relative error of gradient entries near zero.
    """
    errors = {}
    for name, x in wrt.items():
        numeric = numerical_gradient_array(run, x, dout, h=h)
        errors[name] = relative_error(analytic[name], numeric)
        # a gradient check must be able to fail: an all-zero pair proves nothing
        assert np.abs(numeric).max() > 0, f"{name}: numerical gradient is identically zero"
    bad = {k: v for k, v in errors.items() if not v < tol}
    assert not bad, f"relative errors above {tol}: {bad}"
    return errors


def spaced_values(
    rng: np.random.Generator, shape: tuple[int, ...], gap: float = 0.05
) -> np.ndarray:
    """Distinct float64 values at least ``gap`` apart, in random order, centred on 0.

    For max pooling and ReLU checks: with h = 1e-5 no perturbation can swap
    two elements' order or cross zero, so the op is smooth around the input.
    """
    n = int(np.prod(shape))
    vals = (np.arange(n) - (n - 1) / 2) * gap
    if n % 2 == 1:
        vals = vals + gap / 2  # keep 0 itself out: no element sits on ReLU's kink
    return rng.permutation(vals).reshape(shape)
