"""Answer files: a student's table of per-layer values and totals, read from YAML or CSV.

Room: consumers (homework). YAML goes through the project's safe, position-
recording loader (``cnnspec.spec.yaml_io``), so a wrong key is reported at its
``line:column``.

YAML::

    student: Kim            # optional
    spec: alexnet           # optional: a zoo name, a YAML path (relative to this file) or a string
    conventions: lecture    # optional: a preset name or {preset: ..., fc_bias: false, ...}
    mb_base: 1024           # optional: what "MB" means in memory_mb (1024 or 1000)
    layers:                 # keyed by the row names `cnnspec check --template SPEC` prints
      input:  {output: 224x224x3, nodes: 150528}
      Conv:1: {output: 55x55x96, nodes: 290400, weights: (11x11x3+1)x96}
      Pool:1: {output: 27x27x96, nodes: 69984}
    totals:
      weights: 58621952
      memory_bytes: 249476608
      memory_mb: ~237
      nodes: 781736

CSV: a header with ``layer`` and any of the cell names; a row named ``total``
holds the totals; ``# spec: alexnet`` lines before the header set the options.
A blank cell (or ``null``) is an unanswered question.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnnspec.analysis.records import LayerRecord, Report
from cnnspec.errors import CnnspecError, DataError, Location
from cnnspec.homework.values import Given, parse_number, parse_shape

LAYER_CELLS = ("output", "nodes", "weights", "macs")
TOTAL_CELLS = ("weights", "nodes", "macs", "memory_bytes", "memory_mb", "memory_mib",
               "node_memory_bytes", "node_memory_mb", "node_memory_mib")
ALIASES = {"params": "weights", "parameters": "weights", "activations": "nodes",
           "shape": "output", "size": "output", "mult_adds": "macs"}
TOP_KEYS = ("student", "spec", "conventions", "mb_base", "layers", "totals", "questions",
            "exercise")
INPUT_ROW = "input"
MAX_ANSWER_BYTES = 1_000_000
TOTAL_ROW = "total"
# rows a student's table is expected to have: the layers that change the shape or hold weights
ASKED_KINDS = {"conv", "pool", "fc", "subsample", "global_pool", "adaptive_pool"}


@dataclass(frozen=True)
class AnswerSheet:
    """One student's answers.

    ``rows[name][cell]`` is the :class:`Given` value, or ``None`` for a cell left
    blank; a cell that is not in the mapping was not written at all.
    """

    source: str
    student: str | None = None
    spec: str | None = None
    spec_loc: Location | None = None
    spec_text: str | None = None  # a spec embedded in the file (YAML text)
    conventions: Any = None
    conventions_loc: Location | None = None
    mb_base: int | None = None
    rows: dict[str, dict[str, Given | None]] = field(default_factory=dict)
    row_locs: dict[str, Location] = field(default_factory=dict)
    totals: dict[str, Given | None] = field(default_factory=dict)
    questions: dict[str, Any] = field(default_factory=dict)  # as written; a key reads them
    question_locs: dict[str, Location] = field(default_factory=dict)
    exercise: str | None = None

    @property
    def name(self) -> str:
        """The student's name, else the file's stem."""
        return self.student or Path(self.source).stem


def asked_rows(report: Report) -> list[LayerRecord]:
    """The report rows a table of answers covers (main network, shape-changing or weighted)."""
    return [r for r in report.leaves() if r.kind in ASKED_KINDS or r.params]


def canonical_cell(key: str, allowed: tuple[str, ...], loc: Location | None, where: str) -> str:
    """The cell name for ``key`` (aliases accepted), or a located error with a suggestion."""
    from cnnspec.spec.vocabulary import suggest

    name = ALIASES.get(str(key).strip().lower(), str(key).strip().lower())
    if name in allowed:
        return name
    guess = suggest(str(key), list(allowed))
    hint = f"did you mean {guess!r}?" if guess else f"{where} cells: " + ", ".join(allowed)
    if any(ch.isdigit() or ch in "()=" for ch in str(key)):
        hint = ("inside {...} a comma starts a new entry: quote values that contain commas, "
                "e.g. nodes: \"290,400\"")
    raise DataError(f"unknown cell {key!r} in {where}", loc, hint)


def parse_cell(cell: str, raw: Any, loc: Location | None) -> Given | None:
    """A cell's value (``None`` when blank)."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    return parse_shape(raw, loc) if cell == "output" else parse_number(raw, loc)


def _mb_base(raw: Any, loc: Location | None) -> int:
    if raw in (1000, 1024) and not isinstance(raw, bool):
        return int(raw)
    if isinstance(raw, str) and raw.strip() in ("1000", "1024"):
        return int(raw)
    raise DataError(f"mb_base must be 1000 or 1024, not {raw!r}", loc,
                    "1024 (MB = 1024^2 bytes, as the lecture's ~237 MB) or 1000 (SI megabytes)")


