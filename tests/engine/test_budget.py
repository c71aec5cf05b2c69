"""The memory check: what is available, the analysis' estimate, refusals and overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

import cnnspec
from cnnspec.analysis.memory import inference_memory, training_memory
from cnnspec.engine import budget
from cnnspec.engine.budget import (
    ENV_LIMIT,
    ENV_SKIP,
    available_memory,
    estimate,
    fitting_batch,
    parse_size,
    require_memory,
    unchecked,
)
from cnnspec.errors import EngineError

LENET = "Conv(5x5,6)-ReLU-Pool(2)-Conv(5x5,16)-ReLU-Pool(2)-FC(120)-FC(84)-FC(10)"


@pytest.fixture(autouse=True)
def _no_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_LIMIT, raising=False)
    monkeypatch.delenv(ENV_SKIP, raising=False)


@pytest.mark.parametrize("text, size", [
    ("1000", 1000), ("512M", 512 * 2**20), ("2G", 2 * 2**30), ("1.5g", 3 * 2**29),
    ("2GiB", 2 * 2**30), ("64 KB", 64 * 1024), ("1T", 2**40),
])
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text) == size


def test_parse_size_refuses_words() -> None:
    with pytest.raises(EngineError, match="not a size") as info:
        parse_size("lots")
    assert info.value.loc.source == ENV_LIMIT


def test_available_memory_reads_meminfo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       16000000 kB\nMemAvailable:    1234567 kB\n")
    monkeypatch.setattr(budget, "MEMINFO", meminfo)
    monkeypatch.setattr(budget, "CGROUP_LIMITS", ())
    monkeypatch.setattr(budget, "_address_space_left", lambda: None)
    assert available_memory() == 1234567 * 1024


def test_available_memory_takes_the_smaller_cgroup_limit(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemAvailable:   8000000 kB\n")
    limit, usage = tmp_path / "memory.max", tmp_path / "memory.current"
    limit.write_text("1073741824\n")
    usage.write_text("73741824\n")
    monkeypatch.setattr(budget, "MEMINFO", meminfo)
    monkeypatch.setattr(budget, "CGROUP_LIMITS", ((limit, usage),))
    monkeypatch.setattr(budget, "_address_space_left", lambda: None)
    assert available_memory() == 1_000_000_000
    limit.write_text("max\n")  # no limit: the machine's figure
    assert available_memory() == 8000000 * 1024


def test_the_environment_sets_the_figure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_LIMIT, "3M")
    assert available_memory() == 3 * 2**20


def test_require_memory_refuses_with_estimate_and_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(budget, "available_memory", lambda: 1024)
    with pytest.raises(EngineError) as info:
        require_memory({"parameters": 2048, "activations": 512}, "running x", "use a smaller "
                       "--batch", source="spec.yaml")
    text = info.value.one_line()
    assert "running x needs about 2.5 KiB (parameters 2.0 KiB + activations 512 B), but " \
           "only 1.0 KiB of memory is available" in text
    assert "use a smaller --batch" in text and "--no-memory-check" in text
    assert info.value.loc.source == "spec.yaml"
    require_memory({"parameters": 1024}, "fits exactly", "")  # need == have passes


def test_overrides_skip_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(budget, "available_memory", lambda: 0)
    with unchecked():
        require_memory({"parameters": 10**15}, "x", "y")
    with pytest.raises(EngineError):  # the context ended
        require_memory({"parameters": 10**15}, "x", "y")
    monkeypatch.setenv(ENV_SKIP, "1")
    require_memory({"parameters": 10**15}, "x", "y")
    monkeypatch.setenv(ENV_SKIP, "0")
    with pytest.raises(EngineError):
        require_memory({"parameters": 10**15}, "x", "y")


def test_estimate_is_the_analysis_training_memory() -> None:
    report = cnnspec.load(LENET, input_shape="32x32x1").report()
    t = report.totals
    per_image = 32 * 32 * 1 + sum(r.nodes for r in report.layers if not r.is_block)
    assert t.params == 61_706
    parts = estimate(report, batch=64, optimizer="adam")
    assert parts == training_memory(t.params, t.trainable_params, per_image, 64, "adam", 4)
    assert parts == {"parameters": 246_824, "gradients": 246_824,
                     "optimizer_state": 493_648, "activations": 64 * per_image * 4}
    # inference frees each output after its use: the peak is the largest input + output
    # pair, 28x28x6 into the ReLU and 28x28x6 out of it
    forward = estimate(report, batch=8, optimizer=None, backward=False)
    assert forward == {"parameters": 246_824, "activations": 8 * (4704 + 4704) * 4}
    assert forward == inference_memory(report.layers, t.params, 8, 4)


def test_build_refuses_before_allocating(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_LIMIT, "100K")
    spec = cnnspec.load("FC(200000)", input_shape="224x224x3")
    with pytest.raises(EngineError, match=r"building network in NumPy \(float32\) needs about "
                                          r"112\.2 GiB, but only 100\.0 KiB"):
        spec.build()


def test_evaluation_batches_shrink_to_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    report = cnnspec.load(LENET, input_shape="32x32x1").report()
    per_image = estimate(report, batch=1, optimizer=None, backward=False)["activations"]
    monkeypatch.setattr(budget, "available_memory", lambda: 10 * per_image + 5)
    assert fitting_batch(report, 256) == 10
    assert fitting_batch(report, 4) == 4
    monkeypatch.setattr(budget, "available_memory", lambda: 0)
    assert fitting_batch(report, 256) == 1
    with unchecked():
        assert fitting_batch(report, 256) == 256


def test_predictions_do_not_depend_on_the_batch_that_fits(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import numpy as np

    model = cnnspec.load(LENET, input_shape="32x32x1").build(seed=1)
    x = np.random.default_rng(0).standard_normal((7, 1, 32, 32)).astype(np.float32)
    whole = model.predict(x)
    per_image = estimate(model.report, batch=1, optimizer=None, backward=False)["activations"]
    monkeypatch.setattr(budget, "available_memory", lambda: 2 * per_image)
    sizes: list[int] = []
    forward = model.forward
    monkeypatch.setattr(model, "forward", lambda xb, **kw: sizes.append(len(xb)) or
                        forward(xb, **kw))
    assert np.allclose(model.predict(x), whole, rtol=1e-5, atol=1e-7)
    assert sizes == [2, 2, 2, 1]
