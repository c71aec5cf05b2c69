"""`cnnspec train`, `evaluate`, `predict` and `optimizers` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cnnspec.cli.main import cli
from cnnspec.engine.checkpoint import load_checkpoint
from tests.train.conftest import TINY

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


FAST = ["--batch", "32", "--augment", "0"]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory: pytest.TempPathFactory, digits_file: Path) -> Path:
    out = tmp_path_factory.mktemp("runs") / "tiny"
    code, stdout, stderr = run("train", TINY, "--input", "8x8x1", "--data",
                               f"npz:{digits_file}", "--epochs", "3", "--lr", "0.03",
                               "--out", out, *FAST)
    assert code == 0, stderr
    assert stdout.strip() == str(out / "best.npz")
    assert "train loss" in stderr and "test accuracy" in stderr
    return out


def test_train_writes_the_run_folder(trained_run: Path) -> None:
    names = sorted(p.name for p in trained_run.iterdir())
    assert names == ["best.npz", "curves.png", "last.npz", "metrics.csv"]
    assert (trained_run / "curves.png").read_bytes()[:8] == PNG_MAGIC
    assert len((trained_run / "metrics.csv").read_text().splitlines()) == 4


def test_resume_continues_and_says_what_it_ignores(tmp_path: Path, data_spec: str) -> None:
    out = tmp_path / "run"
    base = ["train", TINY, "--input", "8x8x1", "--data", data_spec, "--out", out, "-q"]
    assert run(*base, "--epochs", "1")[0] == 0
    code, _, stderr = run("train", TINY, "--input", "8x8x1", "--out", out, "--resume",
                          "--epochs", "2", "--lr", "0.5")
    assert code == 0, stderr
    assert "resuming at epoch 2" in stderr and "ignoring --lr" in stderr
    assert load_checkpoint(out / "last.npz").info["epoch"] == 2


@pytest.mark.parametrize("extra, text", [
    (["--resume"], "error: nothing to resume"),
    (["--freeze", "Conv:3"], "did you mean 'Conv:1'?"),
    (["--input", "16x16x1"], "pass --resize"),
    (["--optimizer", "sgd", "--lr", "1e12"], "lower the learning rate"),
    (["--init-from", "missing.npz"], "no such checkpoint"),
])
def test_user_errors_are_one_line_and_exit_1(tmp_path: Path, data_spec: str, extra: list[str],
                                             text: str) -> None:
    args = ["train", TINY, "--data", data_spec, "--out", tmp_path / "r", "-q", *extra]
    if "--input" not in extra:
        args += ["--input", "8x8x1"]
    code, _, stderr = run(*args)
    assert code == 1
    assert text in stderr
    assert "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1


def test_resize_fits_the_data_to_the_spec(tmp_path: Path, data_spec: str) -> None:
    code, _, stderr = run("train", "Conv(3x3,4)-ReLU-Pool(2)-FC(10)", "--input", "12x12x1",
                          "--data", data_spec, "--resize", "--epochs", "1", "--out",
                          tmp_path / "r")
    assert code == 0, stderr


def test_ctrl_c_saves_and_says_how_to_resume(tmp_path: Path, data_spec: str,
                                             monkeypatch) -> None:
    from cnnspec.cli import train as train_cli

    def interrupt(self, progress) -> None:
        if progress.epoch == 2 and progress.batch == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(train_cli.CurveRecorder, "on_batch_end", interrupt, raising=False)
    out = tmp_path / "r"
    code, _, stderr = run("train", TINY, "--input", "8x8x1", "--data", data_spec, "--out", out,
                          "--epochs", "3", *FAST)
    assert code == 130
    assert "interrupted at epoch 2, batch 3/9" in stderr
    assert f"Resume with: cnnspec train '{TINY}' --input 8x8x1 --out-dir {out} --resume" in stderr
    checkpoint = load_checkpoint(out / "last.npz")
    assert (checkpoint.info["epoch"], checkpoint.info["position"]) == (1, 3)
    assert (out / "curves.png").is_file()  # the finished epoch is plotted


def test_evaluate_formats(trained_run: Path) -> None:
    best = trained_run / "best.npz"
    code, stdout, stderr = run("evaluate", best, "-f", "json")
    assert code == 0, stderr
    result = json.loads(stdout)
    assert result["examples"] == 100 and result["part"] == "test"
    confusion = np.array(result["confusion"])
    assert confusion.shape == (10, 10) and confusion.sum() == 100
    assert result["accuracy"] == pytest.approx(np.trace(confusion) / 100)
    assert [c["support"] for c in result["classes"]] == confusion.sum(axis=1).tolist()
    code, stdout, _ = run("evaluate", best, "-f", "csv")
    assert stdout.splitlines()[0].startswith("label,class,precision,recall,f1,support,")
    assert len(stdout.splitlines()) == 11
    code, stdout, _ = run("evaluate", best, "-f", "markdown")
    assert "Confusion matrix" in stdout and "| class | precision |" in stdout
    code, stdout, _ = run("evaluate", best)
    assert code == 0 and "confusion matrix" in stdout and "accuracy" in stdout
    code, stdout, _ = run("evaluate", best, "-q")
    assert float(stdout) == pytest.approx(result["accuracy"], abs=1e-6)


def test_evaluate_a_missing_checkpoint(tmp_path: Path) -> None:
    code, _, stderr = run("evaluate", tmp_path / "nope.npz")
    assert code == 1 and "no such checkpoint" in stderr


def test_predict_reads_npy_txt_and_png(trained_run: Path, tmp_path: Path) -> None:
    from matplotlib.image import imsave
    from sklearn.datasets import load_digits

    images = load_digits().images  # 0..16 floats
    np.save(tmp_path / "a.npy", (images[1] / 16 * 255).astype(np.uint8))
    np.savetxt(tmp_path / "b.txt", images[2])
    imsave(tmp_path / "c.png", images[3] / 16, cmap="gray", vmin=0, vmax=1)
    files = [tmp_path / "a.npy", tmp_path / "b.txt", tmp_path / "c.png"]
    code, stdout, stderr = run("predict", trained_run / "best.npz", *files, "-f", "json",
                               "--top", "2")
    assert code == 0, stderr
    rows = json.loads(stdout)
    assert [len(r["top"]) for r in rows] == [2, 2, 2]
    for row in rows:
        probs = [t["probability"] for t in row["top"]]
        assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1 + 1e-6
    assert rows[2]["steps"][:2] == ["read 8x8x3", "colour -> grey (luma)"]
    code, stdout, _ = run("predict", trained_run / "best.npz", *files, "-q")
    assert [line.split("\t")[0] for line in stdout.splitlines()] == [str(f) for f in files]


def test_predict_refuses_unknown_files(trained_run: Path, tmp_path: Path) -> None:
    (tmp_path / "x.gif").write_bytes(b"GIF89a")
    code, _, stderr = run("predict", trained_run / "best.npz", tmp_path / "x.gif")
    assert code == 1 and "unknown file type .gif" in stderr


def test_optimizers_plots_and_tabulates(tmp_path: Path, data_spec: str) -> None:
    code, stdout, stderr = run("optimizers", TINY, "--input", "8x8x1", "--data", data_spec,
                               "--epochs", "2", "--only", "sgd,adadelta,adam", "--lr",
                               "sgd=0.1", "--out", tmp_path, "-f", "json")
    assert code == 0, stderr
    rows = json.loads(stdout)
    assert [(r["optimizer"], r["lr"]) for r in rows] == [("sgd", 0.1), ("adadelta", 1.0),
                                                          ("adam", 0.002)]
    assert all(r["last epoch loss"] < r["first epoch loss"] for r in rows)
    assert (tmp_path / "optimizers.png").read_bytes()[:8] == PNG_MAGIC
    saved = json.loads((tmp_path / "optimizers.json").read_text())
    assert len(saved["curves"][0]["losses"]) == 2 * 9


def test_optimizers_rejects_a_bad_rate(data_spec: str) -> None:
    code, _, stderr = run("optimizers", TINY, "--input", "8x8x1", "--data", data_spec,
                          "--lr", "sgd")
    assert code == 1 and "NAME=RATE" in stderr


def test_every_command_has_examples() -> None:
    for name in ("train", "evaluate", "predict", "optimizers"):
        code, stdout, _ = run(name, "--help")
        assert code == 0 and "Examples:" in stdout
