"""User images as network input, for ``cnnspec predict``.

Room: engine (``cnnspec/engine/train``); imports NumPy, the data package and
:mod:`cnnspec.errors`. Reading files is the caller's job; this module takes arrays.

An image array becomes one ``(C, H, W)`` example in these steps:

1. layout: a 2-D array is one grey image ``(H, W)``; a 3-D array is ``(H, W, C)`` with
   C = 1, 3 or 4 (an alpha channel is dropped);
2. scale to ``[0, 1]``: integer arrays are divided by their type's maximum (255 for
   8-bit PNGs); float arrays whose largest value is above 1 are divided by that value
   (so the digits' 0..16 and 0..255 text files both land in ``[0, 1]``);
3. ``invert``: ``x <- 1 - x`` (dark ink on white paper -> the data sets' light ink on
   black);
4. channels: grey -> colour copies the plane, colour -> grey takes the luma
   ``0.299 R + 0.587 G + 0.114 B``;
5. size: resized to the network's ``H x W`` (:func:`resize_images`, bilinear by default);
6. the checkpoint's standardisation ``(x - mean_c) / std_c``, as in training.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnspec.engine.budget import checking, require_memory
from cnnspec.engine.data import convert_channels, resize_images
from cnnspec.engine.train.normalize import Standardize, apply_standardize
from cnnspec.errors import DataError, Location

LIGHT_BACKGROUND = 0.5  # border mean above this: probably dark ink on light paper
MAX_IMAGE_PIXELS = 64_000_000  # 8000 x 8000; a 48-megapixel photo fits
BYTES_PER_SAMPLE = 4 * 3  # float32 decoded, then about two float32 working copies


def check_image_size(height: int, width: int, channels: int, source: str) -> None:
    """Refuse an image too large to decode, from the size its header declares.

    Two limits, before a pixel is decoded: ``height * width <= MAX_IMAGE_PIXELS`` (a
    decompression bomb -- a few kilobytes of PNG declaring 15000 x 15000 -- stops here),
    and ``height * width * channels * 12`` bytes (float32 pixels and the working copies
    of scaling and resizing) within the memory available. ``--no-memory-check`` lifts both.
    """
    if not checking():
        return
    pixels = height * width
    if pixels > MAX_IMAGE_PIXELS:
        raise DataError(f"the image declares {width}x{height} pixels "
                        f"({pixels:,}), more than the {MAX_IMAGE_PIXELS:,} cnnspec decodes",
                        Location(source), "scale the image down first (the network sees only "
                        "its input size); or, if it is genuine, pass --no-memory-check")
    require_memory({"decoded image": pixels * max(channels, 1) * BYTES_PER_SAMPLE},
                   f"decoding {source} ({width}x{height})", "scale the image down first",
                   source=source)


@dataclass(frozen=True)
class PreparedImage:
    """One image as the network takes it, and what was done to get there."""

    x: np.ndarray  # (C, H, W) float32
    steps: tuple[str, ...]
    light_background: bool


def to_unit_range(image: np.ndarray, source: str) -> tuple[np.ndarray, str | None]:
    """``image`` as float32 in ``[0, 1]`` (module step 2) and the scaling applied."""
    if np.issubdtype(image.dtype, np.integer):
        top = float(np.iinfo(image.dtype).max)
        return (image.astype(np.float32) / np.float32(top)), f"divided by {top:g}"
    if not np.issubdtype(image.dtype, np.floating) and image.dtype != np.bool_:
        raise DataError(f"{source}: pixels of type {image.dtype} are not numbers",
                        Location(source))
    x = image.astype(np.float32)
    if not np.isfinite(x).all():
        raise DataError(f"{source}: the image has NaN or infinite pixels", Location(source))
    if x.min(initial=0.0) < 0:
        raise DataError(f"{source}: the image has negative pixels", Location(source),
                        "give pixel values in [0, 1] or 0..255")
    top = float(x.max(initial=0.0))
    if top > 1.0:
        return x / np.float32(top), f"divided by its maximum {top:g}"
    return x, None


def prepare_image(image: np.ndarray, input_shape: tuple[int, ...], *, source: str = "<array>",
                  invert: bool = False, method: str = "bilinear",
                  norm: Standardize | None = None) -> PreparedImage:
    """One image array -> ``(C, H, W)`` for a network taking ``input_shape`` = (C, H, W)."""
    where = Location(source)
    if image.ndim == 2:
        hwc = image[:, :, None]  # (H, W, 1)
    elif image.ndim == 3 and image.shape[2] in (1, 3, 4):
        hwc = image[:, :, :3] if image.shape[2] == 4 else image  # drop alpha
    else:
        raise DataError(f"{source}: an image array of shape {image.shape} is neither H x W "
                        "nor H x W x C with C = 1, 3 or 4", where,
                        "save a grey image as a 2-D array, a colour one as H x W x 3")
    steps = [f"read {hwc.shape[0]}x{hwc.shape[1]}x{hwc.shape[2]}"]
    x, scaling = to_unit_range(hwc, source)
    if scaling:
        steps.append(scaling)
    x = x.transpose(2, 0, 1)[None]  # (1, C, H, W)
    border = np.concatenate([x[0, :, 0, :].ravel(), x[0, :, -1, :].ravel(),
                             x[0, :, :, 0].ravel(), x[0, :, :, -1].ravel()])
    light = float(border.mean()) > LIGHT_BACKGROUND
    if invert:
        x = 1.0 - x
        steps.append("inverted")
    if len(input_shape) != 3:
        raise DataError(f"the network takes a vector of {input_shape[0]} values, not an image",
                        where)
    c, h, w = input_shape
    if x.shape[1] != c:
        x = convert_channels(x, c)
        steps.append("grey -> colour" if c == 3 else "colour -> grey (luma)")
    if x.shape[2:] != (h, w):
        x = resize_images(x, (h, w), method)
        steps.append(f"resized to {h}x{w} ({method})")
    if norm is not None:
        steps.append("standardised as in training")
    return PreparedImage(apply_standardize(norm, x)[0], tuple(steps), light and not invert)
