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


def human_bytes(n: int) -> str:
    """``249476608`` -> ``237.9 MiB`` (1024-based units: KiB, MiB, GiB)."""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover


def human_count(n: int) -> str:
    """``62369152`` -> ``62.37 M``; ``714188480`` -> ``714.19 M``; ``4089184256`` -> ``4.09 G``."""
    for unit, size in (("T", 10**12), ("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if abs(n) >= size:
            return f"{n / size:.2f} {unit}"
    return str(n)
