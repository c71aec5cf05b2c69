"""``cnnspec calc``: the calculator that shows its working.

Room: consumers (cli). The arithmetic is in :mod:`cnnspec.homework.calc`.
"""

from __future__ import annotations

import json

import click

from cnnspec.cli.options import Renamed, quiet_option

ROUNDINGS = ["strict", "floor", "ceil"]


def parse_dims(value: str | None, name: str, count: tuple[int, ...] = (1, 2)) -> tuple[int, ...]:
    """``"7"`` -> ``(7,)``; ``"224x224"`` -> ``(224, 224)``; a usage error otherwise."""
    if value is None:
        raise click.BadParameter("is required", param_hint=name)
    parts = value.lower().replace("×", "x").replace(" ", "").split("x")
    if not all(p.isdigit() for p in parts) or len(parts) not in count:
        shapes = " or ".join({1: "N", 2: "HxW", 3: "HxWxC"}[c] for c in count)
        raise click.BadParameter(f"{value!r} is not {shapes}", param_hint=name)
    return tuple(int(p) for p in parts)


def pair(value: str, name: str, minimum: int = 1) -> tuple[int, int]:
    """``"3"`` -> ``(3, 3)``; ``"5x3"`` -> ``(5, 3)``."""
    dims = parse_dims(value, name)
    if any(d < minimum for d in dims):
        raise click.BadParameter(f"{value!r} must be at least {minimum}", param_hint=name)
    return (dims[0], dims[0]) if len(dims) == 1 else (dims[0], dims[1])


def format_choice(func):
    """``--format text|json``."""
    return click.option("--format", "-f", "fmt", type=click.Choice(["text", "json"]), default="text",
                        show_default=True, help="Output format.")(func)


def show(working, fmt: str) -> None:
    """Print a :class:`~cnnspec.homework.calc.Working` as text or JSON."""
    if fmt == "json":
        click.echo(json.dumps(working.to_dict(), indent=2))
    else:
        click.echo(working.text())


@click.group()
def calc() -> None:
    """Output sizes, parameters, connections, receptive fields and memory, worked out.

    \b
    Examples:
      cnnspec calc output --input 7 --filter 3 --stride 2
      cnnspec calc output --input 224x224 --filter 11 --stride 4 --pad 3
      cnnspec calc params --filter 5x5x3 --filters 1
      cnnspec calc connections --filter 3x3 --input 16x16x20
      cnnspec calc receptive "Conv(3x3)-Conv(3x3)-Conv(3x3)"
      cnnspec calc memory 62369152
    """


@calc.command()
@click.option("--input", "-i", "input_text", required=True, metavar="N|HxW|HxWxC",
              help="Input size, e.g. 7, 224x224 or 224x224x3.")
@click.option("--filter", "-k", "filter_text", required=True, metavar="F|FHxFW",
              help="Filter (window) size.")
@click.option("--stride", "-s", default="1", show_default=True, metavar="S|SHxSW")
@click.option("--pad", "-p", default="0", show_default=True, metavar="P|PHxPW",
              help="Zero padding on each side.")
@click.option("--dilation", default="1", show_default=True, metavar="D|DHxDW",
              help="Dilation (1: a dense kernel).")
@click.option("--filters", "-K", type=click.IntRange(min=1), default=None,
              help="Number of filters (the output depth).")
@click.option("--rounding", type=click.Choice(ROUNDINGS), default="strict", show_default=True,
              help="What to do when the size is not whole (strict: it is an error).")
@format_choice
def output(input_text: str, filter_text: str, stride: str, pad: str, dilation: str,
           filters: int | None, rounding: str, fmt: str) -> None:
    """Output size O = (N + 2P - F)/S + 1, with the numbers put in.

    Under --rounding strict a size that is not whole prints the floor and ceil
    values and the nearest settings that make it whole, and exits with status 1.

    \b
    Examples:
      cnnspec calc output --input 7 --filter 3 --stride 3
      cnnspec calc output --input 224x224x3 --filter 11 --stride 4 --pad 3 --filters 96 --rounding floor
    """
    from cnnspec.conventions import Rounding
    from cnnspec.errors import AnalysisError, Location
    from cnnspec.homework.calc import output_size

    dims = parse_dims(input_text, "--input", (1, 2, 3))
    shape = (dims[0], dims[0]) if len(dims) == 1 else dims
    working = output_size(shape, pair(filter_text, "--filter"), pair(stride, "--stride"),
                          pair(pad, "--pad", 0), pair(dilation, "--dilation"), filters,
                          Rounding(rounding))
    show(working, fmt)
    if not working.ok:
        axis = next(a for a in working.data["axes"] if "floor" in a)
        raise AnalysisError(
            f"{axis['arithmetic']} = {axis['exact']} is not a whole number: stride {stride} "
            f"does not fit (floor {axis['floor']}, ceil {axis['ceil']})",
            Location("--stride"),
            "pick one of the nearest settings above, or allow it with --rounding floor or ceil",
        )


@calc.command()
@click.option("--filter", "-k", "filter_text", default=None, metavar="FHxFW[xC]",
              help="Conv filter size, with its depth as in the lecture (5x5x3) or without.")
@click.option("--in-channels", "--depth", "-c", "depth", cls=Renamed, old=("--depth",),
              type=click.IntRange(min=1), default=None,
              help="Input channels C (a filter spans all of them).")
