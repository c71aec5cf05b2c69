"""A batch split into shards, one per core: the same losses, outputs and gradients."""

from __future__ import annotations

import mmap
import os
from pathlib import Path

import numpy as np
import pytest

import cnnspec
from cnnspec.engine import shards
from cnnspec.engine.blas import threads_limit
from cnnspec.engine.optim import make_optimizer
from cnnspec.engine.shards import can_fork, shard_bounds, shard_count
from cnnspec.errors import EngineError

HERE = Path(__file__).parent
PLAIN = "Conv(3x3,4,p=1)-ReLU-MPool(2)-Conv(3x3,6)-ReLU-FC(16)-ReLU-FC(5)-SM"
WITH_BN = "Conv(3x3,4,p=1,bias=false)-BN-ReLU-MPool(2)-FC(5)"
WITH_DROPOUT = "Conv(3x3,4,p=1)-ReLU-MPool(2)-FC(16)-ReLU-Dropout(0.5)-FC(5)"


def build(spec: str | Path, shape: str | None = "8x8x2", seed: int = 1):
    return cnnspec.load(str(spec), input_shape=shape).build(seed=seed, dtype=np.float64)


def data(model, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, *model.input_shape)), rng.integers(0, 5, n)


@pytest.fixture
def split(monkeypatch: pytest.MonkeyPatch):
    if not can_fork():
        pytest.skip("shards run in forked processes (Linux)")
    """Every pass splits into ``threads`` shards (SHARD_MACS = 1); ``split(1)``: none."""
    monkeypatch.setattr(shards, "SHARD_MACS", 1)

    def limit(threads: int):
        return threads_limit(threads)
    return limit


# -- the rule ------------------------------------------------------------------------------
@pytest.mark.parametrize(("batch", "macs", "threads", "want"), [
    (64, 29_723_136, 2, 2),   # the VGG-style CIFAR step: 1.9 Gi multiply-adds
    (2, 29_723_136, 2, 2),    # 57 Mi
    (64, 29_723_136, 1, 1),   # --threads 1
    (64, 416_520, 2, 2),      # LeNet-5, batch 64: 25 Mi
    (16, 416_520, 2, 2),      # 6.4 Mi: 3 shards' worth, 2 cores
    (8, 416_520, 2, 1),       # 3.2 Mi: under two shards' worth of 2 Mi
    (3, 2**40, 8, 3),         # never more shards than examples
    (1, 2**40, 2, 1),
    (0, 2**40, 2, 1),
])
def test_shard_count(batch: int, macs: int, threads: int, want: int) -> None:
    assert shard_count(batch, macs, threads) == want


def test_shard_bounds_cover_the_batch_in_order() -> None:
    assert shard_bounds(7, 2) == [(0, 3), (3, 7)]
    assert shard_bounds(64, 2) == [(0, 32), (32, 64)]
    assert shard_bounds(10, 3) == [(0, 3), (3, 6), (6, 10)]


def test_the_model_counts_its_shards_from_the_analysis_total() -> None:
    model = build(PLAIN)
    macs = model.report.totals.macs
    batch = 2 * shards.SHARD_MACS // macs + 2
    with threads_limit(2):
        assert model.shard_count(batch, training=True) == 2
        assert model.shard_count(batch // 4, training=True) == 1
    with threads_limit(1):
        assert model.shard_count(batch, training=True) == 1


# -- training: the shards add up to the whole batch ----------------------------------------
@pytest.mark.parametrize(("threads", "n"), [(2, 6), (2, 7), (3, 7)])
@pytest.mark.parametrize("loss", ["cross_entropy", "squared"])
def test_a_split_training_step_equals_the_whole_batch(split, threads: int, n: int,
                                                      loss: str) -> None:
    whole, parts = build(PLAIN), build(PLAIN)
    x, y = data(whole, n)
    if loss == "squared":
        y = np.eye(5)[y]
    with split(1):
        total, main, scores = whole.train_step(x, y, loss=loss, input_grad=True)
    assert whole.shard_workers is None
    with split(threads):
        assert parts.shard_count(n, training=True) == threads
        total_s, main_s, scores_s = parts.train_step(x, y, loss=loss, input_grad=True)
    assert len(parts.shard_workers) == threads - 1
    assert total_s == pytest.approx(total, rel=1e-13)
    assert main_s == pytest.approx(main, rel=1e-13)
    np.testing.assert_allclose(scores_s, scores, rtol=1e-13)
    want = whole.grads
    got = parts.grads
    assert set(got) == set(want)
    for name in want:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-11, atol=1e-14,
                                   err_msg=name)


def test_auxiliary_heads_add_up_over_the_shards(split) -> None:
    whole, parts = build(HERE / "aux_head.yaml", None, 3), build(HERE / "aux_head.yaml", None, 3)
    x, y = data(whole, 6)
    with split(1):
        total, main, _ = whole.train_step(x, y, aux_weight=0.3)
    with split(2):
        total_s, main_s, _ = parts.train_step(x, y, aux_weight=0.3)
    assert total != main  # the head took part
    assert (total_s, main_s) == pytest.approx((total, main), rel=1e-13)
    for name, grad in whole.grads.items():
        np.testing.assert_allclose(parts.grads[name], grad, rtol=1e-11, atol=1e-14,
                                   err_msg=name)


def test_training_with_batch_norm_is_not_split(split) -> None:
    model = build(WITH_BN)
    with split(2):
        assert model.shard_count(8, training=True) == 1
        assert model.shard_count(8, training=False) == 2  # running statistics: per example
        model.train_step(*data(model, 8))
    assert model.shard_workers is None


