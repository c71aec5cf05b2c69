"""``cnnspec compare``: two or more specs side by side, with ratios to the first.

Room: consumers (cli). Every figure is read from the specs' analyses.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

import click

from cnnspec.cli.options import (
    emit,
    fit_width,
    format_option,
    load_spec,
    make_console,
    quiet_option,
    spec_options,
)
from cnnspec.render.safe_text import csv_writer


@dataclass(frozen=True)
class Metric:
    """One compared quantity: a key (JSON/CSV), a title, and whether it is a byte count."""

    key: str
    title: str
    kind: str = "count"  # count (exact and k/M/G) | bytes | plain (a small integer)


METRICS = (
    Metric("params", "Parameters (all)"),
    Metric("trainable_params", "Trainable parameters"),
    Metric("macs", "MACs per image"),
    Metric("param_bytes", "Parameter memory", "bytes"),
    Metric("activation_bytes", "Activation memory per image", "bytes"),
    Metric("weighted_layers", "Conv/FC layers", "plain"),
    Metric("depth", "Depth (longest path)", "plain"),
)


def measure(spec: str, input_shape: str | None = None, conventions: str | None = None,
            include_aux: bool = False) -> dict[str, Any]:
    """The compared figures of one spec, read from its analysis."""
    from cnnspec.analysis.depth import longest_path, weighted_layers

    loaded = load_spec(spec, input_shape, conventions)
    report = loaded.report(include_aux=include_aux)
    t = report.totals
    return {
        "name": report.name, "spec": spec, "input": list(report.input),
        "conventions": report.conventions.get("preset"),
        "params": t.params, "trainable_params": t.trainable_params, "macs": t.macs,
        "param_bytes": t.param_bytes, "activation_bytes": t.activation_bytes,
        "weighted_layers": weighted_layers(report), "depth": longest_path(loaded.network.layers),
    }


def ratio(value: int, base: int) -> float | None:
    """``value / base``, or ``None`` when the base is 0."""
    return value / base if base else None


def comparison(specs: list[dict[str, Any]]) -> dict[str, Any]:
    """Figures and ratios to the first spec (the baseline), as the JSON output."""
    base = specs[0]
    ratios = [{"name": s["name"], **{m.key: ratio(s[m.key], base[m.key]) for m in METRICS}}
              for s in specs[1:]]
    return {"baseline": base["name"], "specs": specs, "ratios": ratios,
            "summary": summary(specs)}


def summary(specs: list[dict[str, Any]]) -> list[str]:
    """One sentence per spec after the first: its trainable parameters against the baseline's."""
    base = specs[0]
    lines = []
    for s in specs[1:]:
        r = ratio(s["trainable_params"], base["trainable_params"])
        if r is None:
            continue
        if r <= 1:
            how = f"{base['name']} has {1 / r:.2f}x as many" if r else "it has none"
        else:
            how = f"{r - 1:.1%} more"
        lines.append(f"{s['name']} has {s['trainable_params']:,} trainable parameters, "
                     f"{r:.1%} of {base['name']}'s {base['trainable_params']:,} ({how})")
    return lines


def _value_text(metric: Metric, value: int, units: str = "binary", exact: bool = True) -> str:
    """The figure as ``exact (human)``, or (``exact=False``) its human form alone."""
    from cnnspec.units import exact_bytes, exact_count, human_bytes, human_count

    if metric.kind == "bytes":
        return exact_bytes(value, units) if exact else human_bytes(value, units)
    if metric.kind == "count":
        return exact_count(value) if exact else human_count(value)
    return f"{value:,}"


def _ratio_text(r: float | None) -> str:
    return "-" if r is None else f"x{r:.3f}"


def rows(data: dict[str, Any], exact: bool = True) -> tuple[list[str], list[list[str]]]:
    """Header and text rows: one row per metric; a ratio column after each spec but the first.

    ``exact=False`` writes each figure in its human form only (``61.10 M``)."""
    specs = data["specs"]
    header = ["Metric", specs[0]["name"]]
    for s in specs[1:]:
        header += [s["name"], f"{s['name']} / {specs[0]['name']}"]
    inputs = ["Input", _shape(specs[0])]
    for s in specs[1:]:
        inputs += [_shape(s), ""]
    body = [inputs]
    for metric in METRICS:
        cells = [metric.title, _value_text(metric, specs[0][metric.key], exact=exact)]
        for s, r in zip(specs[1:], data["ratios"], strict=True):
            cells += [_value_text(metric, s[metric.key], exact=exact), _ratio_text(r[metric.key])]
        body.append(cells)
    return header, body


