"""BLAS threads: the per-product rule, the limit, and the CLI's --threads."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from cnnspec.cli.main import cli
from cnnspec.engine.blas import (
    BLAS,
    PARALLEL_MACS,
    PARALLEL_OUTPUT,
    gemm_threads,
    matmul,
    threads_limit,
)

needs_blas_control = pytest.mark.skipif(not BLAS.libraries(),
                                        reason="threadpoolctl finds no BLAS library")


def test_rule_keeps_small_products_and_tiny_outputs_on_one_thread() -> None:
    assert PARALLEL_MACS == 2**24 and PARALLEL_OUTPUT == 1024
    assert gemm_threads(256, 256, 256, 2) == 2  # exactly 2**24 MACs
    assert gemm_threads(256, 256, 255, 2) == 1  # one MAC row short of the bound
    assert gemm_threads(6, 50176, 25, 2) == 1  # LeNet's first conv: 7.5 Mi MACs
    assert gemm_threads(32, 65536, 288, 2) == 2  # a VGG-style conv, 604 Mi MACs
    assert gemm_threads(25, 6, 2**20, 2) == 1  # a weight gradient: 150 outputs, long sum
    assert gemm_threads(32, 32, 2**14, 2) == 2  # 1024 outputs
    assert gemm_threads(31, 33, 2**15, 2) == 1  # 1023 outputs
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


def test_free_cores_rounds_what_others_use() -> None:
    from cnnspec.engine.cpu_load import free_cores

    for others, free in ((0.0, 2), (0.4, 2), (0.6, 1), (1.0, 1), (2.0, 1), (7.5, 1)):
        assert free_cores(2, others) == free, others
    assert free_cores(8, 2.0) == 6


def _sampler(readings):
    """A sample function returning the given CpuSamples in turn."""
    it = iter(readings)
    return lambda: next(it)


def test_others_from_cpu_time_not_counting_our_own() -> None:
    from cnnspec.engine.cpu_load import CpuLoad, CpuSample

    # our process used both cores fully for 1 s: the machine is busy, but nobody else
    own_only = [CpuSample(0.0, 100.0, 10.0, 0), CpuSample(1.0, 102.0, 12.0, 0)]
    load = CpuLoad(sample=_sampler(own_only))
    assert load.others(now=0.0) == 0.0  # first reading: runnable threads of others (none)
    assert load.others(now=1.0) == 0.0
    # two busy processes took 1.5 core-seconds in 1 s while we took 0.5
    busy = [CpuSample(0.0, 0.0, 0.0, 2), CpuSample(1.0, 2.0, 0.5, 2)]
    load = CpuLoad(sample=_sampler(busy))
    assert load.others(now=0.0) == 2.0
    assert load.others(now=0.1) == 2.0  # cached within MIN_INTERVAL: no new reading
    assert load.others(now=1.0) == 1.5


def test_stale_reading_falls_back_to_runnable_threads() -> None:
    from cnnspec.engine.cpu_load import MAX_INTERVAL, CpuLoad, CpuSample

    readings = [CpuSample(0.0, 0.0, 0.0, 0), CpuSample(MAX_INTERVAL + 1, 50.0, 0.0, 1)]
    load = CpuLoad(sample=_sampler(readings))
    load.others(now=0.0)
    # the interval is too old to say what happens now: the runnable count (1) stands in
    assert load.others(now=MAX_INTERVAL + 1) == 1.0


def test_without_proc_the_load_average_stands_in() -> None:
    from cnnspec.engine.cpu_load import CpuLoad

    load = CpuLoad(sample=lambda: None, fallback=lambda: 1.5)
    assert load.others(now=0.0) == 1.5


def test_proc_stat_parsing_keeps_our_cores_only() -> None:
    from cnnspec.engine.cpu_load import busy_seconds, procs_running

    lines = [
        "cpu  300 0 30 900 5 0 0 0 0 0",
        "cpu0 100 0 10 400 5 1 2 3 0 0",  # busy: user, nice, system, irq, softirq, steal
        "cpu1 200 0 20 500 0 0 0 0 0 0",
        "intr 12345",
        "procs_running 3",
    ]
    assert busy_seconds(lines, {0}, 0.01) == (100 + 10 + 1 + 2 + 3) * 0.01
    assert busy_seconds(lines, {0, 1}, 0.01) == (116 + 220) * 0.01
    assert procs_running(lines) == 3
    assert procs_running(["cpu 1 2 3"]) == 0


def test_own_running_threads_reads_task_states(tmp_path) -> None:
    from cnnspec.engine.cpu_load import own_running_threads

    for tid, state in ((1, "R"), (2, "S"), (3, "R")):
        (tmp_path / str(tid)).mkdir()
        (tmp_path / str(tid) / "stat").write_text(f"{tid} (name with ) paren) {state} 1 2 3")
    assert own_running_threads(tmp_path) == 2


def test_reading_this_machine() -> None:
    from cnnspec.engine.cpu_load import read_sample

    sample = read_sample()
    if sample is None:
        pytest.skip("no /proc on this system")
    assert sample.busy > 0 and sample.own > 0 and sample.running_others >= 0
