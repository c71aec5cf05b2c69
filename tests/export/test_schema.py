"""`cnnspec schema`: the JSON Schema accepts every zoo spec and catches typical mistakes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cnnspec.export.schema import spec_schema
from cnnspec.spec.load import TOP_KEYS
from cnnspec.spec.tree import AnyNode  # noqa: F401 - the union the schema must cover

from .helpers import FIXTURES

jsonschema = pytest.importorskip("jsonschema")
SPECS = sorted((Path(__file__).resolve().parents[2] / "specs").glob("*.yaml"))


@pytest.fixture(scope="module")
def validator():
    schema = spec_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def errors(validator, doc) -> list[str]:
    return [e.message for e in validator.iter_errors(doc)]


@pytest.mark.parametrize("path", SPECS + [Path(p) for p in FIXTURES], ids=lambda p: p.stem)
def test_every_spec_file_is_valid(validator, path: Path) -> None:
    assert errors(validator, yaml.safe_load(path.read_text())) == []


def test_top_level_keys_are_the_loaders() -> None:
    schema = spec_schema()
    assert set(schema["properties"]) == set(TOP_KEYS)
    assert schema["required"] == ["architecture"]


def test_every_layer_kind_has_arguments() -> None:
    from cnnspec.spec.vocabulary import WORDS

    defs = spec_schema()["$defs"]
    kinds = {w.kind for w in WORDS.values()}
    assert {f"{k}_args" for k in kinds} <= set(defs)
    conv = defs["conv_args"]["anyOf"][0]["properties"]
    assert {"kernel", "k", "filters", "stride", "s", "padding", "p"} <= set(conv)
    assert "Filter size" in conv["kernel"]["description"]


@pytest.mark.parametrize("doc", [
    {"architecture": "Conv-ReLU", "nmae": "typo"},
    {"architecture": [{"conv": {"kernal": 3}}]},
    {"architecture": [{"Conv": {"kernel": "three"}}]},
    {"architecture": [{"kind": "conv", "kernal": 3}]},
    {"architecture": "Conv", "conventions": "pytroch"},
    {"architecture": "Conv", "conventions": {"rounding": "nearest"}},
    {"architecture": "Conv", "input": "224 by 224"},
    {"input": "32x32x1"},
    {"architecture": [{"LeakyReLU": {"slop": 0.1}}]},
    {"architecture": [{"GELU": {"approximate": "sigmoid"}}]},
    {"architecture": [{"ELU": {"alpha": -1}}]},
])
def test_mistakes_are_rejected(validator, doc) -> None:
    assert errors(validator, doc)


@pytest.mark.parametrize("doc", [
    {"architecture": [{"MPool": {"k": 3, "s": 2}}, {"conv2d": {"kernel": "5x3", "n": 8}},
                      {"residual": {"body": "Conv(3x3,8,p=1)", "shortcut": ["BN"]}},
                      {"concat": {"branches": ["Conv(1x1,4)", "identity", []]}},
                      {"repeat": 2, "layers": ["ReLU"]}, {"bottleneck": {"planes": 64}}]},
    {"architecture": "Conv-FC", "layers": {"Conv:1": {"k": 3, "n": 8}},
     "defaults": {"conv": {"padding": 1}}, "conventions": {"preset": "lecture", "fc_bias": True}},
    {"architecture": [{"LeakyReLU": {"slope": 0.1}}, {"prelu": {"num_parameters": 8}},
                      {"GELU": {"approximate": "tanh"}}, "Hardswish", "swish",
                      {"Softplus": {"beta": 2, "threshold": 10}}]},
])
def test_accepted_forms(validator, doc) -> None:
    assert errors(validator, doc) == []
