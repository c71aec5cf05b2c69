"""Memory: bytes for parameters, activations and a training step.

Room: analysis; pure integers.
"""

from __future__ import annotations

from cnnspec.analysis.records import OPTIMIZER_SLOTS


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
