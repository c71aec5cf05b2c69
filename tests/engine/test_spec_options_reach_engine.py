"""Options written in a spec reach the engine unchanged (not the defaults).

Each test uses values other than the defaults, so an engine that ignored the
spec and used its own default would fail here.
"""

from __future__ import annotations

import numpy as np
import pytest

import cnnspec
from cnnspec.engine.functional.norm import lrn_forward_naive


def _input(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize(("size", "k", "alpha", "beta"),
                         [(3, 1.0, 2e-2, 0.5), (5, 2.0, 1e-1, 1.25)])
def test_lrn_arguments_from_the_string_reach_the_engine(size, k, alpha, beta) -> None:
    """LRN(n, k, alpha, beta): every argument, beta included, changes the engine's output."""
    spec = cnnspec.load(f"LRN({size}, {k}, {alpha}, {beta})", input_shape="4x4x7")
    model = spec.build(seed=0, dtype=np.float64)
    x = _input((2, 7, 4, 4)) * 3.0
    out = model.forward(x)
    expected = lrn_forward_naive(x, size=size, alpha=alpha, beta=beta, k=k)
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    # the default beta gives a different result, so the comparison above can fail
    default_beta = lrn_forward_naive(x, size=size, alpha=alpha, beta=0.75, k=k)
    assert np.abs(out - default_beta).max() > 1e-3


def test_lrn_beta_from_yaml_reaches_the_engine(tmp_path) -> None:
    path = tmp_path / "lrn.yaml"
    path.write_text(
        "input: 3x3x6\n"
        "architecture: Norm:1\n"
        "layers:\n"
        "  Norm:1: {size: 3, k: 1.5, alpha: 0.05, beta: 0.4}\n"
    )
    model = cnnspec.load(str(path)).build(seed=0, dtype=np.float64)
    x = _input((1, 6, 3, 3), seed=1) * 2.0
    expected = lrn_forward_naive(x, size=3, alpha=0.05, beta=0.4, k=1.5)
    np.testing.assert_allclose(model.forward(x), expected, rtol=1e-12)


def test_ceil_mode_drops_a_window_that_starts_in_the_end_padding() -> None:
    """MPool(2, s=2, p=1, ceil=true) on 5x5: (5 + 2 - 2)/2 + 1 = 3.5 -> ceil 4, but the
    fourth window would start at padded index 6 = 5 + 1, inside the end padding, so the
    size is 3 (PyTorch's ceil_mode rule). The start equals the boundary exactly: a rule
    that drops only windows starting *past* it would keep 4."""
    spec = cnnspec.load("MPool(2, s=2, p=1, ceil=true)", input_shape="5x5x1")
    row = spec.report().layers[-1]
    assert tuple(row.output) == (3, 3, 1)
    model = spec.build(seed=0, dtype=np.float64)
    x = _input((1, 1, 5, 5), seed=2)
    out = model.forward(x)
    assert out.shape == (1, 1, 3, 3)
    # window rows: [pad, 0], [1, 2], [3, 4] -> the max of each 2x2 padded window
    padded = np.pad(x[0, 0], 1, constant_values=-np.inf)
    expected = np.array([[padded[2 * i:2 * i + 2, 2 * j:2 * j + 2].max() for j in range(3)]
                         for i in range(3)])
    np.testing.assert_array_equal(out[0, 0], expected)


def test_ceil_mode_keeps_a_window_that_starts_inside_the_input() -> None:
    """4x4, kernel 3, stride 2, pad 1: (4 + 2 - 3)/2 + 1 = 2.5 -> 3; the third window starts
    at padded index 4 < 4 + 1, inside the input, so it stays."""
    spec = cnnspec.load("MPool(3, s=2, p=1, ceil=true)", input_shape="4x4x2")
    row = spec.report().layers[-1]
    assert tuple(row.output) == (3, 3, 2)
    out = spec.build(seed=0, dtype=np.float64).forward(_input((1, 2, 4, 4), seed=3))
    assert out.shape == (1, 2, 3, 3)


def test_ceil_mode_matches_pytorch() -> None:
    torch = pytest.importorskip("torch")
    x = _input((2, 3, 5, 5), seed=4)
    model = cnnspec.load("MPool(2, s=2, p=1, ceil=true)", input_shape="5x5x3").build(
        seed=0, dtype=np.float64)
    expected = torch.nn.functional.max_pool2d(torch.tensor(x), 2, stride=2, padding=1,
                                              ceil_mode=True).numpy()
    assert expected.shape == (2, 3, 3, 3)
    np.testing.assert_array_equal(model.forward(x), expected)
