"""The wheel carries the zoo: specs/ is mapped to the package cnnspec.zoo."""

from __future__ import annotations

from pathlib import Path

import tomllib

from cnnspec.spec import zoo

ROOT = Path(__file__).resolve().parents[2]


def setuptools_config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_package_directory_is_listed() -> None:
    listed = set(setuptools_config()["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts)
             for p in (ROOT / "cnnspec").rglob("*.py") if "__pycache__" not in p.parts}
    missing = found - listed
    assert not missing, f"add these to [tool.setuptools] packages in pyproject.toml: {missing}"


def test_the_zoo_package_is_the_specs_folder() -> None:
    config = setuptools_config()
    assert "cnnspec.zoo" in config["packages"]
    assert config["package-dir"]["cnnspec.zoo"] == "specs"
    assert config["package-data"]["cnnspec.zoo"] == ["*.yaml"]


def test_zoo_lookup_searches_the_installed_package_and_the_checkout() -> None:
    package = Path(zoo.__file__).resolve().parent.parent
    assert zoo.zoo_dirs() == [d for d in (package / "zoo", package.parent / "specs")
                              if d.is_dir()]
    assert zoo.find("ResNet50") == zoo.find("resnet50") == ROOT / "specs" / "resnet50.yaml"
    assert zoo.find("VGG16_BN") == ROOT / "specs" / "vgg16-bn.yaml"
    assert zoo.find("no-such-net") is None


def test_the_zoo_readme_lists_every_spec() -> None:
    readme = (ROOT / "specs" / "README.md").read_text()
    assert all(f"`{name}`" in readme for name in zoo.names())
