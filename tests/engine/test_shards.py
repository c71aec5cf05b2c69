"""A batch split into shards, one per core: the same losses, outputs and gradients."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

import cnnspec
from cnnspec.engine import shards
from cnnspec.engine.blas import BLAS, threads_limit
from cnnspec.engine.optim import make_optimizer
from cnnspec.engine.shards import run_shards, shard_bounds, shard_count

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
    """Every pass splits into ``threads`` shards (SHARD_MACS = 1); ``split(1)``: none."""
    monkeypatch.setattr(shards, "SHARD_MACS", 1)

    def limit(threads: int):
        return threads_limit(threads)
    return limit


# -- the rule ------------------------------------------------------------------------------
@pytest.mark.parametrize(("batch", "macs", "threads", "want"), [
    (64, 29_723_136, 2, 2),   # the VGG-style CIFAR step: 1.9 Gi multiply-adds
    (16, 29_723_136, 2, 2),   # 476 Mi: 3 shards' worth, 2 cores
    (8, 29_723_136, 2, 1),    # 238 Mi: under two shards' worth
    (64, 29_723_136, 1, 1),   # --threads 1
    (64, 421_642, 2, 1),      # LeNet-5, batch 64: 27 Mi
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
    assert whole.replicas == []
    with split(threads):
        assert parts.shard_count(n, training=True) == threads
        total_s, main_s, scores_s = parts.train_step(x, y, loss=loss, input_grad=True)
    assert len(parts.replicas) == threads - 1
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
    assert model.replicas == []


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
    assert model.replicas == []
    with split(3):
        got = model.forward(x)
        probs = model.predict(x)
    assert len(model.replicas) == 2
    np.testing.assert_allclose(got, want, rtol=1e-13)
    assert probs.shape == (9, 5)


# -- replicas share the parameters ---------------------------------------------------------
def test_replicas_share_parameters_and_follow_updates(split) -> None:
    model = build(PLAIN)
    x, y = data(model, 6)
    with split(2):
        model.train_step(x, y)
    replica = model.replicas[0]
    for name, value in model.params.items():
        assert replica.params[name] is value
    before = model.forward(x[:3])
    make_optimizer("sgd", 0.1).step(model.params, model.grads)
    np.testing.assert_array_equal(replica.forward(x[:3]), model.forward(x[:3]))
    assert not np.array_equal(model.forward(x[:3]), before)
    state = {k: np.zeros_like(v) for k, v in model.state_dict().items()}
    model.load_state_dict(state)
    assert all(not v.any() for v in replica.params.values())


def test_a_replica_copies_no_scratch_memory(split) -> None:
    model = build(PLAIN)
    x, y = data(model, 6)
    model.train_step(x, y)  # the whole batch: each conv keeps a workspace
    assert any(getattr(layer, "workspace", None) is not None for layer in model.layers)
    replica = shards.replicate(model)
    assert all(getattr(layer, "workspace", None) is None for layer in replica.layers)
    assert all(layer.cache is None and layer.grads == {} for layer in replica.layers)


# -- the threads -------------------------------------------------------------------------
def test_shards_run_at_once_with_one_blas_thread_each() -> None:
    barrier = threading.Barrier(2, timeout=10)  # passes only if both tasks run together

    def task() -> tuple[int, str]:
        barrier.wait()
        return BLAS.limit, threading.current_thread().name

    with threads_limit(2):
        results = run_shards([task, task])
        assert BLAS.limit == 2
    assert [limit for limit, _ in results] == [1, 1]
    assert results[0][1] != results[1][1]


def test_every_shard_finishes_before_an_error_is_raised() -> None:
    finished = []

    def slow() -> None:
        threading.Event().wait(0.05)
        finished.append("slow")

    def fails() -> None:
        raise ValueError("shard 0 failed")

    with pytest.raises(ValueError, match="shard 0 failed"):
        run_shards([fails, slow])
    assert finished == ["slow"]

    def fails_later() -> None:
        raise KeyError("shard 1")

    with pytest.raises(KeyError):
        run_shards([lambda: None, fails_later])


def test_a_profile_times_one_pass_unsplit(split) -> None:
    from cnnspec.engine.profile import profile

    model = build(PLAIN)
    with split(2):
        result = profile(model, 8, backward=False, repeats=2)
        assert model.splits_batches
        assert model.shard_count(8, training=False) == 2  # split again after the profile
    assert model.replicas == []
    assert all(t.forward > 0 for t in result.layers if t.type.startswith("Conv"))