def file_kind(path: Path) -> str | None:
    """``file``, ``directory``, ``FIFO``, ``device``, ``socket`` (from ``stat``, without
    opening), or ``None`` when nothing is there."""
    import stat

    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "socket" if stat.S_ISSOCK(mode) else "special file"


def read_checked_text(path: str | Path, what: str = "answer file") -> str:
    """The text of a small regular file, checked before it is opened (a FIFO or a device
    is refused from ``stat``: reading one could block forever)."""
    path = Path(path)
    where = Location(str(path))
    kind = file_kind(path)
    if kind is None:
        raise DataError(f"no such {what}: {path}", where,
                        "give a .yaml or .csv file (`cnnspec check --template SPEC` writes one)")
    if kind != "file":
        raise DataError(f"{path} is a {kind}, not an {what}", where,
                        f"{what}s are regular .yaml or .csv files; remove it from the folder")
    size = path.stat().st_size
    if size > MAX_ANSWER_BYTES:
        raise DataError(f"{path} holds {size:,} bytes; an {what} is at most "
                        f"{MAX_ANSWER_BYTES:,}", where, "hand in the answer table only")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(f"{path} is not UTF-8 text", where, "save the file as UTF-8") from None
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}", where,
                        "check the file's permissions") from None
    if not text.strip():
        raise DataError(f"{path} is empty", where,
                        "`cnnspec check --template SPEC` writes a file to fill in")
    return text


def read_answers(path: str | Path) -> AnswerSheet:
    """Read an answer file (``.csv`` as CSV, anything else as YAML)."""
    text = read_checked_text(path)
    if Path(path).suffix.lower() == ".csv":
        return parse_csv(text, str(path))
    return parse_yaml(text, str(path))


def load_document(text: str, source: str, what: str = "answer file") -> Any:
    """The YAML mapping of an answer file or key, or a located error."""
    from cnnspec.spec.yaml_io import load_yaml

    try:
        return load_yaml(text, source)
    except CnnspecError as exc:
        hint = exc.hint if "malformed" in exc.message else \
            "an answer file is a mapping with layers: and totals: (see cnnspec check --help)"
        raise DataError(exc.message.replace("spec", what), exc.loc, hint) from None


KEY_FIELDS = ("key", "points", "partial_credit", "tolerance", "accept", "title")


def parse_yaml(text: str, source: str) -> AnswerSheet:
    """An :class:`AnswerSheet` from YAML text (an answer key reads as its own answers)."""
    doc = load_document(text, source)
    return sheet_from_doc(doc, source, KEY_FIELDS if "key" in doc else ())


def sheet_from_doc(doc: Any, source: str, extra_keys: tuple[str, ...] = (),
                   what: str = "the answer file") -> AnswerSheet:
    """An :class:`AnswerSheet` from a loaded YAML mapping; ``extra_keys`` are allowed and
    left to the caller (an answer key's ``points:``, ``accept:``, ...)."""
    from cnnspec.spec.vocabulary import suggest
    from cnnspec.spec.yaml_io import LocDict

    allowed = TOP_KEYS + extra_keys
    for key in doc:
        if key not in allowed:
            guess = suggest(str(key), list(allowed))
            raise DataError(f"unknown key {key!r} in {what}", doc.key_locs[key],
                            f"did you mean {guess!r}?" if guess else
                            "top-level keys: " + ", ".join(allowed))
    values: dict[str, Any] = {"source": source}
    if doc.get("exercise") is not None:
        values["exercise"] = str(doc["exercise"])
    questions = doc.get("questions")
    if questions is not None:
        if not isinstance(questions, LocDict):
            raise DataError("`questions` must map a question to its answer",
                            doc.value_locs["questions"], "write `questions: {Q1: 27, Q2: 1280}`")
        values["questions"] = {str(k): v for k, v in questions.items()}
        values["question_locs"] = {str(k): questions.value_locs[k] for k in questions}
    for key in ("student", "spec"):
        if doc.get(key) is not None and not isinstance(doc[key], LocDict):
            values[key] = str(doc[key])
    if isinstance(doc.get("spec"), LocDict):
        values["spec_text"] = embedded_text(doc["spec"])
    values["spec_loc"] = doc.value_locs.get("spec")
    values["conventions"] = doc.get("conventions")
    values["conventions_loc"] = doc.value_locs.get("conventions")
    if doc.get("mb_base") is not None:
        values["mb_base"] = _mb_base(doc["mb_base"], doc.value_locs["mb_base"])
    rows: dict[str, dict[str, Given | None]] = {}
    row_locs: dict[str, Location] = {}
    layers = doc.get("layers")
    if layers is not None:
        if not isinstance(layers, LocDict):
            raise DataError("`layers` must map a row name to its cells", doc.value_locs["layers"],
                            "write `layers: {Conv:1: {output: 55x55x96, nodes: 290400}}`")
        for name, cells in layers.items():
            loc = layers.key_locs[name]
            row_locs[str(name)] = loc
            rows[str(name)] = _yaml_cells(str(name), cells, loc, LAYER_CELLS)
    totals: dict[str, Given | None] = {}
    if doc.get("totals") is not None:
        totals = _yaml_cells(TOTAL_ROW, doc["totals"], doc.value_locs["totals"], TOTAL_CELLS)
    return AnswerSheet(rows=rows, row_locs=row_locs, totals=totals, **values)


