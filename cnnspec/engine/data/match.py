"""Fitting a data set to a network's input shape: check, or resize when asked.

Room: engine (``cnnspec/engine/data``); imports NumPy and :mod:`cnnspec.errors` only.

A spec's input is ``(H, W, C)`` (or ``(D,)`` for a flat input); a :class:`Dataset`
holds ``(N, C, H, W)`` images. They match when ``(H, W, C)`` agree, or when ``D``
equals ``H * W * C`` (the engine flattens). Otherwise nothing changes silently:
:func:`match_input` raises a ``DataError`` naming both shapes unless ``resize=True``,
which resizes ``H x W`` (:func:`resize_images`) and converts grey <-> colour
(:func:`convert_channels`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cnnspec.engine.data.dataset import Dataset
from cnnspec.engine.data.resize import (
    ResizeMethod,
    convert_channels,
    parse_method,
    resize_images,
)
from cnnspec.errors import DataError, Location

CHANNEL_NAMES = {1: "grey", 3: "colour"}


def shape_text(shape: Sequence[int]) -> str:
    """``(32, 32, 1)`` -> ``"32x32x1"``."""
    return "x".join(str(d) for d in shape)


def _describe(shape: Sequence[int]) -> str:
    text = shape_text(shape)
    name = CHANNEL_NAMES.get(shape[-1]) if len(shape) == 3 else None
    return f"{text} ({name})" if name else text


def check_input(dataset: Dataset, input_shape: Sequence[int],
                method: ResizeMethod | str = ResizeMethod.BILINEAR) -> None:
    """Raise a ``DataError`` unless ``dataset``'s images fit ``input_shape``.

    The error names the data set's image shape and the network's input shape and,
    when :func:`match_input` can fix it, suggests ``--resize``.
    """
    have = dataset.image_shape  # (H, W, C)
    want = tuple(int(d) for d in input_shape)
    where = Location(source=dataset.source)
    if want == have:
        return
    head = (f"data set {dataset.name!r} has {_describe(have)} images but the network's input "
            f"is {_describe(want)}")
    if len(want) == 1:
        if want[0] == have[0] * have[1] * have[2]:
            return
        raise DataError(head, where, f"set the spec's input to {shape_text(have)}")
    if len(want) != 3:
        raise DataError(head, where, "the input must be H x W x C")
    h, w, c = want
    if c != have[2] and not {c, have[2]} <= {1, 3}:
        raise DataError(head, where, f"only grey (1) <-> colour (3) can be converted; set the "
                        f"spec's input to {shape_text((h, w, have[2]))}")
    steps = []
    if (h, w) != have[:2]:
        steps.append(f"resize {shape_text(have[:2])} -> {h}x{w} ({parse_method(method).value})")
    if c != have[2]:
        steps.append("copy the grey plane to R, G, B" if c == 3
                     else "convert colour to grey (luma 0.299 R + 0.587 G + 0.114 B)")
    raise DataError(head, where, f"pass --resize to {' and '.join(steps)}, or set the spec's "
                    f"input to {shape_text(have)}")


def match_input(dataset: Dataset, input_shape: Sequence[int], resize: bool = False,
                method: ResizeMethod | str = ResizeMethod.BILINEAR) -> Dataset:
    """``dataset`` fitted to ``input_shape`` (H, W, C).

    With ``resize=False`` this is :func:`check_input` and returns ``dataset`` unchanged.
    With ``resize=True`` it returns a new :class:`Dataset` whose images are
    ``(N, C', H', W')`` float32, still in ``[0, 1]``; the conversion is recorded in
    ``notes``. Channel counts other than 1 and 3 are never converted.
    """
    try:
        check_input(dataset, input_shape, method)
        return dataset
    except DataError:
        if not resize or len(input_shape) != 3:
            raise
    h, w, c = (int(d) for d in input_shape)
    have_c = dataset.image_shape[2]
    if c != have_c and not {c, have_c} <= {1, 3}:
        check_input(dataset, input_shape, method)  # raises the no-fix error
    method = parse_method(method)

    def fit(x: np.ndarray) -> np.ndarray:  # (N, C, H, W) -> (N, c, h, w)
        # the channel step runs where there are fewer channels: less work
        if c < x.shape[1]:
            return resize_images(convert_channels(x, c), (h, w), method)
        return convert_channels(resize_images(x, (h, w), method), c)

    note = (f"fitted {shape_text(dataset.image_shape)} -> {shape_text((h, w, c))} "
            f"({method.value})")
    return dataset.with_images(fit(dataset.x_train), fit(dataset.x_test), note)