@click.option("--filters", "-K", type=click.IntRange(min=1), default=1, show_default=True,
              help="Number of filters K.")
@click.option("--groups", "-g", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--fc", nargs=2, default=None, metavar="IN OUT",
              help="A fully connected layer instead: inputs (a number or HxWxC) and units.")
@click.option("--no-bias", is_flag=True, help="Count no bias.")
@format_choice
def params(filter_text: str | None, depth: int | None, filters: int, groups: int,
           fc: tuple[str, str] | None, no_bias: bool, fmt: str) -> None:
    """Parameters of a layer: (FH*FW*C + 1)*K for a conv, (in + 1)*out for an FC layer.

    \b
    Examples:
      cnnspec calc params --filter 5x5x3 --filters 1
      cnnspec calc params --filter 11x11 --in-channels 3 --filters 96
      cnnspec calc params --fc 6x6x256 4096 --no-bias
    """
    from cnnspec.homework.calc import conv_parameters, fc_parameters

    if fc is not None:
        units = parse_dims(fc[1], "--fc OUT", (1,))[0]
        show(fc_parameters(parse_dims(fc[0], "--fc IN", (1, 2, 3)), units, not no_bias), fmt)
        return
    if filter_text is None:
        raise click.UsageError("give --filter (e.g. 5x5x3, or 5x5 with --in-channels 3) or --fc IN OUT")
    kernel, depth = filter_and_depth(filter_text, depth)
    show(conv_parameters(kernel, depth, filters, not no_bias, groups), fmt)


def filter_and_depth(filter_text: str, depth: int | None) -> tuple[tuple[int, int], int]:
    """``5x5x3`` (the lecture's FH x FW x C) or ``5x5`` plus ``--in-channels 3`` -> ``((5, 5), 3)``."""
    dims = parse_dims(filter_text, "--filter", (1, 2, 3))
    if len(dims) == 3:
        if dims[2] < 1:
            raise click.BadParameter(f"{filter_text!r}: the depth must be at least 1",
                                     param_hint="--filter")
        if depth is not None and depth != dims[2]:
            raise click.BadParameter(
                f"{filter_text!r} spans depth {dims[2]} but --in-channels says {depth}; "
                "give the depth once", param_hint="--filter")
        return pair("x".join(map(str, dims[:2])), "--filter"), dims[2]
    kernel = pair(filter_text, "--filter")
    if depth is None:
        raise click.UsageError(f"give the input depth: --filter {kernel[0]}x{kernel[1]}x3 "
                               "(FH x FW x C) or --in-channels 3")
    return kernel, depth


@calc.command()
@click.option("--filter", "-k", "filter_text", required=True, metavar="FHxFW")
@click.option("--input", "-i", "input_text", required=True, metavar="HxWxC|C",
              help="The input volume (or just its depth C).")
@click.option("--stride", "-s", default="1", show_default=True)
@click.option("--pad", "-p", default="0", show_default=True)
@click.option("--filters", "-K", type=click.IntRange(min=1), default=None,
              help="Number of filters: also count the layer's connections.")
@format_choice
def connections(filter_text: str, input_text: str, stride: str, pad: str, filters: int | None,
                fmt: str) -> None:
    """Connections per output neuron: FH*FW*C (each a weight).

    \b
    Examples:
      cnnspec calc connections --filter 3x3 --input 16x16x20
      cnnspec calc connections --filter 3x3 --input 16x16x20 --pad 1 --filters 10
    """
    from cnnspec.homework.calc import connections as count

    dims = parse_dims(input_text, "--input", (1, 3))
    show(count(pair(filter_text, "--filter"), dims, pair(stride, "--stride"),
               pair(pad, "--pad", 0), filters), fmt)


@calc.command()
@click.argument("spec", metavar="SPEC")
@click.option("--input", "-i", "input_shape", default=None, metavar="HxWxC",
              help="Input size (default: the smallest that the stack reduces to one value).")
@format_choice
def receptive(spec: str, input_shape: str | None, fmt: str) -> None:
    """Receptive field of a stack of layers, and stacked vs single-conv weights.

    \b
    Examples:
      cnnspec calc receptive "Conv(3x3)-Conv(3x3)-Conv(3x3)"
      cnnspec calc receptive "Conv(11x11,s=4)-Pool(3,s=2)-Conv(5x5,p=2)"
    """
    from cnnspec.homework.calc import receptive_field

    show(receptive_field(spec, input_shape), fmt)


@calc.command()
@click.argument("values", metavar="COUNT")
@click.option("--dtype", type=click.Choice(["float64", "float32", "float16", "bfloat16", "int8"]),
              default="float32", show_default=True)
@format_choice
@quiet_option
def memory(values: str, dtype: str, fmt: str, quiet: bool) -> None:
    """Bytes, MB (1000^2) and MiB (1024^2) of COUNT stored values.

    \b
    Examples:
      cnnspec calc memory 62369152
      cnnspec calc memory 781,736 --dtype float64
    """
    from cnnspec.homework.calc import memory as memory_of

    text = values.replace(",", "").replace("_", "")
    if not text.isdigit():
        raise click.BadParameter(f"{values!r} is not a whole number", param_hint="COUNT")
    working = memory_of(int(text), dtype)
    if quiet and fmt == "text":
        click.echo(working.answer)
        return
    show(working, fmt)
