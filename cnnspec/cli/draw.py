"""``cnnspec draw``: the network as a picture.

Room: consumers (cli). matplotlib is imported only when the command runs.
"""

from __future__ import annotations

import click

from cnnspec.cli.options import load_spec, quiet_option, spec_argument, spec_options
from cnnspec.errors import CnnspecError


@click.command()
@spec_argument
@spec_options
@click.option("--output", "-o", type=click.Path(dir_okay=False), required=True,
              help="The picture to write: .png, .svg or .pdf (written atomically).")
@click.option("--depth", "-d", type=click.IntRange(min=0), default=None,
              help="Draw blocks deeper than this as one box each (as `analyze --depth`); "
                   "default: as deep as stays readable.")
@click.option("--title", default=None, help="A title instead of name, size and MACs.")
@click.option("--dpi", type=click.IntRange(min=30, max=600), default=150, show_default=True,
              help="Resolution of a PNG.")
@quiet_option
def draw(spec: str, input_shape: str | None, conventions: str | None, output: str,
         depth: int | None, title: str | None, dpi: int, quiet: bool) -> None:
    """Draw SPEC as the lectures draw CNNs: one 3-D box per layer output.

    Boxes are to scale in height (H), receding side (W) and thickness (channels),
    on a log scale where one dimension would dwarf the others (the legend says which);
    FC layers are bars; residual and dense connections are arcs into a + or C node;
    inception branches run side by side into a C node; auxiliary heads hang below.

    \b
    Examples:
      cnnspec draw lenet5 -o lenet5.png
      cnnspec draw resnet50 -o resnet50.svg --depth 1
      cnnspec draw "Conv(5x5,6)-ReLU-Pool(2)-FC(10)" -i 32x32x1 -o tiny.png
    """
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise CnnspecError("drawing needs matplotlib",
                           hint="install the extra: pip install 'cnnspec[train]'") from None
    from cnnspec.render.draw import draw_network

    report = load_spec(spec, input_shape, conventions).report()
    used = draw_network(report, output, depth=depth, title=title, dpi=dpi)
    if not quiet:
        cut = f" (blocks below depth {used} as single boxes)" if used is not None else ""
        click.echo(f"wrote {output}{cut}", err=True)
