"""How counts and bytes are written for people: the exact integer plus one human form.

Room: shared (read by analysis and every consumer); imports nothing.

One rule everywhere (analyze, zoo, compare, calc, run --profile, explain, check):
counts get k / M / G / T (powers of 1000) with four significant digits
(``362,496`` -> ``362.5 k``, never ``0.000 G``); bytes get KiB / MiB / GiB / TiB
(powers of 1024), or kB / MB / GB / TB (powers of 1000) when the SI system is chosen.
"""

from __future__ import annotations

BINARY = "binary"
SI = "si"
SYSTEMS = (BINARY, SI)

_COUNT_PREFIXES = (("T", 10**12), ("G", 10**9), ("M", 10**6), ("k", 10**3))
_BYTE_UNITS = {
    BINARY: (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)),
    SI: (("TB", 10**12), ("GB", 10**9), ("MB", 10**6), ("kB", 10**3)),
}


def _scaled(n: int, unit: int, places: int) -> str:
    """``n / unit`` to ``places`` decimals, rounded half up, in integer arithmetic.

    ``round(n * 10^places / unit) / 10^places`` with ``n >= 0``: a count or a byte
    total never passes through a float, whatever its size.
    """
    step = 10**places
    whole, part = divmod((n * step * 2 + unit) // (2 * unit), step)
    return f"{whole}.{part:0{places}d}" if places else str(whole)


def _significant(n: int, unit: int) -> str:
    """Four significant digits of ``n / unit`` for ``unit <= n < 1000 unit``:
    ``362496 / 1000`` -> ``362.5``."""
    places = 1 if n >= 100 * unit else 2 if n >= 10 * unit else 3
    return _scaled(n, unit, places)


def human_count(n: int) -> str:
    """A count with a metric prefix: ``n / 1000^k`` with the largest k that leaves ``>= 1``.

    ``999`` -> ``999``; ``362496`` -> ``362.5 k``; ``62369152`` -> ``62.37 M``;
    ``4089184256`` -> ``4.089 G``. Counts above 1000 T stay in T.
    """
    for prefix, size in _COUNT_PREFIXES:
        if abs(n) >= size:
            text = _significant(abs(n), size)
            if text.startswith("1000") and prefix != "T":  # 999,960 rounds up to the next prefix
                return human_count(size * 1000 * (1 if n > 0 else -1))
            return f"{'-' if n < 0 else ''}{text} {prefix}"
    return str(n)


def human_bytes(n: int, system: str = BINARY) -> str:
    """Bytes in the largest unit that leaves ``>= 1``: ``n / 1024^k`` (or ``n / 1000^k`` in SI).

    ``512`` -> ``512 B``; ``249476608`` -> ``237.9 MiB`` (SI: ``249.5 MB``); one decimal.
    """
    units = _BYTE_UNITS[system]
    for i, (unit, size) in enumerate(units):
        if n >= size:
            text = _scaled(n, size, 1)
            step = units[i - 1][1] // size if i else 0
            if step and text == f"{step:.1f}":  # 1,048,575 B shows as 1.0 MiB, not 1024.0 KiB
                return f"1.0 {units[i - 1][0]}"
            return f"{text} {unit}"
    return f"{n} B"


def exact_count(n: int) -> str:
    """``362496`` -> ``362,496 (362.5 k)``: the exact integer, then the human form."""
    human = human_count(n)
    return f"{n:,}" if human == str(n) else f"{n:,} ({human})"


def exact_bytes(n: int, system: str = BINARY) -> str:
    """``249476608`` -> ``249,476,608 bytes (237.9 MiB)``."""
    human = human_bytes(n, system)
    return f"{n:,} bytes" if human.endswith(" B") else f"{n:,} bytes ({human})"
