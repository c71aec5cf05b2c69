"""Reading YAML safely, remembering the line and column of every key and value.

Room: spec. Only PyYAML's safe loader is used (no tags that build Python
objects); the subclass below only records positions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from cnnspec.errors import Location, SpecError
from cnnspec.spec.budget import MAX_NUMBER, MAX_YAML_DEPTH, too_large


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


MAX_MERGED = 100_000
"""Entries merge keys (``<<``) may copy in one document (anchors merged again and again)."""
MAX_FILE_BYTES = 10_000_000
"""Largest spec file read (100,000 layers written one per line take about 1 MB)."""
_MERGE = "tag:yaml.org,2002:merge"
_STR = "tag:yaml.org,2002:str"


class _LocatingConstructor(yaml.constructor.SafeConstructor):
    """``SafeConstructor`` that records positions; it constructs nothing unsafe.

    Merge keys follow the YAML merge-key rule: keys written in the mapping
    override merged ones, and of several merged mappings the first wins; a key
    written twice in one mapping stays an error. Whole numbers are bounded
    before they are converted.
    """

    source_name = "<yaml>"
    merged = 0

    def construct_yaml_map(self, node: yaml.MappingNode):  # type: ignore[override]
        data = LocDict()
        yield data
        data.loc = _mark_loc(self.source_name, node.start_mark)
        data.key_locs = {}
        data.value_locs = {}
        merges = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merges.append((key_node, value_node))
                continue
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
        for key_node, value_node in merges:
            sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else \
                [value_node]
            for source in sources:
                self._merge(data, source, key_node)

    def _merge(self, data: LocDict, node: yaml.Node, key_node: yaml.Node) -> None:
        """Copy the keys of the mapping ``node`` that ``data`` does not have yet."""
        where = _mark_loc(self.source_name, key_node.start_mark)
        if not isinstance(node, yaml.MappingNode):
            raise SpecError("a merge key (<<) takes a mapping or a list of mappings", where,
                            "write `<<: *anchor` where the anchor names a mapping")
        merged = self.construct_object(node, deep=True)
        self.merged += len(merged)
        if self.merged > MAX_MERGED:
            raise SpecError(f"the merge keys (<<) copy more than {MAX_MERGED:,} entries", where,
                            "merge small mappings, or write the arguments out")
        for key, value in merged.items():
            if key not in data:
                data[key] = value
                data.key_locs[key] = merged.key_locs.get(key, where)
                data.value_locs[key] = merged.value_locs.get(key, where)

    def construct_yaml_seq(self, node: yaml.SequenceNode):  # type: ignore[override]
        data = LocList()
        yield data
        source = self.source_name
        data.loc = _mark_loc(source, node.start_mark)
        data.item_locs = []
        for item in node.value:
            loc = _mark_loc(source, item.start_mark)
            data.item_locs.append(loc)
            if item.tag == _STR and isinstance(item, yaml.ScalarNode):  # most items of a long list
                value = LocStr(item.value)
                value.loc, value.style = loc, item.style
                data.append(value)
            else:
                data.append(self.construct_object(item, deep=True))

    def construct_yaml_str(self, node: yaml.ScalarNode):  # type: ignore[override]
        value = LocStr(self.construct_scalar(node))
        value.loc = _mark_loc(self.source_name, node.start_mark)
        value.style = node.style
        return value

    def construct_yaml_int(self, node: yaml.ScalarNode):  # type: ignore[override]
        text = str(node.value).replace("_", "")
        where = _mark_loc(self.source_name, node.start_mark)
        if len(text) > 64:  # decided before conversion: int() of 5,000 digits is refused
            raise too_large(text, where)
        value = super().construct_yaml_int(node)
        if abs(value) > MAX_NUMBER:
            raise too_large(str(value), where)
        return value


for _tag, _method in (("map", "construct_yaml_map"), ("seq", "construct_yaml_seq"),
                      ("str", "construct_yaml_str"), ("int", "construct_yaml_int")):
    _LocatingConstructor.add_constructor(f"tag:yaml.org,2002:{_tag}",
                                         getattr(_LocatingConstructor, _method))


class _BoundedComposer(yaml.composer.Composer):
    """PyYAML's composer with the nesting of collections bounded (it recurses per level)."""

    source_name = "<yaml>"
    nesting = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self.nesting += 1
        try:
            if self.nesting > MAX_YAML_DEPTH:
                raise SpecError(
                    f"the YAML nests lists and mappings more than {MAX_YAML_DEPTH} deep here",
                    _mark_loc(self.source_name, self.peek_event().start_mark),
                    "write the layers one after another instead of nesting them")
            return super().compose_node(parent, index)
        finally:
            self.nesting -= 1


