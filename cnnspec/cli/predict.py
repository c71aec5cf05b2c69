"""``cnnspec predict``: the top classes a checkpoint gives each image.

Room: consumers (cli). Files are read here (PNG through matplotlib's ``imread``, ``.npy``
with ``np.load(allow_pickle=False)``, text with ``np.loadtxt``); the engine turns the
arrays into network input (:mod:`cnnspec.engine.train.images`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from cnnspec.cli.options import emit, format_option, make_console, memory_option, quiet_option
from cnnspec.cli.train import RESIZE_METHODS

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
TEXT_SUFFIXES = (".txt", ".csv")
MAX_TEXT_BYTES = 64 * 1024 * 1024  # a text table of numbers; larger images come as PNG/.npy


def read_image(path: str) -> Any:
    """The pixel array in file ``path``; a DataError for a missing, unreadable or huge file.

    Sizes are checked before decoding (:func:`cnnspec.engine.train.images.check_image_size`):
    a picture's header, a ``.npy`` header (read through a memory map), a text file's length.
    """
    import numpy as np

    from cnnspec.engine.train.images import check_image_size
    from cnnspec.errors import DataError, Location

    file = Path(path).expanduser()
    where = Location(str(file))
    if not file.is_file():
        raise DataError(f"no such image: {file}", where)
    suffix = file.suffix.lower()
    try:
        if suffix in IMAGE_SUFFIXES:
            return _decode_picture(file)
        if suffix == ".npy":
            mapped = np.load(file, mmap_mode="r", allow_pickle=False)
            dims = (*mapped.shape, 1, 1)  # H, W (, C)
            check_image_size(dims[0], dims[1], dims[2] if mapped.ndim > 2 else 1, str(file))
            return np.array(mapped)
        if suffix in TEXT_SUFFIXES:
            size = file.stat().st_size
            if size > MAX_TEXT_BYTES:
                raise DataError(f"{file}: a text image of {size:,} bytes is larger than the "
                                f"{MAX_TEXT_BYTES:,} cnnspec reads", where,
                                "save large images as PNG or .npy")
            return np.loadtxt(file, delimiter="," if suffix == ".csv" else None, ndmin=2)
    except (OSError, ValueError, SyntaxError) as exc:
        raise DataError(f"cannot read {file}: {exc}", where,
                        "give a PNG, a .npy array or a text file of numbers") from None
    raise DataError(f"cannot read {file.name}: unknown file type {suffix or '(none)'}", where,
                    "give a .png, .npy or .txt file")


def _decode_picture(file: Path) -> Any:
    """A PNG or JPEG read by matplotlib, after Pillow read its declared size from the header.

    matplotlib opens PNGs without Pillow's decompression-bomb check, so the size is
    checked here first, against cnnspec's own limit (lower than Pillow's).
    """
    import warnings

    from matplotlib.image import imread
    from PIL import Image, UnidentifiedImageError

    from cnnspec.engine.train.images import check_image_size
    from cnnspec.errors import DataError, Location

    limit = Image.MAX_IMAGE_PIXELS
    try:
        Image.MAX_IMAGE_PIXELS = None  # check_image_size is the (stricter) limit
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(file) as picture:  # lazy: reads the header, decodes nothing
                width, height = picture.size
                channels = len(picture.getbands())
            check_image_size(height, width, channels, str(file))
            return imread(file)
    except UnidentifiedImageError:
        raise DataError(f"cannot read {file}: not a PNG or JPEG image", Location(str(file)),
                        "give a PNG, a .npy array or a text file of numbers") from None
    finally:
        Image.MAX_IMAGE_PIXELS = limit


@click.command()
@click.argument("checkpoint", metavar="CKPT", type=click.Path())
@click.argument("images", metavar="IMAGE...", nargs=-1, required=True)
@click.option("--top", "-t", "top_k", type=click.IntRange(min=1), default=3, show_default=True,
              help="How many classes to show per image.")
@click.option("--invert", is_flag=True,
              help="Use 1 - pixel: for dark ink on light paper (the digit sets are light "
                   "on dark).")
@click.option("--method", type=click.Choice(RESIZE_METHODS), default="bilinear",
              show_default=True, help="How images are resized to the network's input.")
@format_option
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None,
              help="Write to this file (atomically) instead of stdout.")
@quiet_option
@memory_option
def predict(checkpoint: str, images: tuple[str, ...], top_k: int, invert: bool, method: str,
            fmt: str, output: str | None, quiet: bool) -> None:
    """Top-k classes with probabilities for each IMAGE under checkpoint CKPT (a file, or a
    `cnnspec train` run folder: its best.npz).

    IMAGE is a PNG (read with matplotlib), a .npy array or a .txt/.csv table of numbers:
    H x W for grey, H x W x 3 (or 4, alpha dropped) for colour. Pixels are scaled to
    [0, 1] (8-bit values / 255; float files with values above 1 by their maximum),
    converted grey <-> colour, resized to the checkpoint's input (bilinear) and
    standardised as in training. The digit data sets are light ink on a dark
    background: pass --invert for a dark digit on white paper.

    \b
    Examples:
      cnnspec predict runs/lenet5/best.npz digit.png
      cnnspec predict runs/lenet5/best.npz scan.png --invert --top 5
      cnnspec predict runs/lenet5/best.npz a.npy b.txt -f json
    """
    from cnnspec.engine.train.trained import load_trained, predict_top

    trained = load_trained(checkpoint)
    arrays = [(name, read_image(name)) for name in images]
    predictions = predict_top(trained, arrays, k=top_k, invert=invert, method=method)
    rows = [{"image": p.source, "steps": list(p.steps),
             "top": [{"label": label, "class": name, "probability": prob}
                     for label, name, prob in p.top]} for p in predictions]
    if not quiet:
        console = make_console(stderr=True)
        for p in predictions:
            if p.light_background:
                console.print(f"note: {p.source} has a light background; the training "
                              "images were light on dark: try --invert", highlight=False,
                              markup=False)
    if fmt == "table" and output is None and not quiet:
        _print_table(rows)
        return
    emit(_render(rows, fmt, quiet), output)


def _render(rows: list[dict[str, Any]], fmt: str, quiet: bool) -> str:
    from cnnspec.render import evaluation as render

    if fmt == "json":
        return json.dumps(rows, indent=2) + "\n"
    if fmt == "csv":
        return render.predictions_csv(rows)
    if fmt in ("markdown", "md"):
        return render.predictions_markdown(rows)
    if quiet:  # one line per image: the best class
        return "".join(f"{r['image']}\t{r['top'][0]['class']}\n" for r in rows)
    return "".join(f"{image}\t{rank}\t{name}\t{prob:.4f}\n"
                   for image, rank, _, name, prob in render.predictions_rows(rows))


def _print_table(rows: list[dict[str, Any]]) -> None:
    from rich.table import Table

    from cnnspec.render.safe_text import styled

    table = Table("image", header_style="bold")
    table.add_column("rank", justify="right")
    table.add_column("class")
    table.add_column("probability", justify="right")
    for row in rows:
        for rank, top in enumerate(row["top"], start=1):
            table.add_row(styled(row["image"]) if rank == 1 else "", str(rank),
                          styled(top["class"]),
                          f"{top['probability']:.2%}")
    make_console().print(table)
