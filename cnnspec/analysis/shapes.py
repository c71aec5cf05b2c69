"""Output sizes: the one place where ``O = (N + 2P - D(F-1) - 1)/S + 1`` is computed.

Room: analysis; pure integer arithmetic, no NumPy.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from cnnspec.conventions import Rounding


class SizeError(ValueError):
    """A size that cannot be: the walker adds the place and turns it into an AnalysisError."""

    def __init__(self, message: str, hint: str, *, fixes: str = "",
                 floor_size: int | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.fixes = fixes  # nearby whole settings, when strict rounding refused the size
        self.floor_size = floor_size

    def hint_for(self, from_file: bool) -> str:
        """The hint with the conventions written where the user writes them.

        In a YAML file: ``conventions: {rounding: floor}``; on the command line
        (a network string): ``--conventions pytorch``, the preset that floors.
        """
        if self.floor_size is None:
            return self.hint
        return strict_rounding_hint(self.fixes, self.floor_size, from_file)


def strict_rounding_hint(fixes: str, floor_size: int, from_file: bool) -> str:
    """How to make a size that strict rounding refuses whole, or round it instead."""
    whole = f"pick a stride or padding that makes it whole ({fixes}), or "
    if from_file:
        return (whole + f"round it in the spec: `conventions: {{rounding: floor}}` (gives "
                f"{floor_size}) or `conventions: {{rounding: ceil}}` (gives {floor_size + 1})")
    return whole + f"floor it: add `--conventions pytorch` to the command (gives {floor_size})"


@dataclass(frozen=True)
class OutputSize:
    """The result of one output-size computation, with its arithmetic written out."""

    size: int
    exact: Fraction
    arithmetic: str
    rounded: bool

    @property
    def exact_text(self) -> str:
        """``55.75`` / ``2.33`` / ``5``."""
        if self.exact.denominator == 1:
            return str(self.exact.numerator)
        return f"{float(self.exact):.2f}".rstrip("0").rstrip(".")


def output_arithmetic(n: int, f: int, s: int, p_begin: int, p_end: int, d: int) -> str:
    """The formula with the numbers put in, as a student would write it."""
    pad = f"2*{p_begin}" if p_begin == p_end else f"{p_begin}+{p_end}"
    if d == 1:
        return f"({n} + {pad} - {f})/{s} + 1"
    return f"({n} + {pad} - {d}*({f}-1) - 1)/{s} + 1"


def conv_output_size(
    n: int,
    f: int,
    s: int = 1,
    p: int | tuple[int, int] = 0,
    d: int = 1,
    rounding: Rounding = Rounding.STRICT,
) -> OutputSize:
    """Output size along one axis of a convolution or pooling window.

    ``O = (N + 2P - D(F-1) - 1)/S + 1`` (with D = 1: ``O = (N + 2P - F)/S + 1``).
    ``p`` is the padding on each side, or ``(before, after)`` when they differ.
    ``rounding``: STRICT raises :class:`SizeError` when O is not whole; FLOOR drops
    the last partial window (PyTorch); CEIL keeps it, unless that window would start
    inside the end padding (PyTorch's ``ceil_mode`` rule, as in Caffe).
    """
    p_begin, p_end = (p, p) if isinstance(p, int) else p
    span = d * (f - 1) + 1
    padded = n + p_begin + p_end
    arithmetic = output_arithmetic(n, f, s, p_begin, p_end, d)
    if span > padded:
        raise SizeError(
            f"the {f}-wide kernel{' (dilated to ' + str(span) + ')' if d > 1 else ''} is larger "
            f"than the padded input {n} + {p_begin + p_end} = {padded}",
            "use a smaller kernel, more padding, or remove a pooling layer before this one",
        )
    exact = Fraction(padded - span, s) + 1
    whole = exact.denominator == 1
    if whole:
        size = int(exact)
    elif rounding is Rounding.STRICT:
        shown = f"{float(exact):.2f}"
        floor_size = (padded - span) // s + 1
        fixes = _fixes(n, f, s, p_begin, p_end, d)
        raise SizeError(
            f"{arithmetic} = {shown} is not a whole number: stride {s} does not fit",
            strict_rounding_hint(fixes, floor_size, from_file=True),
            fixes=fixes, floor_size=floor_size,
        )
    elif rounding is Rounding.FLOOR:
        size = (padded - span) // s + 1
    else:
        size = -(-(padded - span) // s) + 1
        if (size - 1) * s >= n + p_begin:
            size -= 1
    return OutputSize(size, exact, arithmetic, rounded=not whole)


def _fixes(n: int, f: int, s: int, p_begin: int, p_end: int, d: int) -> str:
    """Nearby settings that give a whole output size, for error hints."""
    span = d * (f - 1) + 1
    options = []
    for extra in range(1, s):
        if (n + p_begin + p_end + extra - span) % s == 0:
            options.append(f"input {n + extra}" if extra else "")
            break
    for pad in range(p_begin, p_begin + s + 1):
        if (n + 2 * pad - span) % s == 0 and pad != p_begin:
            options.append(f"padding {pad}")
            break
    for stride in range(s - 1, 0, -1):
        if (n + p_begin + p_end - span) % stride == 0:
            options.append(f"stride {stride}")
            break
    return ", ".join(o for o in options if o) or "a different stride"


def same_padding(n: int, f: int, s: int, d: int = 1) -> tuple[int, int]:
    """Padding (before, after) that gives ``O = ceil(N/S)``, as TensorFlow's ``'same'``.

    ``P_total = max((O - 1)*S + D(F-1) + 1 - N, 0)``, ``P_before = P_total // 2``.
    """
    out = -(-n // s)
    total = max((out - 1) * s + d * (f - 1) + 1 - n, 0)
    return total // 2, total - total // 2


def window_positions(n: int, f: int, s: int, p: int, d: int) -> int:
    """How many windows fit, counted one by one (the brute-force twin of the formula)."""
    count = 0
    start = 0
    span = d * (f - 1) + 1
    while start + span <= n + 2 * p:
        count += 1
        start += s
    return count
