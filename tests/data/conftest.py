import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240611)


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch):
    """Point the download cache at a temporary folder: tests never touch ~/.cache."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("CNNSPEC_DATA", str(cache))
    return cache
