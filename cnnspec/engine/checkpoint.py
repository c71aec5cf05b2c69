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
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"not a cnnspec checkpoint: {key} is not a valid "
                        f"{'spec' if key == 'meta/spec' else 'JSON text'} ({first})", where,
                        NOT_A_CHECKPOINT_HINT) from None


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read a checkpoint written by :func:`save_checkpoint`; a clear DataError otherwise."""
    path = Path(path).expanduser()
    where = Location(str(path))
    if not path.is_file():
        raise DataError(f"no such checkpoint: {path}", where,
                        "give the .npz written by `cnnspec train` (e.g. runs/NAME/best.npz)")
    if not zipfile.is_zipfile(path):
        raise DataError(f"{path} is not a readable .npz checkpoint (not a zip archive)", where,
                        "the file is corrupt or not a checkpoint; use best.npz or last.npz "
                        "from the run folder")
    members = inspect_npz(path, where)
    stored = sum(m.nbytes for m in members)
    # the arrays as read, and the model they are loaded into
    require_memory({"checkpoint arrays": stored, "model": stored}, f"reading {path.name}",
                   "use a machine with more memory", source=str(path))
    entries = read_members(path, members, where)
    if "meta/spec" not in entries:
        raise DataError(f"{path} has no embedded spec", where,
                        "it was not written by cnnspec; load its arrays with "
                        "Model.load_state_dict")
    network = _embedded(entries, "meta/spec", where, Network.model_validate_json)
    info = _embedded(entries, "meta/info", where, json.loads) if "meta/info" in entries else {}
    if not isinstance(info, dict):
        raise DataError("not a cnnspec checkpoint: meta/info is not a JSON object",
                        where, NOT_A_CHECKPOINT_HINT)
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
