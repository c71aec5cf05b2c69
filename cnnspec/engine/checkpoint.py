"""Checkpoints: ``.npz`` files of plain arrays with the spec embedded (no pickle).

Room: engine.

Layout of a checkpoint (every entry a NumPy array, loadable with
``np.load(path, allow_pickle=False)``):

* ``param/{name}`` and ``buffer/{name}``: the model's arrays (``Conv:1.weight``);
* ``optim/{slot}/{name}``: optimiser state, when saved during training;
* ``meta/spec``: the spec as JSON text (so a checkpoint describes itself);
* ``meta/info``: JSON text with anything else (epoch, metrics, optimiser name, seed).
"""

from __future__ import annotations

import json
import math
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from cnnspec.atomic import write_with
from cnnspec.engine.budget import require_memory
from cnnspec.engine.data.npz_members import inspect_npz, read_members
from cnnspec.errors import DataError, Location
from cnnspec.spec.tree import Network


def save_checkpoint(path: str | Path, model: Any, *, info: dict[str, Any] | None = None,
                    optimizer_state: dict[str, dict[str, np.ndarray]] | None = None) -> None:
    """Write ``model`` (and optional optimiser state and info) to ``path`` atomically."""
    arrays: dict[str, np.ndarray] = {}
    for name, value in model.params.items():
        arrays[f"param/{name}"] = value
    for name, value in model.buffers.items():
        arrays[f"buffer/{name}"] = value
    for slot, values in (optimizer_state or {}).items():
        for name, value in values.items():
            arrays[f"optim/{slot}/{name}"] = np.asarray(value)
    arrays["meta/spec"] = np.array(model.network.model_dump_json())
    arrays["meta/info"] = np.array(json.dumps(info or {}))
    write_with(path, lambda handle: np.savez(handle, **arrays), suffix=".npz")


class Checkpoint:
    """A checkpoint read back: the spec, the arrays, optimiser state and info."""

    def __init__(self, path: Path, network: Network, state: dict[str, np.ndarray],
                 optimizer_state: dict[str, dict[str, np.ndarray]], info: dict[str, Any]):
        self.path = path
        self.network = network
        self.state = state
        self.optimizer_state = optimizer_state
        self.info = info

    def build(self, **options: Any) -> Any:
        """The model of the embedded spec with these weights loaded."""
        from cnnspec.engine.model import build

        model = build(self.network, **options)
        model.load_state_dict(self.state)
        return model


ARRAY_KINDS = ("param", "buffer", "optim")
MAX_META_BYTES = 64 * 1024 * 1024  # the spec and info JSON texts, as UTF-32 arrays
NOT_A_CHECKPOINT_HINT = ("give a .npz written by `cnnspec train` (best.npz or last.npz of a "
                         "run folder)")


def _embedded(entries: dict[str, np.ndarray], key: str, where: Location,
              parse: Callable[[str], Any]) -> Any:
    """The JSON text stored under ``key`` parsed with ``parse``; a DataError when it fails."""
    value = entries[key]
    if value.ndim != 0 or value.dtype.kind != "U":
        raise DataError(f"not a cnnspec checkpoint: {key} is not a text "
                        f"(dtype {value.dtype}, shape {value.shape})", where,
                        NOT_A_CHECKPOINT_HINT)
    try:
        return parse(str(value))
    except ValueError as exc:  # json.JSONDecodeError and pydantic's ValidationError
        first = _first_problem(exc)
        raise DataError(f"not a cnnspec checkpoint: {key} is not a valid "
                        f"{'spec' if key == 'meta/spec' else 'JSON text'} ({first})", where,
                        NOT_A_CHECKPOINT_HINT) from None


def _first_problem(exc: ValueError) -> str:
    """The first problem a JSON or validation error names, on one line."""
    errors = getattr(exc, "errors", None)  # pydantic's ValidationError
    if callable(errors) and errors():
        first = errors()[0]
        loc = ".".join(str(part) for part in first.get("loc", ()))
        return f"{loc}: {first['msg']}" if loc else str(first["msg"])
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _check_count(path: Path, network: Network, where: Location) -> int:
    """Refuse more arrays than the embedded spec can have; return its parameter count.

    A layer has at most 4 arrays (weight, bias, running mean and variance) and each
    array at most 2 optimiser slots, so ``arrays <= 12 * layers + 8``.
    """
    from cnnspec.analysis import analyze

    report = analyze(network)
    most = 12 * len(report.layers) + 8
    with zipfile.ZipFile(path) as archive:
        count = sum(1 for name in archive.namelist()
                    if name.partition("/")[0] in ARRAY_KINDS)
    if count > most:
        raise DataError(f"not a cnnspec checkpoint: it holds {count:,} arrays, but the "
                        f"embedded spec's {len(report.layers):,} rows can have at most "
                        f"{most:,}", where, NOT_A_CHECKPOINT_HINT)
    # auxiliary heads' parameters are saved too (they are trained, and exported)
    totals = report.totals
    return max(totals.params + (0 if totals.aux_included else totals.aux_params), 1)


