"""The DistributedDataParallel training script: its pieces, and a real torchrun on the digits."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import cnnspec
from cnnspec.cli.main import cli
from cnnspec.engine.train.config import DEFAULT_LRS, TrainConfig
from cnnspec.engine.train.schedule import learning_rate
from cnnspec.export.train_script import generate_train_script

ROOT = Path(__file__).resolve().parents[2]
LENET = "specs/lenet5.yaml"


def script_source(spec: str = LENET) -> str:
    loaded = cnnspec.load(str(ROOT / spec) if spec.endswith(".yaml") else spec)
    return generate_train_script(loaded.network, loaded.report())


def test_script_is_python_with_the_ddp_pieces() -> None:
    source = script_source()
    tree = ast.parse(source)
    functions = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    assert {"main", "make_optimizer", "schedule_factor", "load_data", "arrays_from_torch",
            "load_cnnspec_state"} <= functions
    for piece in ("DistributedSampler(", "DistributedDataParallel(", "sampler.set_epoch",
                  "dist.init_process_group", "last.pt", "last.npz", "--init-from", "--resume"):
        assert piece in source, piece
    assert source.splitlines()[0].startswith('"""Train lenet5 with PyTorch')


def test_cli_writes_the_script(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    done = runner.invoke(cli, ["export", "lenet5", "--to", "pytorch", "--train-script",
                               "train.py"])
    assert done.exit_code == 0, done.output
    assert "torchrun --nproc_per_node=2 train.py" in done.output
    assert (tmp_path / "train.py").read_text() == script_source("lenet5")
    bad = runner.invoke(cli, ["export", "lenet5", "--to", "onnx", "-o", "x.onnx",
                              "--train-script", "t.py"])
    assert bad.exit_code == 2 and "--train-script goes with --to pytorch" in bad.output


def script_namespace() -> dict:
    pytest.importorskip("torch")
    namespace: dict = {"__name__": "train_script"}
    exec(compile(script_source(), "train.py", "exec"), namespace)
    return namespace


def test_schedules_and_optimisers_are_cnnspec_s() -> None:
    ns = script_namespace()
    import torch

    for schedule in ("none", "step", "cosine"):
        config = TrainConfig(epochs=7, lr=0.1, schedule=schedule)
        for epoch in range(7):
            assert np.isclose(0.1 * ns["schedule_factor"](schedule, epoch, 7),
                              learning_rate(config, epoch)), (schedule, epoch)
    assert ns["DEFAULT_LRS"] == DEFAULT_LRS
    params = [torch.nn.Parameter(torch.zeros(2))]
    kinds = {"sgd": torch.optim.SGD, "momentum": torch.optim.SGD, "nesterov": torch.optim.SGD,
             "adagrad": torch.optim.Adagrad, "adadelta": torch.optim.Adadelta,
             "rmsprop": torch.optim.RMSprop, "adam": torch.optim.Adam}
    assert set(kinds) == set(DEFAULT_LRS)
    for name, kind in kinds.items():
        opt = ns["make_optimizer"](name, params, 0.01, 0.0)
        assert type(opt) is kind, name
    assert ns["make_optimizer"]("nesterov", params, 0.01, 0.0).defaults["nesterov"] is True
    assert ns["make_optimizer"]("rmsprop", params, 0.01, 0.0).defaults["alpha"] == 0.9


def test_weights_round_trip_between_torch_and_cnnspec() -> None:
    ns = script_namespace()
    model = cnnspec.load(str(ROOT / LENET)).build(seed=3)
    net = ns["Model"]()
    ns["load_cnnspec_state"](net, model.state_dict())
    back = ns["arrays_from_torch"](net)
    assert set(back) == set(model.state_dict())
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(back[key], value)


def torchrun(script: Path, out: Path, *extra: str) -> list[dict]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    # --standalone: a free port of its own, so parallel runs on one machine do not clash
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               "--nproc_per_node=2",
               str(script), "--data", "digits", "--epochs", "1", "--out", str(out), *extra]
    failures = []
    for _ in range(2):  # one more try when the processes themselves fail (a busy machine
        # can drop the rendezvous); the metrics below are checked once, on the run that ended
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=240,
                              check=False, cwd=script.parent)
        if done.returncode == 0:
            break
        failures.append(done.stderr[-3000:])
        (out / "metrics.jsonl").unlink(missing_ok=True)
    assert done.returncode == 0, "\n----\n".join(failures)
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.slow
def test_torchrun_two_processes_on_the_digits(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    script = tmp_path / "train.py"
    script.write_text(script_source())
    rows = torchrun(script, tmp_path / "run")
    assert [r["epoch"] for r in rows] == [0, 1] and rows[1]["processes"] == 2
    assert rows[1]["test_loss"] < rows[0]["test_loss"]  # the loss falls in one epoch
    assert rows[1]["test_accuracy"] > 0.5

    # the weights load back into cnnspec and score the same there
    from cnnspec.engine.train.trained import load_trained, score

    trained = load_trained(tmp_path / "run" / "last.npz")
    scored = score(trained, None, "test", None)
    assert abs(scored.evaluation.accuracy - rows[1]["test_accuracy"]) <= 1 / 360
    assert trained.checkpoint.info["epoch"] == 1

    # --init-from a cnnspec checkpoint: the new run starts where that one ended
    again = torchrun(script, tmp_path / "again", "--init-from",
                     str(tmp_path / "run" / "last.npz"))
    assert np.isclose(again[0]["test_loss"], rows[1]["test_loss"], rtol=1e-4)
