"""Slab-split memory work: the same bits with one worker or several, and exact inside ranges."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from cnnspec.engine import functional as F
from cnnspec.engine import parallel
from cnnspec.engine.allocator import keep_freed_memory
from cnnspec.engine.blas import BLAS
from cnnspec.engine.im2col import col2im, im2col, inside_range, pad_nchw


@pytest.fixture
def workers(monkeypatch):
    """Set how many slabs every split makes (threshold 0: even tiny arrays are split)."""

    def use(count: int) -> None:
        monkeypatch.setattr(parallel, "PARALLEL_BYTES", 0 if count > 1 else 1 << 62)
        monkeypatch.setattr(BLAS, "limit", count)
        monkeypatch.setattr(BLAS, "free_cores", lambda: count)

    return use


def test_slabs_cover_the_axis_once() -> None:
    assert parallel.slabs(10, 3) == [slice(0, 3), slice(3, 6), slice(6, 10)]
    assert parallel.slabs(2, 5) == [slice(0, 1), slice(1, 2)]
    assert parallel.slabs(7, 1) == [slice(0, 7)]


def test_worker_count_follows_size_limit_and_free_cores(monkeypatch) -> None:
    monkeypatch.setattr(BLAS, "limit", 2)
    monkeypatch.setattr(BLAS, "free_cores", lambda: 2)
    assert parallel.slab_workers(parallel.PARALLEL_BYTES - 1) == 1
    assert parallel.slab_workers(parallel.PARALLEL_BYTES) == 2
    monkeypatch.setattr(BLAS, "free_cores", lambda: 1)  # another process holds a core
    assert parallel.slab_workers(parallel.PARALLEL_BYTES) == 1
    monkeypatch.setattr(BLAS, "limit", 1)  # --threads 1
    monkeypatch.setattr(BLAS, "free_cores", lambda: 2)
    assert parallel.slab_workers(1 << 40) == 1


def test_for_slabs_runs_side_by_side_and_raises_a_workers_error(workers) -> None:
    workers(2)
    seen: list[tuple[slice, str]] = []
    parallel.for_slabs(8, 0, lambda s: seen.append((s, threading.current_thread().name)))
    assert sorted((s.start, s.stop) for s, _ in seen) == [(0, 4), (4, 8)]
    assert len({name for _, name in seen}) == 2

    def fails_on_second(s: slice) -> None:
        if s.start:
            raise ValueError("slab 2")

    with pytest.raises(ValueError, match="slab 2"):
        parallel.for_slabs(8, 0, fails_on_second)


def test_outer_axis_is_the_largest_stride() -> None:
    a = np.zeros((3, 4, 5, 6)).transpose(1, 0, 2, 3)  # (4, 3, 5, 6) over (3, 4, ...) memory
    assert parallel.outer_axis(a) == 1
    assert parallel.outer_axis(np.zeros((1, 4, 5))) == 1  # a length-1 axis is skipped
    assert parallel.outer_axis(np.zeros((1, 1))) == 0


@pytest.mark.parametrize("n_out,size,stride,offset,expected", [
    (5, 5, 1, -1, (1, 5)),   # top pad 1, tap 0: the first output row reads padding
    (5, 5, 1, 1, (0, 4)),    # tap 2: the last output row reads padding
    (3, 5, 2, -2, (1, 3)),   # stride 2, pad 2: row 0 reads -2
    (3, 5, 2, -3, (2, 3)),   # -3, -1 outside; 1 inside
    (4, 2, 1, 5, (0, 0)),    # every position outside
    (2, 4, 3, 0, (0, 2)),
])
def test_inside_range(n_out, size, stride, offset, expected) -> None:
    assert inside_range(n_out, size, stride, offset) == expected
    inside = [o for o in range(n_out) if 0 <= o * stride + offset < size]  # by brute force
    assert expected == ((inside[0], inside[-1] + 1) if inside else (expected[0], expected[0]))


GEOMETRIES = [  # kernel, stride, padding (top, bottom, left, right), dilation, pad value
    ((3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 0.0),
    ((5, 5), (1, 1), (0, 0, 0, 0), (1, 1), 0.0),
    ((3, 2), (2, 1), (2, 0, 1, 3), (1, 2), -1.5),
    ((7, 7), (2, 2), (3, 3, 3, 3), (1, 1), 0.0),
    ((1, 1), (2, 2), (0, 0, 0, 0), (1, 1), 0.0),
]


@pytest.mark.parametrize("kernel,stride,padding,dilation,pad_value", GEOMETRIES)
@pytest.mark.parametrize("channels_outer", [False, True])
def test_im2col_col2im_and_pad_agree_bitwise_across_workers(
    workers, kernel, stride, padding, dilation, pad_value, channels_outer
) -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 6, 9, 8)).astype(np.float32)
    if channels_outer:  # a convolution's output order, (C, N, H, W) memory
        x = np.ascontiguousarray(x.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)
    results = []
    for count in (1, 2, 3):
        workers(count)
        cols = im2col(x, kernel, stride, padding, dilation, pad_value)
        back = col2im(cols, x.shape, kernel, stride, padding, dilation)
        results.append((cols, back, pad_nchw(x, padding, pad_value)))
    for cols, back, padded in results[1:]:
        assert np.array_equal(cols, results[0][0])
        assert np.array_equal(back, results[0][1])
        assert np.array_equal(padded, results[0][2])
    # and the columns are those of an explicit padding
    xp = np.pad(x, ((0, 0), (0, 0), padding[:2], padding[2:]), constant_values=pad_value)
    unpadded = im2col(xp, kernel, stride, (0, 0, 0, 0), dilation)
    assert np.array_equal(results[0][0], unpadded)


def test_relu_and_max_pool_agree_bitwise_across_workers(workers) -> None:
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 6, 10, 10)).astype(np.float32)
    x_cn = np.ascontiguousarray(x.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)
    dout = rng.standard_normal((4, 6, 5, 5)).astype(np.float32)
    runs = []
    for count in (1, 2):
        workers(count)
        relu, cache = F.relu_forward(x_cn)
        drelu = F.relu_backward(x, cache)
        pooled, pcache = F.max_pool2d_forward(x_cn, 3, stride=2, padding=1)
        dpool = F.max_pool2d_backward(dout, pcache)
        fast, _ = F.max_pool2d_forward(x, 3, stride=2, padding=1, need_index=False)
        runs.append((relu, drelu, pooled, pcache.idx, dpool, fast))
    for one, two in zip(*runs, strict=True):
        assert np.array_equal(one, two)
    relu, _, pooled, _, _, fast = runs[1]
    assert np.array_equal(relu, np.maximum(x, 0))
    assert relu.strides == x_cn.strides  # the input's memory order is kept
    naive, _ = F.max_pool2d_forward_naive(x, 3, stride=2, padding=1)
    assert np.array_equal(pooled, naive)
    assert np.array_equal(fast, naive)


def test_conv_forward_backward_across_workers_match_the_loop(workers) -> None:
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 4, 7, 7))
    w = rng.standard_normal((5, 4, 3, 3))
    b = rng.standard_normal(5)
    dout = rng.standard_normal((3, 5, 4, 4))
    workers(2)
    out, cache = F.conv2d_forward(x, w, b, stride=2, padding=(2, 1, 1, 2))
    dx, dw, db = F.conv2d_backward(dout, cache)
    ref, ref_cache = F.conv2d_forward_naive(x, w, b, stride=2, padding=(2, 1, 1, 2))
    rdx, rdw, rdb = F.conv2d_backward_naive(dout, ref_cache)
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx, rdx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dw, rdw, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(db, rdb, rtol=1e-12, atol=1e-12)


def test_keep_freed_memory_is_set_once_and_can_be_refused(monkeypatch) -> None:
    from cnnspec.engine import allocator

    monkeypatch.setattr(allocator, "_state", {})
    monkeypatch.setenv("CNNSPEC_KEEP_MEMORY", "0")
    assert keep_freed_memory() is False
    calls: list[tuple[int, int]] = []
    monkeypatch.setattr(allocator, "_state", {})
    monkeypatch.setenv("CNNSPEC_KEEP_MEMORY", "1")
    monkeypatch.setattr(allocator, "_mallopt", lambda p, v: calls.append((p, v)) or True)
    assert keep_freed_memory() is True
    assert keep_freed_memory() is True  # once per process
    assert calls == [(allocator.M_TRIM_THRESHOLD, allocator.KEEP_BYTES),
                     (allocator.M_MMAP_THRESHOLD, allocator.KEEP_BYTES)]
