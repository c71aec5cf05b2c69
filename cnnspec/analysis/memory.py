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


def scaled(n: int, unit: int, places: int) -> str:
    """``n / unit`` to ``places`` decimals, rounded half up, in integer arithmetic.

    ``round(n * 10^places / unit) / 10^places``, so that a byte or MAC total
    never passes through a float (which would change its last digits).
    """
    step = 10**places
    magnitude = (abs(n) * step * 2 + unit) // (2 * unit)
    whole, part = divmod(magnitude, step)
    sign = "-" if n < 0 else ""
    return f"{sign}{whole}.{part:0{places}d}" if places else f"{sign}{whole}"


def human_bytes(n: int) -> str:
    """``249476608`` -> ``237.9 MiB`` (1024-based units: KiB, MiB, GiB, TiB, PiB, EiB)."""
    units = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
    power = 0
    while power < len(units) - 1 and abs(n) >= 1024 ** (power + 1):
        power += 1
    if power == 0:
        return f"{n} B"
    return f"{scaled(n, 1024**power, 1)} {units[power]}"


def human_count(n: int) -> str:
    """``62369152`` -> ``62.37 M``; ``714188480`` -> ``714.19 M``; ``4089184256`` -> ``4.09 G``."""
    for unit, size in (("T", 10**12), ("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if abs(n) >= size:
            return f"{scaled(n, size, 2)} {unit}"
    return str(n)
