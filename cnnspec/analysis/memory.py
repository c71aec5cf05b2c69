"""Memory: bytes for parameters, activations and a training step.

Room: analysis; pure integers.
"""

from __future__ import annotations

from collections.abc import Sequence

from cnnspec.analysis.records import OPTIMIZER_SLOTS, LayerRecord

# blocks whose input stays alive while their body runs (the shortcut, the other branches)
HOLDING_BLOCKS = ("residual", "concat", "dual_path")


def training_memory(params: int, trainable: int, activation_values: int, batch: int,
                    optimizer: str, bytes_per_value: int) -> dict[str, int]:
    """Bytes held during one training step, by part.

    ``parameters = P * b``; ``gradients = P_trainable * b``;
    ``optimizer state = slots * P_trainable * b`` (SGD 0, momentum/Nesterov/AdaGrad/RMSprop 1,
    AdaDelta/Adam 2); ``saved activations = batch * (input + every layer output) * b``.
    """
    slots = OPTIMIZER_SLOTS[optimizer]
    return {
        "parameters": params * bytes_per_value,
        "gradients": trainable * bytes_per_value,
        "optimizer_state": slots * trainable * bytes_per_value,
        "activations": batch * activation_values * bytes_per_value,
    }


def _values(shape: Sequence[int]) -> int:
    count = 1
    for size in shape:
        count *= size
    return count


def inference_memory(rows: Sequence[LayerRecord], params: int, batch: int,
                     bytes_per_value: int) -> dict[str, int]:
    """Bytes alive at the peak of an inference pass that frees each output after its use.

    ``parameters = P * b``; ``activations = batch * max_r (in_r + out_r + held_r) * b``
    over the leaf rows ``r`` of the main network, where ``in_r`` and ``out_r`` are the
    values of one example's input and output of ``r`` and ``held_r`` the inputs of the
    residual, concatenation and dual-path blocks around ``r`` (kept for the shortcut or
    the next branch). Scratch space of a layer (im2col columns) is not counted.
    """
    held: list[tuple[int, int]] = []  # (depth, values) of the enclosing holding blocks
    peak = 0
    for row in rows:
        while held and held[-1][0] >= row.depth:
            held.pop()
        if not row.main:
            continue
        if row.is_block:
            if row.kind in HOLDING_BLOCKS:
                held.append((row.depth, _values(row.input)))
            continue
        live = _values(row.input) + _values(row.output) + sum(v for _, v in held)
        peak = max(peak, live)
    return {"parameters": params * bytes_per_value,
            "activations": batch * peak * bytes_per_value}
