"""The run folder: writable and roomy enough before the first batch, and one run's files only.

Room: engine (``cnnspec/engine/train``); imports the engine and :mod:`cnnspec.errors`.

A run writes ``last.npz``, ``best.npz``, ``metrics.csv`` and ``curves.png``
(:data:`RUN_FILES`). Before training starts, :func:`check_run_folder` creates the folder,
writes and removes a probe file (a read-only folder or a missing permission shows up
here, not after an epoch) and compares the free space with what the checkpoints need.
:func:`clear_run_files` removes an older run's files when ``--overwrite`` starts a new
run, so no file of the old run stays beside the new one; other files are left alone.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from pathlib import Path

from cnnspec.errors import Location, TrainingError
from cnnspec.units import human_bytes

LAST, BEST, METRICS, CURVES = "last.npz", "best.npz", "metrics.csv", "curves.png"
RUN_FILES = (LAST, BEST, METRICS, CURVES)
OUT_HINT = "choose another folder with --out"
EXTRA_BYTES = 1 << 18  # metrics.csv, curves.png and the checkpoints' JSON, generously


def checkpoint_bytes(parts: dict[str, int]) -> int:
    """Bytes on disk while the checkpoints are written, from the memory estimate's parts.

    ``last = parameters + optimizer state``, ``best = parameters``; a checkpoint is
    written beside the one it replaces (atomic rename), so ``need = 2 * last + best``.
    """
    last = parts.get("parameters", 0) + parts.get("optimizer_state", 0)
    return 2 * last + parts.get("parameters", 0) + EXTRA_BYTES


def check_run_folder(out: Path, need_bytes: int) -> None:
    """Create ``out`` and make sure a run can write ``need_bytes`` there; else TrainingError."""
    where = Location(str(out))
    if out.exists() and not out.is_dir():
        raise TrainingError(f"{out} is a file, not a folder", where, OUT_HINT)
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".cnnspec-probe.", dir=out)
        try:
            os.write(fd, b"cnnspec")
            os.fsync(fd)
        finally:
            os.close(fd)
            os.unlink(probe)
    except OSError as exc:
        reason = {errno.EROFS: "the file system is read-only",
                  errno.EACCES: "permission denied", errno.EPERM: "permission denied",
                  errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is used up",
                  }.get(exc.errno or 0, exc.strerror or str(exc))
        raise TrainingError(f"cannot write the run folder {out}: {reason}",
                            hint=OUT_HINT) from None
    free = shutil.disk_usage(out).free
    if free < need_bytes:
        raise TrainingError(f"the disk holding {out} has {human_bytes(free)} free, but the run's "
                            f"checkpoints need about {human_bytes(need_bytes)}",
                            hint=f"free some space or {OUT_HINT}")


def clear_run_files(out: Path) -> list[str]:
    """Remove the files an earlier run left in ``out`` (:data:`RUN_FILES`); their names."""
    removed = []
    for name in RUN_FILES:
        path = out / name
        if path.is_file() or path.is_symlink():
            path.unlink()
            removed.append(name)
    return removed
