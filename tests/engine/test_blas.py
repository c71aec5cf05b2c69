"""BLAS threads: the per-product rule, the limit, and the CLI's --threads."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from cnnspec.cli.main import cli
from cnnspec.engine.blas import (
    BLAS,
    PARALLEL_MACS,
    PARALLEL_MIN_DIM,
    gemm_threads,
    matmul,
    threads_limit,
)

needs_blas_control = pytest.mark.skipif(not BLAS.libraries(),
                                        reason="threadpoolctl finds no BLAS library")


def test_rule_keeps_small_and_skinny_products_on_one_thread() -> None:
    assert PARALLEL_MACS == 2**27 and PARALLEL_MIN_DIM == 64
    assert gemm_threads(512, 512, 512, 2) == 2  # exactly 2**27 MACs, every side >= 64
    assert gemm_threads(512, 512, 511, 2) == 1  # one MAC row short of the bound
    assert gemm_threads(6, 25 * 1000, 50176, 2) == 1  # skinny: 6 filters
    assert gemm_threads(64, 4096, 4096, 2) == 2
    assert gemm_threads(63, 4096, 4096, 2) == 1
    assert gemm_threads(4096, 4096, 4096, 1) == 1  # the limit caps everything
    assert gemm_threads(4096, 4096, 4096, 8) == 8


@needs_blas_control
def test_matmul_sets_the_threads_of_each_product(monkeypatch) -> None:
    monkeypatch.setattr(BLAS, "free_cores", lambda: 2)  # as on an idle 2-core machine
    rng = np.random.default_rng(0)
    small = rng.standard_normal((16, 32)).astype(np.float32)
    big = rng.standard_normal((512, 512)).astype(np.float32)
    with threads_limit(2):
        np.testing.assert_allclose(matmul(small, small.T), small @ small.T, rtol=1e-6)
        assert BLAS.library_threads() == 1
        matmul(big, big)
        assert BLAS.library_threads() == 2
    with threads_limit(1):
        matmul(big, big)
        assert BLAS.library_threads() == 1


def test_stacked_products_follow_the_rule_per_item() -> None:
    rng = np.random.default_rng(1)
    a = rng.standard_normal((3, 4, 5))
    b = rng.standard_normal((3, 5, 6))
    np.testing.assert_allclose(matmul(a, b), np.einsum("gmk,gkn->gmn", a, b), rtol=1e-12)


def test_limit_is_restored_and_checked() -> None:
    before = BLAS.limit
    with threads_limit(1):
        assert BLAS.limit == 1
    assert BLAS.limit == before
    with pytest.raises(ValueError, match="threads must be >= 1"):
        BLAS.set_limit(0)


def test_cli_threads_option() -> None:
    runner = CliRunner()
    before = BLAS.limit
    ok = runner.invoke(cli, ["run", "Conv(3x3,4)-ReLU-FC(3)", "--input", "8x8x1", "--batch",
                             "2", "--threads", "1", "-f", "json"])
    assert ok.exit_code == 0, ok.output
    assert BLAS.limit == before  # the option holds for the command only
    bad = runner.invoke(cli, ["run", "lenet5", "--threads", "0"])
    assert bad.exit_code == 2 and "--threads" in bad.output
    for command in ("train", "evaluate", "run"):
        helped = runner.invoke(cli, [command, "--help"])
        assert "--threads" in helped.output, command



def test_python_api_sets_the_limit() -> None:
    import cnnspec

    before = BLAS.limit
    with cnnspec.threads(1):
        assert BLAS.limit == 1
    assert BLAS.limit == before
    cnnspec.set_threads(1)
    try:
        assert BLAS.limit == 1
    finally:
        cnnspec.set_threads(None)
    assert BLAS.limit == before_default()


def before_default() -> int:
    from cnnspec.engine.blas import available_cores

    return available_cores()


@needs_blas_control
def test_busy_machine_gets_one_thread(monkeypatch) -> None:
    monkeypatch.setattr(BLAS, "free_cores", lambda: 1)
    big = np.ones((512, 512), dtype=np.float32)
    with threads_limit(2):
        matmul(big, big)
        assert BLAS.library_threads() == 1


def test_free_cores_from_the_load_average(monkeypatch) -> None:
    from cnnspec.engine import blas

    monkeypatch.setattr(blas, "available_cores", lambda: 2)
    for load, free in ((0.1, 2), (1.0, 2), (1.4, 2), (1.6, 1), (2.0, 1), (9.0, 1)):
        monkeypatch.setattr(blas.os, "getloadavg", lambda load=load: (load, load, load))
        threads = blas.BlasThreads()
        assert threads.free_cores() == free, load