def _init_building(loader: Any) -> None:
    """Set up the composer, constructor and resolver of ``loader`` (after its parser)."""
    yaml.composer.Composer.__init__(loader)
    yaml.constructor.SafeConstructor.__init__(loader)
    yaml.resolver.Resolver.__init__(loader)


class _PythonParsingLoader(_BoundedComposer, yaml.reader.Reader, yaml.scanner.Scanner,
                           yaml.parser.Parser, _LocatingConstructor, yaml.resolver.Resolver):
    """A safe loader that records positions, bounds nesting and numbers, merges by the rule,
    with PyYAML's own parser, which reads event by event.

    libyaml (0.2.6 on) refuses nesting past 1,000 while it parses ahead, before the
    composer's own bound of :data:`MAX_YAML_DEPTH` is reached; a document refused that way
    is read again with this parser, so the error names the place the bound is crossed.
    """

    def __init__(self, stream: str):
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        _init_building(self)


# libyaml's parser (when PyYAML has it) reads long files about ten times faster; the
# composing and constructing stay in Python, where nesting and numbers are bounded
_PARSER: Any = getattr(getattr(yaml, "cyaml", None), "CParser", None)

if _PARSER is None:  # pragma: no cover - PyYAML without libyaml
    _LocatingSafeLoader: type = _PythonParsingLoader
else:
    class _LocatingSafeLoader(_BoundedComposer, _PARSER, _LocatingConstructor,  # type: ignore[no-redef]
                              yaml.resolver.Resolver):
        """:class:`_PythonParsingLoader` with libyaml's parser."""

        def __init__(self, stream: str):
            _PARSER.__init__(self, stream)
            _init_building(self)


def read_text(path: Path) -> str:
    """The text of a spec file, or a :class:`SpecError` saying why it cannot be read."""
    where = Location(source=str(path))
    if not path.exists():
        raise SpecError(f"no such file: {path}", where,
                        "check the path, or give a zoo name (`cnnspec zoo` lists them)")
    if path.is_dir():
        raise SpecError(f"{path} is a directory, not a spec file", where,
                        "give a .yaml file inside it")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise SpecError(f"{path} has {path.stat().st_size:,} bytes; a spec file is at most "
                        f"{MAX_FILE_BYTES:,}", where, "give a spec file, not a data file")
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


def load_yaml(text: str, source: str, loader_base: type = _LocatingSafeLoader) -> LocDict:
    """Parse YAML text into a :class:`LocDict`, or raise a located :class:`SpecError`."""
    loader_class = type("_Loader", (loader_base,), {"source_name": source})
    loader = loader_class(text)
    try:
        data = loader.get_single_data()
    except RecursionError:  # pragma: no cover - nesting is bounded before Python's limit
        raise SpecError("the YAML nests too deeply to be read", Location(source),
                        f"nest lists and mappings at most {MAX_YAML_DEPTH} deep") from None
    except yaml.MarkedYAMLError as exc:
        if "nesting depth" in str(exc.problem) and loader_base is not _PythonParsingLoader:
            loader.dispose()
            return load_yaml(text, source, _PythonParsingLoader)
        mark = exc.problem_mark or exc.context_mark
        loc = _mark_loc(source, mark) if mark is not None else Location(source)
        problem = exc.problem or exc.context or "malformed YAML"
        hint = ("an anchor cannot hold an alias of itself" if "recursive" in problem else
                "check indentation, colons and brackets on this line")
        raise SpecError(f"malformed YAML: {problem}", loc, hint) from None
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
