"""Where downloaded data sets live.

Room: engine (``cnnspec/engine/data``); standard library only.

The cache root is, first match wins: an explicit directory (``--dir``), the
``CNNSPEC_DATA`` environment variable, ``~/.cache/cnnspec``. Each data set has its
own folder below it: ``<root>/mnist`` (the four ``.gz`` IDX files) and
``<root>/cifar10`` (the tarball and the extracted ``cifar-10-batches-py``).
"""

from __future__ import annotations

import os
from pathlib import Path

DATA_ENV = "CNNSPEC_DATA"
DEFAULT_HOME = Path("~/.cache/cnnspec")


def data_home(override: str | Path | None = None) -> Path:
    """The cache root: ``override``, else ``$CNNSPEC_DATA``, else ``~/.cache/cnnspec``."""
    if override is not None:
        return Path(override).expanduser()
    env = os.environ.get(DATA_ENV)
    return Path(env).expanduser() if env else DEFAULT_HOME.expanduser()


def dataset_dir(name: str, override: str | Path | None = None) -> Path:
    """The folder of data set ``name`` under the cache root."""
    return data_home(override) / name