def test_dropout_draws_one_generator_per_shard_reproducibly(split) -> None:
    runs = []
    for _ in range(2):
        model = build(WITH_DROPOUT)
        x, y = data(model, 8)
        with split(2):
            loss, _, _ = model.train_step(x, y, rng=np.random.default_rng(5))
        runs.append((loss, model.grads))
    assert runs[0][0] == runs[1][0]
    for name, grad in runs[0][1].items():
        np.testing.assert_array_equal(runs[1][1][name], grad)


def test_a_profiled_model_runs_in_one_piece(split) -> None:
    model = build(PLAIN)
    model.timings = {}
    with split(2):
        assert model.shard_count(8, training=False) == 1


# -- inference ---------------------------------------------------------------------------
@pytest.mark.parametrize("spec", [PLAIN, WITH_BN])
def test_a_split_inference_pass_equals_the_whole_batch(split, spec: str) -> None:
    model = build(spec)
    x, _ = data(model, 9)
    with split(1):
        want = model.forward(x)
    assert model.shard_workers is None
    with split(3):
        got = model.forward(x)
        probs = model.predict(x)
    assert len(model.shard_workers) == 2
    np.testing.assert_allclose(got, want, rtol=1e-13)
    assert probs.shape == (9, 5)


# -- the workers share the parameters -------------------------------------------------------
def test_parameters_and_buffers_live_in_shared_memory() -> None:
    model = build(WITH_BN)
    for table in (model.params, model.buffers):
        for name, value in table.items():
            base = value
            while isinstance(base, np.ndarray):
                base = base.base
            assert isinstance(base, memoryview) and isinstance(base.obj, mmap.mmap), name
            assert value.flags.c_contiguous and value.flags.writeable
    assert model.params["Conv:1.weight"].ctypes.data % shards.ALIGN == 0


def started(split):
    """A model, its batch (x, y) and the workers of one split training step on it."""
    model = build(PLAIN)
    x, y = data(model, 6)
    with split(2):
        model.train_step(x, y)
    return model, x, y, model.shard_workers


def test_workers_see_updates_and_loaded_checkpoints(split) -> None:
    model, x, _, workers = started(split)
    with split(2):
        before = model.forward(x)  # the second half comes from the worker
        make_optimizer("sgd", 0.1).step(model.params, model.grads)
        after = model.forward(x)
    with split(1):
        np.testing.assert_allclose(after, model.forward(x), rtol=1e-12)
    assert not np.array_equal(after, before)
    model.load_state_dict({k: np.zeros_like(v) for k, v in model.state_dict().items()})
    with split(2):
        zeros = model.forward(x)
    assert model.shard_workers is workers  # the same processes throughout
    np.testing.assert_array_equal(zeros[3:], zeros[:3])  # all-zero weights: equal outputs


def test_workers_are_processes_that_end_with_the_model(split) -> None:
    model = build(PLAIN)
    x, _ = data(model, 6)
    with split(3):
        model.forward(x)
    processes = list(model.shard_workers.processes)
    assert len(processes) == 2
    assert all(p.is_alive() and p.pid != os.getpid() for p in processes)
    model.shard_workers.stop()
    assert not any(p.is_alive() for p in processes)
    with split(3):  # stopped workers are forked again when needed
        np.testing.assert_array_equal(model.forward(x)[:2], model.forward(x)[:2])
    assert model.shard_workers.alive


def test_a_worker_error_reaches_the_caller_and_the_workers_go_on(split) -> None:
    model, x, y, workers = started(split)
    with split(2):
        wrong = np.zeros((3, 2, 10, 10))  # 10x10 images: Conv:1 gives 10x10, not 8x8
        with pytest.raises(EngineError, match=r"Conv:1: produced \(4, 10, 10\)"):
            workers.run([("forward", wrong, False)], lambda: None)
        with pytest.raises(KeyboardInterrupt):  # Ctrl-C here: the replies are still read
            workers.run([("forward", x[3:], False)], _interrupt)
        assert workers.alive
        total, _, _ = model.train_step(x, y)
    assert np.isfinite(total)


def test_a_lost_worker_is_one_clear_error_and_is_replaced(split) -> None:
    model, x, y, workers = started(split)
    with split(2):
        workers.processes[0].kill()
        workers.processes[0].join()
        with pytest.raises(EngineError, match="shard worker process ended"):
            model.train_step(x, y)
        assert not workers.alive
        model.train_step(x, y)  # new workers
    assert model.shard_workers is not workers


def _interrupt() -> None:
    raise KeyboardInterrupt


def test_a_profile_times_one_pass_unsplit(split) -> None:
    from cnnspec.engine.profile import profile

    model = build(PLAIN)
    with split(2):
        result = profile(model, 8, backward=False, repeats=2)
        assert model.splits_batches
        assert model.shard_count(8, training=False) == 2  # split again after the profile
    assert model.shard_workers is None
    assert all(t.forward > 0 for t in result.layers if t.type.startswith("Conv"))


def test_the_non_finite_replay_watches_every_example_in_one_pass(split) -> None:
    from cnnspec.engine.train.guard import find_non_finite

    model = build(PLAIN)
    x, y = data(model, 6)
    x[5, 0, 0, 0] = np.inf
    with split(2):
        where = find_non_finite(model, x, y, "cross_entropy", np.random.default_rng(0))
    assert "Conv:1" in where
    assert model.shard_workers is None
