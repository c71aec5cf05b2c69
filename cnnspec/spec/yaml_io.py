"""Reading YAML safely, remembering the line and column of every key and value.

Room: spec. Only PyYAML's safe loader is used (no tags that build Python
objects); the subclass below only records positions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from cnnspec.errors import Location, SpecError


class LocDict(dict):
    """A mapping from YAML that knows where each key and value was written."""

    loc: Location
    key_locs: dict[Any, Location]
    value_locs: dict[Any, Location]


class LocList(list):
    """A sequence from YAML that knows where each item was written."""

    loc: Location
    item_locs: list[Location]


class LocStr(str):
    """A string scalar from YAML with its position and quoting style."""

    loc: Location
    style: str | None


def _mark_loc(source: str, mark: Any) -> Location:
    return Location(source=source, line=mark.line + 1, column=mark.column + 1)


class _LocatingSafeLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that records positions; it constructs nothing unsafe."""

    source_name = "<yaml>"

    def construct_yaml_map(self, node: yaml.MappingNode):  # type: ignore[override]
        data = LocDict()
        yield data
        data.loc = _mark_loc(self.source_name, node.start_mark)
        data.key_locs = {}
        data.value_locs = {}
        self.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool)) or key is None:
                raise SpecError(
                    "a mapping key must be a plain word or number",
                    _mark_loc(self.source_name, key_node.start_mark),
                    "write keys like `kernel:`",
                )
            if key in data:
                raise SpecError(
                    f"key {key!r} appears twice in the same mapping",
                    _mark_loc(self.source_name, key_node.start_mark),
                    "keep one of them: YAML would silently drop the first",
                )
            data[key] = self.construct_object(value_node, deep=True)
            data.key_locs[key] = _mark_loc(self.source_name, key_node.start_mark)
            data.value_locs[key] = _mark_loc(self.source_name, value_node.start_mark)

    def construct_yaml_seq(self, node: yaml.SequenceNode):  # type: ignore[override]
        data = LocList()
        yield data
        data.loc = _mark_loc(self.source_name, node.start_mark)
        data.item_locs = [_mark_loc(self.source_name, n.start_mark) for n in node.value]
        data.extend(self.construct_object(n, deep=True) for n in node.value)

    def construct_yaml_str(self, node: yaml.ScalarNode):  # type: ignore[override]
        value = LocStr(self.construct_scalar(node))
        value.loc = _mark_loc(self.source_name, node.start_mark)
        value.style = node.style
        return value


_LocatingSafeLoader.add_constructor("tag:yaml.org,2002:map", _LocatingSafeLoader.construct_yaml_map)
_LocatingSafeLoader.add_constructor("tag:yaml.org,2002:seq", _LocatingSafeLoader.construct_yaml_seq)
_LocatingSafeLoader.add_constructor("tag:yaml.org,2002:str", _LocatingSafeLoader.construct_yaml_str)


def read_text(path: Path) -> str:
    """The text of a spec file, or a :class:`SpecError` saying why it cannot be read."""
    where = Location(source=str(path))
    if not path.exists():
        raise SpecError(f"no such file: {path}", where,
                        "check the path, or give a zoo name (`cnnspec zoo` lists them)")
    if path.is_dir():
        raise SpecError(f"{path} is a directory, not a spec file", where,
                        "give a .yaml file inside it")
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise SpecError(f"{path} is a binary file, not a YAML spec", where,
                        "give a text file with `name:`, `input:` and `architecture:`")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(f"{path} is not UTF-8 text (byte {exc.start})", where,
                        "save the spec as UTF-8") from None
    if not text.strip():
        raise SpecError(f"{path} is empty", where,
                        "a spec needs at least `input:` and `architecture:`")
    return text


def load_yaml(text: str, source: str) -> LocDict:
    """Parse YAML text into a :class:`LocDict`, or raise a located :class:`SpecError`."""
    loader_class = type("_Loader", (_LocatingSafeLoader,), {"source_name": source})
    loader = loader_class(text)
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = _mark_loc(source, mark) if mark is not None else Location(source)
        problem = exc.problem or exc.context or "malformed YAML"
        raise SpecError(f"malformed YAML: {problem}", loc,
                        "check indentation, colons and brackets on this line") from None
    except yaml.YAMLError as exc:
        raise SpecError(f"malformed YAML: {exc}", Location(source),
                        "check the file's syntax") from None
    finally:
        loader.dispose()
    if not isinstance(data, LocDict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise SpecError(
            f"the YAML document is {kind}, not a mapping",
            getattr(data, "loc", Location(source, 1, 1)),
            "a spec is a mapping with keys such as name:, input:, architecture:",
        )
    return data
