"""``cnnspec conv`` and ``cnnspec pool``: small matrices worked by hand.

Room: consumers (cli). Reading matrices and writing the steps is
:mod:`cnnspec.homework.matrices` and :mod:`cnnspec.homework.by_hand`.
"""

from __future__ import annotations

import io
import json

import click

from cnnspec.cli.calc import pair
from cnnspec.cli.options import Renamed

FORMATS = ["text", "json", "csv", "markdown"]


def _format_option(func):
    return click.option("--format", "-f", "fmt", type=click.Choice(FORMATS), default="text",
                        show_default=True, help="Output format (csv: the result matrix only).")(func)


def render(result, fmt: str, steps: bool) -> str:
    """A :class:`~cnnspec.homework.by_hand.HandResult` as text, JSON, CSV or markdown;
    channel names from the matrix file reach the terminal with control characters
    escaped."""
    from cnnspec.render.safe_text import printable

    return printable(_render(result, fmt, steps))


def _render(result, fmt: str, steps: bool) -> str:
    from cnnspec.homework.by_hand import matrix_text, num

    if fmt == "json":
        return json.dumps(result.to_dict(), indent=2) + "\n"
    if fmt == "csv":
        buffer = io.StringIO()
        from cnnspec.render.safe_text import csv_writer

        writer = csv_writer(buffer)
        for c, matrix in enumerate(result.result):
            if c:
                buffer.write("\n")
            for row in matrix:
                writer.writerow([num(v) for v in row])
        return buffer.getvalue()
    md = fmt == "markdown"
    lines = [f"## {result.title}" if md else result.title, ""]
    lines += [f"- `{line}`" if md else line for line in result.size]
    if steps:
        lines += ["", "### Steps" if md else "steps:"]
        for step in result.steps:
            lines.append(f"- `{step.text}`" if md else f"  {step.text}")
            lines += [f"  - {d}" if md else f"      {d}" for d in step.details]
    for name, matrix in zip(result.channel_names, result.result, strict=True):
        label = "result" if len(result.result) == 1 else f"result, channel {name}"
        lines += ["", f"### {label.capitalize()}" if md else f"{label}:"]
        block = matrix_text(matrix)
        lines += ["```", block, "```"] if md else [block]
    if result.sampled is not None:
        lines += ["", "### A training draw" if md else "a training draw (--seed):"]
        lines += [f"- {s}" if md else f"  {s}" for s in result.sampled_steps]
        for matrix in result.sampled:
            block = matrix_text(matrix)
            lines += ["```", block, "```"] if md else [block]
    if result.notes:
        lines.append("")
        lines += [f"*{n}*" if md else f"note: {n}" for n in result.notes]
    return "\n".join(lines) + "\n"


@click.command()
@click.argument("image", metavar="IMAGE")
@click.argument("kernel", metavar="KERNEL")
@click.option("--stride", "-s", default="1", show_default=True, metavar="S|SHxSW")
@click.option("--pad", "-p", default="0", show_default=True, metavar="P|PHxPW",
              help="Padding on each side.")
@click.option("--pad-value", type=float, default=0.0, show_default=True,
              help="Constant written into the padding (0 is zero padding).")
@click.option("--bias", type=float, default=0.0, show_default=True,
              help="The bias w_0 added to every output.")
@click.option("--steps", is_flag=True, help="Write out every window's sum.")
@click.option("--rounding", type=click.Choice(["strict", "floor"]), default="strict",
              show_default=True, help="Allow a stride that does not fit (floor).")
@_format_option
def conv(image: str, kernel: str, stride: str, pad: str, pad_value: float, bias: float,
         steps: bool, rounding: str, fmt: str) -> None:
    """Convolve IMAGE with KERNEL: the result matrix, and with --steps every window's sum.

    IMAGE and KERNEL are text or CSV files (one row per line, numbers separated by
    spaces or commas) or inline matrices ("1 0 1; 0 1 0; 1 0 1"). A colour image is
    one matrix per channel (a blank line between them, or '|' inline) and the
    kernel then has one matrix per channel too: y = X_R*W_R + X_G*W_G + X_B*W_B + w_0.

    \b
    Examples:
      cnnspec conv "1 1 1 0 0; 0 1 1 1 0; 0 0 1 1 1; 0 0 1 1 0; 0 1 1 0 0" "1 0 1; 0 1 0; 1 0 1" --steps
      cnnspec conv image.txt kernel.txt --stride 2 --pad 1 --bias 1
      cnnspec conv image.csv kernel.csv --format csv
    """
    from cnnspec.conventions import Rounding
    from cnnspec.homework.by_hand import conv_by_hand
    from cnnspec.homework.matrices import read_matrix

    result = conv_by_hand(read_matrix(image, "image"), read_matrix(kernel, "kernel"),
                          stride=pair(stride, "--stride"), padding=pair(pad, "--pad", 0),
                          bias=bias, pad_value=pad_value, rounding=Rounding(rounding))
    click.echo(render(result, fmt, steps), nl=False)


@click.command()
@click.argument("fmap", metavar="FMAP")
@click.option("--filter", "--size", "-k", "size", cls=Renamed, old=("--size",), default="2",
              show_default=True, metavar="F|FHxFW",
              help="Window size.")
@click.option("--stride", "-s", default=None, metavar="S|SHxSW",
              help="Stride (default: the window size).")
@click.option("--pad", "-p", default="0", show_default=True, help="Padding on each side.")
@click.option("--mode", "-m", type=click.Choice(["max", "avg", "stochastic"]), default="max",
              show_default=True)
@click.option("--seed", type=int, default=None,
              help="Stochastic pooling: also draw one training output with this seed.")
@click.option("--steps", is_flag=True,
              help="Write out every window (always on for stochastic pooling).")
@click.option("--rounding", type=click.Choice(["strict", "floor", "ceil"]), default="strict",
              show_default=True, help="Allow a stride that does not fit (floor or ceil).")
@_format_option
def pool(fmap: str, size: str, stride: str | None, pad: str, mode: str, seed: int | None,
         steps: bool, rounding: str, fmt: str) -> None:
    """Pool FMAP: max, average, or stochastic (each window's probabilities and value).

    Stochastic pooling (training) picks element i of window R_j with probability
    p_i = a_i / sum_k a_k; at inference it outputs s_j = sum_i p_i a_i.

    \b
    Examples:
      cnnspec pool "1 1 2 4; 5 6 7 8; 3 2 1 0; 1 2 3 4" --filter 2 --stride 2
      cnnspec pool fmap.txt --filter 2 --mode avg --steps
      cnnspec pool fmap.txt --filter 2 --mode stochastic --seed 0
    """
    from cnnspec.conventions import Rounding
    from cnnspec.homework.by_hand import pool_by_hand
    from cnnspec.homework.matrices import read_matrix

    window = pair(size, "--filter")
    result = pool_by_hand(read_matrix(fmap, "feature map"), size=window,
                          stride=pair(stride, "--stride") if stride else None,
                          padding=pair(pad, "--pad", 0), mode=mode, rounding=Rounding(rounding),
                          seed=seed)
    click.echo(render(result, fmt, steps or mode == "stochastic"), nl=False)
