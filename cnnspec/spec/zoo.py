"""The model zoo: YAML specs shipped with cnnspec, found by name.

Room: spec. In a checkout the zoo is the top-level ``specs/`` folder; an
installed wheel carries the same files as the package ``cnnspec.zoo``.
"""

from __future__ import annotations

from pathlib import Path


def zoo_dirs() -> list[Path]:
    """Folders that may hold zoo specs, in search order."""
    here = Path(__file__).resolve().parent.parent
    dirs = [here / "zoo", here.parent / "specs"]
    return [d for d in dirs if d.is_dir()]


def names() -> list[str]:
    """Every zoo spec name (file stem), sorted."""
    found = {p.stem for d in zoo_dirs() for p in d.glob("*.yaml")}
    return sorted(found)


def find(name: str) -> Path | None:
    """The path of zoo spec ``name`` (case-insensitive, ``_`` = ``-``), or ``None``."""
    if not name or (any(c in name for c in "()[]-> ") and not name.replace("-", "").isalnum()):
        return None
    wanted = name.lower().replace("_", "-").removesuffix(".yaml")
    for folder in zoo_dirs():
        for path in folder.glob("*.yaml"):
            if path.stem.lower().replace("_", "-") == wanted:
                return path
    return None
