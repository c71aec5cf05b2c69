"""Answer-file templates: a blank table for a report, to fill in; and how a template names
its spec so that it works on any machine.

Room: consumers (homework). Row names come from the report's asked rows
(:func:`cnnspec.homework.answers.asked_rows`).
"""

from __future__ import annotations

import io
from pathlib import Path

from cnnspec.analysis.records import Report
from cnnspec.homework.answers import INPUT_ROW, TOTAL_ROW, asked_rows
from cnnspec.render.safe_text import csv_writer


def portable_spec(spec: str, answer_dir: Path) -> str:
    """How an answer file or key names ``spec`` so that it works on any machine.

    A zoo name stays a zoo name; a file that is a zoo spec becomes its zoo name; any
    other file becomes a path relative to the folder the answer file is written to;
    a network string stays as it is. Never an absolute path.
    """
    import os

    from cnnspec.spec import zoo
    from cnnspec.spec.load import is_existing_file, looks_like_path

    if not (looks_like_path(spec) or is_existing_file(spec)):
        return spec
    path = Path(spec).expanduser().resolve()
    shipped = zoo.find(path.stem)
    if shipped is not None and shipped.is_file() and path.is_file() and \
            shipped.read_bytes() == path.read_bytes():
        return shipped.stem
    return Path(os.path.relpath(path, answer_dir.resolve())).as_posix()


def spec_block(spec: str) -> list[str]:
    """``spec:`` lines that embed the spec file ``spec`` (its YAML, indented), or a network
    string / zoo name as one line."""
    from cnnspec.spec import zoo
    from cnnspec.spec.load import is_existing_file, looks_like_path
    from cnnspec.spec.yaml_io import read_text

    found = Path(spec) if looks_like_path(spec) or is_existing_file(spec) else zoo.find(spec)
    if found is None:
        return [f"spec: {_yaml_scalar(spec)}"]
    text = read_text(Path(found).expanduser())
    body = [line for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]
    return ["spec:    # the spec itself, embedded", *("  " + line for line in body)]


TEMPLATE_TOTALS = ("weights", "memory_bytes", "memory_mb", "nodes")


def _yaml_scalar(text: str) -> str:
    import json

    return text if text.replace("_", "").replace("-", "").isalnum() else json.dumps(text)


def conventions_value(report: Report) -> str:
    """The report's conventions as an answer-file value: a preset name, or a flow mapping."""
    from cnnspec.conventions import PRESET_NAMES, preset

    values = report.conventions
    name = str(values.get("preset", "default"))
    base = preset(name if name in PRESET_NAMES else "default").model_dump(mode="json")
    changed = {k: v for k, v in values.items() if k != "preset" and base.get(k) != v}
    if not changed and name in PRESET_NAMES:
        return name
    shown = ", ".join(f"{k}: {str(v).lower() if isinstance(v, bool) else v}"
                      for k, v in changed.items())
    return f"{{preset: {name if name in PRESET_NAMES else 'default'}, {shown}}}"


def template_yaml(report: Report, spec: str, spec_lines: list[str] | None = None) -> str:
    """A YAML answer file for ``report`` with every cell blank, to fill in.

    ``spec`` is written as given (make it portable first: :func:`portable_spec`), or
    ``spec_lines`` replace the ``spec:`` line (an embedded spec, :func:`spec_block`).
    """
    lines = [
        f"# Answers for {report.name}; fill in every blank. Values may be numbers (34944,",
        "# 34,944), expressions ((11x11x3+1)x96), working = answer, or rounded figures (3.2M).",
        f"# {report.conventions_text}",
        *(spec_lines or [f"spec: {_yaml_scalar(spec)}"]),
        f"conventions: {conventions_value(report)}",
        "student:",
        "layers:",
        "  input:",
        "    output:      # H x W x C",
        "    nodes:",
    ]
    for row in asked_rows(report):
        lines.append(f"  {row.name}:{' ' * max(1, 12 - len(row.name))}# {row.type} {row.hyper}")
        lines.append("    output:")
        lines.append("    nodes:")
        if row.params:
            lines.append("    weights:")
    lines.append("totals:")
    comments = {"weights": "all parameters", "memory_bytes": "weights x bytes per value",
                "memory_mb": "memory_bytes / 1024^2 (set mb_base: 1000 for SI MB)",
                "nodes": "stored outputs"}
    lines += [f"  {key}:{' ' * (14 - len(key))}# {comments[key]}" for key in TEMPLATE_TOTALS]
    return "\n".join(lines) + "\n"


def template_csv(report: Report, spec: str) -> str:
    """A CSV answer file for ``report`` with every cell blank."""
    buffer = io.StringIO()
    buffer.write(f"# spec: {spec}\n# conventions: {conventions_value(report)}\n")
    writer = csv_writer(buffer)
    header = ["layer", "output", "nodes", "weights", *TEMPLATE_TOTALS[1:3]]
    writer.writerow(header)
    writer.writerow([INPUT_ROW, "", "", "", "", ""])
    for row in asked_rows(report):
        writer.writerow([row.name, "", "", "", "", ""])
    writer.writerow([TOTAL_ROW, "", "", "", "", ""])
    return buffer.getvalue()
