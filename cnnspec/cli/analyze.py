"""``cnnspec analyze`` and ``cnnspec validate``.

Room: consumers (cli).
"""

from __future__ import annotations

import click

from cnnspec.cli.options import (
    emit,
    format_option,
    load_spec,
    make_console,
    quiet_option,
    spec_argument,
    spec_options,
)

OPTIMIZERS = ["sgd", "momentum", "nesterov", "adagrad", "adadelta", "rmsprop", "adam"]


@click.command()
@spec_argument
@spec_options
@format_option
@click.option("--depth", "-d", type=click.IntRange(min=0), default=None,
              help="Show blocks only down to this depth (totals do not change).")
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
@quiet_option
def analyze(spec: str, input_shape: str | None, conventions: str | None, fmt: str,
            depth: int | None, batch: int, optimizer: str, include_aux: bool,
            macs: str | None, output: str | None, quiet: bool) -> None:
    """Per-layer output shape, weights, MACs, receptive field and memory of SPEC.

    \b
    Examples:
      cnnspec analyze specs/alexnet.yaml
      cnnspec analyze alexnet --conventions pytorch --format markdown
      cnnspec analyze "Conv(5x5,6)-ReLU-Pool(2)-Conv(5x5,16)-ReLU-Pool(2)-FC(120)-ReLU-FC(84)-ReLU-FC(10)-SM" --input 32x32x1
      cnnspec analyze resnet50 --depth 1 --batch 32 --optimizer sgd -f json
      cnnspec analyze mobilenet_v2 --macs torchinfo
    """
    from cnnspec.render.columns import parse_format

    loaded = load_spec(spec, input_shape, conventions)
    if macs is not None:
        loaded = loaded.with_conventions(macs=macs)
    report = loaded.report(batch=batch, optimizer=optimizer, include_aux=include_aux)
    kind = parse_format(fmt).value
    if kind == "table" and output is None:
        from cnnspec.render.table import print_report

        print_report(report, make_console(), depth)
        return
    if kind == "table":
        import io

        from rich.console import Console

        from cnnspec.render.table import print_report

        buffer = io.StringIO()
        print_report(report, Console(file=buffer, width=200, highlight=False), depth)
        text = buffer.getvalue()
    elif kind == "json":
        from cnnspec.render.text_formats import to_json

        text = to_json(report)
    elif kind == "csv":
        from cnnspec.render.text_formats import to_csv

        text = to_csv(report, depth)
    else:
        from cnnspec.render.text_formats import to_markdown

        text = to_markdown(report, depth)
    emit(text, output)
    if output and not quiet:
        click.echo(f"wrote {output}", err=True)


@click.command()
@spec_argument
@spec_options
@quiet_option
def validate(spec: str, input_shape: str | None, conventions: str | None, quiet: bool) -> None:
    """Check that SPEC is well-formed (sizes may still be missing).

    Exit status 0 when valid; 1 with a located error otherwise.

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
    click.echo(f"{loaded.name}: {status}")
    for _, what in gaps[:10]:
        click.echo(f"  - {what}")