def _check_declared(arrays: list[Any], limit: int, where: Location) -> None:
    """Refuse an array larger than the embedded spec's parameters (``limit``), unread.

    No weight, statistic or optimiser slot of a network holds more values than all its
    parameters together, so a larger declared shape means the file is not a checkpoint
    of that spec (or is a decompression bomb).
    """
    for member in arrays:
        count = math.prod(member.shape)
        if count > limit:
            raise DataError(f"not a cnnspec checkpoint: {member.name} declares {count:,} "
                            f"values, but the embedded spec has {limit:,} parameters in all",
                            where, NOT_A_CHECKPOINT_HINT)


IN_A_RUN = ("best.npz", "last.npz")  # what `cnnspec train` writes into its run folder


def checkpoint_file(path: str | Path) -> Path:
    """``path``, or in a run folder of ``cnnspec train`` its best.npz (else its last.npz)."""
    path = Path(path).expanduser()
    if not path.is_dir():
        return path
    for name in IN_A_RUN:
        if (path / name).is_file():
            return path / name
    raise DataError(f"{path} is a folder with neither best.npz nor last.npz in it",
                    Location(str(path)),
                    "give a checkpoint file (e.g. runs/NAME/best.npz) or the folder of a "
                    "`cnnspec train` run")


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read a checkpoint written by :func:`save_checkpoint` (a file, or a run folder: see
    :func:`checkpoint_file`); a clear DataError otherwise."""
    path = checkpoint_file(path)
    where = Location(str(path))
    if not path.is_file():
        raise DataError(f"no such checkpoint: {path}", where,
                        "give the .npz written by `cnnspec train` (e.g. runs/NAME/best.npz)")
    if not zipfile.is_zipfile(path):
        raise DataError(f"{path} is not a readable .npz checkpoint (not a zip archive)", where,
                        "the file is corrupt or not a checkpoint; use best.npz or last.npz "
                        "from the run folder")
    meta = inspect_npz(path, where, lambda name: name.startswith("meta/"))
    if "meta/spec" not in {m.name for m in meta}:
        raise DataError(f"{path} has no embedded spec", where,
                        "it was not written by cnnspec; load its arrays with "
                        "Model.load_state_dict")
    if sum(m.nbytes for m in meta) > MAX_META_BYTES:
        raise DataError(f"not a cnnspec checkpoint: its meta entries declare more than "
                        f"{MAX_META_BYTES:,} bytes", where, NOT_A_CHECKPOINT_HINT)
    texts = read_members(path, meta, where)
    network = _embedded(texts, "meta/spec", where, Network.model_validate_json)
    info = _embedded(texts, "meta/info", where, json.loads) if "meta/info" in texts else {}
    if not isinstance(info, dict):
        raise DataError("not a cnnspec checkpoint: meta/info is not a JSON object",
                        where, NOT_A_CHECKPOINT_HINT)
    limit = _check_count(path, network, where)
    arrays = inspect_npz(path, where, lambda name: name.partition("/")[0] in ARRAY_KINDS)
    _check_declared(arrays, limit, where)
    stored = sum(m.nbytes for m in arrays)
    # the arrays as read, and the model they are loaded into
    require_memory({"checkpoint arrays": stored, "model": stored}, f"reading {path.name}",
                   "use a machine with more memory", source=str(path))
    entries = read_members(path, arrays, where)
    state: dict[str, np.ndarray] = {}
    optimizer_state: dict[str, dict[str, np.ndarray]] = {}
    for key, value in entries.items():
        kind, _, rest = key.partition("/")
        if kind in ("param", "buffer"):
            state[rest] = value
        elif kind == "optim":
            slot, _, name = rest.partition("/")
            optimizer_state.setdefault(slot, {})[name] = value
    return Checkpoint(path, network, state, optimizer_state, info)