def _shape(spec: dict[str, Any]) -> str:
    return "x".join(str(d) for d in spec["input"])


def render(data: dict[str, Any], kind: str) -> str:
    """The comparison as JSON, CSV or markdown text."""
    if kind == "json":
        return json.dumps(data, indent=2)
    if kind == "csv":
        out = io.StringIO()
        writer = csv_writer(out)
        specs = data["specs"]
        header = ["metric", specs[0]["name"]]
        for s in specs[1:]:
            header += [s["name"], f"{s['name']}/{specs[0]['name']}"]
        writer.writerow(header)
        for metric in METRICS:
            row: list[Any] = [metric.key, specs[0][metric.key]]
            for s, r in zip(specs[1:], data["ratios"], strict=True):
                row += [s[metric.key], "" if r[metric.key] is None else f"{r[metric.key]:.6f}"]
            writer.writerow(row)
        return out.getvalue()
    header, body = rows(data)
    lines = ["| " + " | ".join(header) + " |",
             "|---|" + "|".join("---:" for _ in header[1:]) + "|"]
    lines += ["| " + " | ".join(cells) + " |" for cells in body]
    lines += [""] + [f"- {line}" for line in data["summary"]]
    return "\n".join(lines) + "\n"


def print_table(data: dict[str, Any]) -> None:
    """The comparison on stdout, fitted to the terminal, then the summary sentences.

    When the exact figures do not fit, the table shows their human forms (``61.10 M``)
    and says so; when even those do not, the ratio columns give way first (a line names
    them; the sentences under the table give the main ratio).
    """
    from cnnspec.render.layout import PlainColumn, choose
    from cnnspec.render.table import print_fitted

    count = len(data["specs"])
    # priorities: metric 0, the specs' figures 1..n, then the ratios
    priority = [0, 1] + [p for i in range(1, count) for p in (1 + i, count + i)]
    console = make_console()
    width = fit_width(console)
    header, body = rows(data)
    columns = [PlainColumn(str(i), title, priority[i], numeric=i > 0)
               for i, title in enumerate(header)]
    rounded = width is not None and bool(choose(columns, [header, *body], width).hidden)
    if rounded:
        header, body = rows(data, exact=False)
    hidden = print_fitted(console, columns, body, width)
    if rounded:
        console.print(f"Figures rounded to fit {width} columns; `-f markdown` or a wider "
                      "terminal shows them exactly.", style="dim", markup=False)
    if hidden:
        console.print(f"Hidden to fit {width} columns: {', '.join(c.title for c in hidden)}.",
                      style="dim", markup=False)
    for line in data["summary"]:
        console.print(line, markup=False)


@click.command()
@click.argument("specs", nargs=-1, required=True, metavar="SPEC SPEC [SPEC]...")
@spec_options
@format_option
@click.option("--include-aux", is_flag=True, help="Count auxiliary heads in the totals.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None,
              help="Write to this file (atomically) instead of stdout.")
@quiet_option
def compare(specs: tuple[str, ...], input_shape: str | None, conventions: str | None, fmt: str,
            include_aux: bool, output: str | None, quiet: bool) -> None:
    """Compare SPECs side by side: parameters, MACs, memory and depth, with ratios.

    Ratios are to the first SPEC. Depth counts the layers with weights on the
    longest path (ResNet-50: 50); "Conv/FC layers" counts all of them.

    \b
    Examples:
      cnnspec compare alexnet-torchvision googlenet
      cnnspec compare vgg16 resnet50 densenet121 -f markdown
      cnnspec compare lenet5 "Conv(3x3,6,p=1)-ReLU-Pool(2)-FC(10)" --input 32x32x1 -f json
    """
    from cnnspec.render.columns import parse_format

    if len(specs) < 2:
        raise click.UsageError("give at least two specs to compare")
    data = comparison([measure(s, input_shape, conventions, include_aux) for s in specs])
    kind = parse_format(fmt).value
    if kind == "table" and output is None:
        print_table(data)
        return
    emit(render(data, "markdown" if kind == "table" else kind), output)
    if output and not quiet:
        click.echo(f"wrote {output}", err=True)