def _yaml_cells(row: str, cells: Any, loc: Location, allowed: tuple[str, ...]
                ) -> dict[str, Given | None]:
    from cnnspec.spec.yaml_io import LocDict

    if cells is None:
        return {}
    if not isinstance(cells, LocDict):
        raise DataError(f"{row}: expected a mapping of cells, got {cells!r}", loc,
                        f"write `{row}: {{{', '.join(f'{c}: ...' for c in allowed[:3])}}}`")
    out: dict[str, Given | None] = {}
    where = "the totals" if row == TOTAL_ROW else "a layer row"
    for key, raw in cells.items():
        cell = canonical_cell(str(key), allowed, cells.key_locs[key], where)
        value_loc = cells.value_locs[key]
        out[cell] = parse_cell(cell, raw, value_loc)
    return out


def parse_csv(text: str, source: str) -> AnswerSheet:
    """An :class:`AnswerSheet` from CSV text (``# key: value`` lines, then a header)."""
    lines = text.splitlines()
    options: dict[str, tuple[str, Location]] = {}
    start = 0
    while start < len(lines) and (lines[start].startswith("#") or not lines[start].strip()):
        key, sep, value = lines[start].lstrip("#").partition(":")
        if sep and key.strip() in ("student", "spec", "conventions", "mb_base"):
            options[key.strip()] = (value.strip(), Location(source, start + 1))
        start += 1
    reader = csv.reader(io.StringIO("\n".join(lines[start:])))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise DataError(f"{source} has no header row", Location(source, start + 1),
                        "start with a header such as layer,output,nodes,weights") from None
    names = [h.lower() for h in header]
    if "layer" not in names:
        raise DataError("the CSV header has no `layer` column", Location(source, start + 1),
                        "start with a header such as layer,output,nodes,weights")
    layer_col = names.index("layer")
    columns: dict[int, str] = {}
    for i, h in enumerate(header):
        if i != layer_col and h:
            columns[i] = canonical_cell(h, tuple(dict.fromkeys(LAYER_CELLS + TOTAL_CELLS)),
                                        Location(source, start + 1), "the CSV header")
    rows: dict[str, dict[str, Given | None]] = {}
    row_locs: dict[str, Location] = {}
    totals: dict[str, Given | None] = {}
    for offset, record in enumerate(reader):
        line = start + 2 + offset
        if not any(c.strip() for c in record):
            continue
        loc = Location(source, line)
        if len(record) > len(header):
            raise DataError(f"line {line} has {len(record)} fields but the header has "
                            f"{len(header)}", loc, "quote values that contain commas: \"1,728\"")
        name = record[layer_col].strip()
        is_total = name.lower() in (TOTAL_ROW, "totals")
        cells: dict[str, Given | None] = {}
        for i, cell in columns.items():
            raw = record[i] if i < len(record) else ""
            allowed = TOTAL_CELLS if is_total else LAYER_CELLS
            if cell not in allowed:
                if raw.strip():
                    home = "a layer" if is_total else f"the {TOTAL_ROW}"
                    raise DataError(f"{name}: {cell} belongs on {home} row", loc,
                                    f"leave {cell} blank here")
                continue
            cells[cell] = parse_cell(cell, raw, loc)
        if is_total:
            totals = cells
        else:
            if name in rows:
                raise DataError(f"row {name!r} appears twice", loc, "keep one of them")
            rows[name] = cells
            row_locs[name] = loc
    values: dict[str, Any] = {}
    for key in ("student", "spec", "conventions"):
        if key in options:
            values[key] = options[key][0]
    if "conventions" in options and options["conventions"][0].startswith("{"):
        from cnnspec.spec.yaml_io import load_yaml

        text, loc = options["conventions"]
        try:
            values["conventions"] = load_yaml(f"conventions: {text}", source)["conventions"]
        except CnnspecError:
            raise DataError(f"cannot read the conventions {text!r}", loc,
                            "write `# conventions: lecture` or `# conventions: {preset: "
                            "default, fc_bias: false}`") from None
    if "spec" in options:
        values["spec_loc"] = options["spec"][1]
    if "conventions" in options:
        values["conventions_loc"] = options["conventions"][1]
    if "mb_base" in options:
        values["mb_base"] = _mb_base(options["mb_base"][0], options["mb_base"][1])
    return AnswerSheet(source=source, rows=rows, row_locs=row_locs, totals=totals, **values)


def embedded_text(spec: Any) -> str:
    """The YAML text of a spec embedded as a mapping under ``spec:``."""
    import yaml

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        if isinstance(value, str):
            return str(value)
        return value

    return yaml.safe_dump(plain(spec), sort_keys=False)
