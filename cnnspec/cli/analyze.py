"""``cnnspec analyze`` and ``cnnspec validate``.

Room: consumers (cli).
"""

from __future__ import annotations

import click

from cnnspec.cli.options import (
    emit,
    fit_width,
    load_spec,
    make_console,
    quiet_option,
    spec_argument,
    spec_options,
)

OPTIMIZERS = ["sgd", "momentum", "nesterov", "adagrad", "adadelta", "rmsprop", "adam"]


ANALYZE_FORMATS = ["table", "json", "csv", "markdown", "md", "html"]


def _columns(ctx: click.Context, param: click.Parameter, value: str | None):
    """``--columns layer,output,params`` -> those columns (an unknown name is a usage error)."""
    if value is None:
        return None
    from cnnspec.render.columns import parse_columns

    try:
        return parse_columns(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None


@click.command()
@spec_argument
@spec_options
@click.option("--format", "-f", "fmt", type=click.Choice(ANALYZE_FORMATS), default="table",
              show_default=True, help="Output format (html: one self-contained page; give -o).")
@click.option("--depth", "-d", type=click.IntRange(min=0), default=None,
              help="Show blocks only down to this depth (totals do not change). The table "
                   "collapses deep networks to at most 60 rows unless this is given.")
@click.option("--columns", "columns", default=None, callback=_columns,
              metavar="KEY,KEY,...",
              help="Table columns to show: layer, type, hyper, output, nodes, weights, biases, "
                   "params, non_trainable, macs, rf, memory.")
@click.option("--wide", is_flag=True,
              help="Every column at full width, even wider than the terminal.")
@click.option("--units", type=click.Choice(["binary", "si"]), default="binary",
              show_default=True, help="Bytes in KiB/MiB/GiB (binary) or kB/MB/GB (si).")
@click.option("--batch", "-b", type=click.IntRange(min=1), default=1, show_default=True,
              help="Batch size for activation and training memory.")
@click.option("--optimizer", type=click.Choice(OPTIMIZERS), default="adam", show_default=True,
              help="Optimizer whose state the training-memory estimate includes.")
@click.option("--include-aux", is_flag=True, help="Count auxiliary heads in the totals.")
@click.option("--macs", type=click.Choice(["weights", "torchinfo"]), default=None,
              help="What a MAC counts: conv/FC weight multiply-accumulates (the default), or "
                   "torchinfo's total_mult_adds (adds biases and batch-norm parameters).")
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None,
              help="Write to this file (atomically) instead of stdout.")
@click.option("--quiet", "-q", is_flag=True,
              help="Print only the data: the table and totals without the conventions "
                   "header, layout lines and notes; no 'wrote FILE' message.")
def analyze(spec: str, input_shape: str | None, conventions: str | None, fmt: str,
            depth: int | None, columns, wide: bool, units: str, batch: int, optimizer: str,
            include_aux: bool, macs: str | None, output: str | None, quiet: bool) -> None:
    """Per-layer output shape, weights, MACs, receptive field and memory of SPEC.

    The table fits the terminal: when it is too narrow, the columns that matter
    least (type, hyper-parameters, nodes, memory, ...) are left out and named under
    the table; deep networks show their blocks collapsed to at most 60 rows.

    \b
    Examples:
      cnnspec analyze specs/alexnet.yaml
      cnnspec analyze alexnet --conventions pytorch --format markdown
      cnnspec analyze "Conv(5x5,6)-ReLU-Pool(2)-Conv(5x5,16)-ReLU-Pool(2)-FC(120)-ReLU-FC(84)-ReLU-FC(10)-SM" --input 32x32x1
      cnnspec analyze resnet50 --depth 1 --batch 32 --optimizer sgd -f json
      cnnspec analyze resnet50 --columns layer,output,params,macs,rf
      cnnspec analyze googlenet -f html -o googlenet.html
      cnnspec analyze mobilenet_v2 --macs torchinfo
    """
    from cnnspec.render.columns import parse_format
    from cnnspec.render.table import AUTO, TableOptions

    loaded = load_spec(spec, input_shape, conventions)
    if macs is not None:
        loaded = loaded.with_conventions(macs=macs)
    report = loaded.report(batch=batch, optimizer=optimizer, include_aux=include_aux)
    kind = parse_format(fmt).value
    if quiet and kind in ("table", "markdown"):
        from dataclasses import replace

        report = replace(report, notes=[])  # --quiet: the numbers, without the notes
    if kind == "table" and output is None:
        from cnnspec.render.table import print_report

        console = make_console()
        fit = None if wide else fit_width(console)
        print_report(report, console, TableOptions(AUTO if depth is None else depth,
                                                   columns, fit, units, quiet))
        return
    if kind == "table":
        import io

        from cnnspec.render.safe_text import safe_console
        from cnnspec.render.table import print_report

        buffer = io.StringIO()
        print_report(report, safe_console(file=buffer, width=200, highlight=False),
                     TableOptions(AUTO if depth is None else depth, columns, None, units, quiet))
        text = buffer.getvalue()
    elif kind == "json":
        from cnnspec.render.text_formats import to_json

        text = to_json(report)
    elif kind == "csv":
        from cnnspec.render.text_formats import to_csv

        text = to_csv(report, depth)
    elif kind == "html":
        from cnnspec.render.page import report_page

        text = report_page(report, depth=depth, columns=columns, units=units)
    else:
        from cnnspec.render.text_formats import to_markdown

        text = to_markdown(report, depth, columns, units)
    emit(text, output)
    if output and not quiet:
        click.echo(f"wrote {output}", err=True)


def design_notes_of(network) -> list[str]:
    """The design notes of a network whose sizes are all given (none when its sizes fail:
    validating the structure does not stop there, and ``analyze`` names the place; none
    past ``DESIGN_CHECK_LAYERS`` layers, where ``analyze`` gives them)."""
    from cnnspec.analysis import analyze
    from cnnspec.analysis.design import DESIGN_CHECK_LAYERS, layer_count
    from cnnspec.errors import CnnspecError
    from cnnspec.render.columns import note_line

    if layer_count(network.layers) > DESIGN_CHECK_LAYERS:
        return []
    try:
        report = analyze(network)
    except CnnspecError:
        return []
    return [note_line(n) for n in report.notes if n.kind == "design"]


@click.command()
@spec_argument
@spec_options
@quiet_option
def validate(spec: str, input_shape: str | None, conventions: str | None, quiet: bool) -> None:
    """Check that SPEC is well-formed (sizes may still be missing).

    Exit status 0 when valid; 1 with a located error otherwise. When every size is
    given, also prints the design notes: layer pairs that are legal but almost always
    a slip (a bias right before batch norm, the same ReLU twice, a ReLU before the
    final softmax, ...); `analyze` shows them under its table.

    \b
    Examples:
      cnnspec validate my_net.yaml
      cnnspec validate "Conv-ReLU-Pool-Conv-ReLU-Pool-Conv-ReLU-Pool-FC-SM"
    """
    from cnnspec.analysis.missing import missing_sizes

    loaded = load_spec(spec, input_shape, conventions)
    if quiet:
        return
    gaps = missing_sizes(loaded.network)
    status = "valid" if not gaps else f"valid structure; {len(gaps)} size(s) still missing"
    from cnnspec.render.safe_text import printable

    click.echo(printable(f"{loaded.name}: {status}"))
    for _, what in gaps[:10]:
        click.echo(printable(f"  - {what}"))
    if not gaps:
        for note in design_notes_of(loaded.network):
            click.echo(printable(f"  note: {note}"))
