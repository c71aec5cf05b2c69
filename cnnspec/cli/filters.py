"""``cnnspec show-filters`` and ``cnnspec feature-maps``: a trained network, seen.

Room: consumers (cli). matplotlib and the engine are imported only when a command runs.
"""

from __future__ import annotations

import click

from cnnspec.cli.options import memory_option, quiet_option
from cnnspec.render.safe_text import printable

layer_option = click.option("--layer", "-l", default=None, metavar="NAME",
                            help="The layer (its name in `cnnspec analyze`); default: the "
                                 "first convolution.")
output_option = click.option("--output", "-o", type=click.Path(dir_okay=False), required=True,
                             help="The picture to write: .png, .svg or .pdf.")


@click.command("show-filters")
@click.argument("checkpoint", metavar="CKPT", type=click.Path())
@layer_option
@output_option
@quiet_option
@memory_option
def show_filters(checkpoint: str, layer: str | None, output: str, quiet: bool) -> None:
    """Draw the filters (kernels) of a conv layer of checkpoint CKPT (a file, or a run
    folder: its best.npz) as a grid.

    A layer reading 3 channels shows each filter in colour; others show each filter's
    input planes in grey. Each filter is scaled to its own range.

    \b
    Examples:
      cnnspec show-filters runs/lenet5/best.npz -o filters.png
      cnnspec show-filters runs/cifar/best.npz --layer Conv:2 -o conv2.png
    """
    from cnnspec.engine.train.trained import load_trained
    from cnnspec.render.filters import draw_filters

    model = load_trained(checkpoint).model
    name = draw_filters(model, output, layer)
    if not quiet:
        click.echo(printable(f"wrote {output} ({name})"), err=True)


@click.command("feature-maps")
@click.argument("checkpoint", metavar="CKPT", type=click.Path())
@click.argument("image", metavar="IMAGE")
@layer_option
@click.option("--invert", is_flag=True, help="Use 1 - pixel (dark ink on light paper).")
@output_option
@quiet_option
@memory_option
def feature_maps(checkpoint: str, image: str, layer: str | None, invert: bool, output: str,
                 quiet: bool) -> None:
    """Draw the feature maps one layer of checkpoint CKPT (a file, or a run folder: its
    best.npz) computes for IMAGE.

    IMAGE is a PNG, a .npy array or a text table of numbers, prepared as `cnnspec
    predict` prepares it (scaled to [0, 1], resized, standardised as in training). The
    default layer is the first convolution (after its activation, when one follows).

    \b
    Examples:
      cnnspec feature-maps runs/lenet5/best.npz digit.png -o maps.png
      cnnspec feature-maps runs/lenet5/best.npz digit.png --layer MPool:2 -o pool2.png
    """
    from cnnspec.cli.predict import read_image
    from cnnspec.engine.train.images import prepare_image
    from cnnspec.engine.train.trained import load_trained
    from cnnspec.render.filters import draw_feature_maps

    trained = load_trained(checkpoint)
    prepared = prepare_image(read_image(image), trained.model.input_shape, source=image,
                             invert=invert, norm=trained.norm)
    name, shape = draw_feature_maps(trained.model, prepared.x, output, layer,
                                    title=", ".join(prepared.steps))
    if not quiet:
        click.echo(printable(f"wrote {output} ({name}: {shape[0]} maps of "
                             f"{shape[1]}x{shape[2]})"),
                   err=True)
