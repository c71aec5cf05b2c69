"""``cnnspec explain``: every number of an analysis as a derivation, in markdown.

Room: consumers (cli).
"""

from __future__ import annotations

import click

from cnnspec.cli.options import emit, load_spec, quiet_option, spec_argument, spec_options


@click.command()
@spec_argument
@spec_options
@click.option("--batch", "-b", type=click.IntRange(min=1), default=1, show_default=True,
              help="Batch size for the activation and training memory.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None,
              help="Write the markdown to this file (atomically) instead of stdout.")
@quiet_option
def explain(spec: str, input_shape: str | None, conventions: str | None, batch: int,
            output: str | None, quiet: bool) -> None:
    """Every cell of SPEC's analysis written out as a derivation (markdown).

    \b
    Examples:
      cnnspec explain specs/alexnet.yaml
      cnnspec explain alexnet --conventions pytorch -o alexnet.md
      cnnspec explain "Conv(5x5,6)-Pool(2)-FC(10)" --input 32x32x1
    """
    from cnnspec.homework.explain import explain_markdown

    loaded = load_spec(spec, input_shape, conventions)
    emit(explain_markdown(loaded.network, loaded.report(batch=batch)), output)
    if output and not quiet:
        click.echo(f"wrote {output}", err=True)
