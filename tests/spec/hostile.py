"""Hostile spec files: short texts that stand for enormous, deep or non-numeric networks.

Each entry is ``(text, where, message)``: the spec text (a YAML document, or a
network string when ``where`` is ``"<string>"``), the ``line:column`` the error
must name, and a regular expression its message must match. The tests load
each one; ``benchmarks/bench_analysis.py`` times them in fresh processes.
"""

from __future__ import annotations

LIST_OF_TEN = "[" + ", ".join(["ReLU"] * 10) + "]"


def laughs(levels: int = 9) -> str:
    """Anchors reused ten times per level through ``{repeat: 1, layers: *a}``: 10^10 layers."""
    lines = ["input: 8x8x3", "architecture:", f"  - {{repeat: 1, layers: &a0 {LIST_OF_TEN}}}"]
    for i in range(1, levels + 1):
        items = ", ".join([f"{{repeat: 1, layers: *a{i - 1}}}"] * 10)
        lines.append(f"  - {{repeat: 1, layers: &a{i} [{items}]}}")
    return "\n".join(lines) + "\n"


def merge_flood(keys: int = 2000, copies: int = 2000) -> str:
    """One anchored mapping of ``keys`` entries merged into ``copies`` mappings."""
    big = ", ".join(f"k{i}: 1" for i in range(keys))
    merged = "\n".join(f"  Conv:{i}: {{<<: *big}}" for i in range(copies))
    return (f"input: 8x8x3\narchitecture: Conv(3x3, 4)\ndefaults: {{conv: &big {{{big}}}}}\n"
            f"layers:\n{merged}\n")


def block_chain(blocks: int = 1000) -> str:
    """Blocks that each call the next: a nesting 1,000 deep."""
    body = "".join(f"  b{i}: b{i + 1}\n" for i in range(blocks)) + f"  b{blocks}: ReLU\n"
    return f"input: 8x8x3\nblocks:\n{body}architecture: b0\n"


def doubling_blocks(levels: int = 30) -> str:
    """Each block calls the next twice: 2^30 layers from 30 lines."""
    body = "".join(f"  d{i}: d{i + 1}-d{i + 1}\n" for i in range(levels)) + f"  d{levels}: ReLU\n"
    return f"input: 8x8x3\nblocks:\n{body}architecture: d0\n"


def deep_block_yaml(levels: int = 150) -> str:
    """Lists nested in block style, one level per line."""
    lines = ["input: 8x8x3", "architecture:"]
    lines += [" " * (2 + 2 * i) + "- layers:" for i in range(levels)]
    lines.append(" " * (4 + 2 * levels) + "- ReLU")
    return "\n".join(lines) + "\n"


BIG = "9" * 5000

# name -> (text, "line:column" of the error, message pattern)
HOSTILE: dict[str, tuple[str, str, str]] = {
    "laughs": (laughs(), "3:30", r"expands to at least 100,001 layers, more than the limit "
                                 r"of 100,000"),
    "merge flood": (merge_flood(), "55:13", r"merge keys \(<<\) copy more than 100,000 entries"),
    "block chain": (block_chain(), "52:8", r"nested more than 50 deep"),
    "doubling blocks": (doubling_blocks(), "16:12", r"more than the limit of 100,000"),
    "deep flow yaml": ("input: 8x8x3\narchitecture: " + "[" * 3000 + "]" * 3000 + "\n", "2:114",
                       r"nests lists and mappings more than 100 deep"),
    "deep block yaml": (deep_block_yaml(), "52:103", r"nests lists and mappings more than 100 "
                                                     r"deep"),
    "deep groups yaml": ("input: 8x8x3\narchitecture:\n" + "".join(
        "  " * (i + 1) + "- repeat: 2\n" + "  " * (i + 2) + "layers:\n" for i in range(40)) +
        "  " * 42 + "- '" + "[" * 11 + "ReLU" + "]" * 11 + "'\n", "83:98",
        r"nested more than 50 deep"),
    "recursive anchor": ("input: 8x8x3\narchitecture: &a [ReLU, *a]\n", "2:15",
                         r"recursive node"),
    "huge integer yaml": (f"input: 8x8x3\narchitecture:\n  - conv: {{kernel: 3, filters: {BIG}}}\n",
                          "3:32", r"the number 9+\.\.\.9+ \(5,000 digits\) is too large"),
    "huge kernel string yaml": (f"input: 8x8x3\narchitecture:\n  - conv: {{kernel: '{BIG}x3'}}\n",
                                "3:20", r"kernel has a number of 5,000 digits"),
    "non-finite yaml": ("input: 8x8x3\narchitecture:\n  - lrn: {size: 5, k: .nan, alpha: .inf}\n",
                        "3:23", r"LRN: k must be a finite number"),
    "huge input yaml": (f"input: {BIG}x8x3\narchitecture: ReLU\n", "1:8",
                        r"\(5,000 digits\) is too large"),
    "large filters yaml": ("input: 8x8x3\narchitecture:\n"
                           "  - conv: {kernel: 3, filters: 10000000000}\n", "3:32",
                           r"filters must be at most 1,000,000,000"),
    "many repeats yaml": ("input: 8x8x3\narchitecture:\n  - {repeat: 1000000000, layers: [ReLU]}\n",
                          "3:14", r"expands to at least 1,000,000,000 layers"),
    "long list yaml": ("input: 8x8x3\narchitecture:\n" + "  - ReLU\n" * 120_000, "100003:5",
                       r"expands to at least 100,001 layers"),
    "brackets": ("[" * 3000 + "ReLU" + "]" * 3000, "1:51", r"nested more than 50 deep"),
    "huge integer": (f"Conv(3x3, {BIG})", "1:11", r"\(5,000 digits\) is too large"),
    "10^29 filters": ("Conv(3x3, " + "1" + "0" * 29 + ")", "1:11",
                      r"\(30 digits\) is too large: whole numbers in a spec are at most 10\^18"),
    "non-finite": ("LRN(5, nan, inf, 0.75)", "1:8", r"k must be a finite number"),
    "huge repeat": ("[Conv(3x3, 4, p=1)-ReLU] x 999999999999999999", "1:26",
                    r"expands to at least 1,999,999,999,999,999,998 layers"),
    "nested repeats": ("[[[ReLU] x 1000] x 1000] x 1000", "1:18", r"more than the limit of "
                                                                   r"100,000"),
    "long string": ("ReLU-" * 200_000 + "ReLU", "1:500001", r"expands to at least 100,001"),
}
