"""Any YAML spec, however odd, ends in exit 0 or one located error line; never a crash.

Documents are built from the pieces that broke readers before: anchors reused
through groups, merge keys with overrides, deep nesting, and numbers that are
huge, non-finite or not numbers at all.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnnspec.cli.main import cli

NUMBERS = st.sampled_from([
    "3", "1", "0", "-1", "2.5", "1000000001", "1000000000", ".nan", ".inf", "-.inf", "1e400",
    "9" * 5000, "0x" + "f" * 80, "1_000", "1:30", "'3x3'", "'9999999999999999999999x3'",
    "true", "null", "[3, 3]", "{}", "*a", "'nan'", "1.0e+9", "'100000'",
])

LEAVES = st.one_of(
    st.sampled_from(["ReLU", "SM", "Flatten", "'Conv(3x3, 4, p=1)'", "'Pool(2)'", "'FC(10)'",
                     "'LRN(5, nan, inf, 0.75)'", "'[ReLU] x 3'", "'[ReLU]-[...]'", "*a"]),
    st.builds("{{conv: {{kernel: {}, filters: {}}}}}".format, NUMBERS, NUMBERS),
    st.builds("{{lrn: {{size: {}, k: {}}}}}".format, NUMBERS, NUMBERS),
    st.builds("{{fc: {}}}".format, NUMBERS),
    st.integers(0, 200).map(lambda n: "'" + "[" * n + "ReLU" + "]" * n + "'"),
)


def groups(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A group of items, repeated or not, possibly anchored."""
    listed = st.lists(children, min_size=1, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]")
    return st.one_of(
        st.builds("{{repeat: {}, layers: {}}}".format, NUMBERS, listed),
        st.builds("{{layers: {}}}".format, listed),
        st.builds("{{residual: {{body: {}}}}}".format, listed),
        listed.map(lambda x: "{repeat: 1, layers: " + x + "}"),
    )


ITEMS = st.recursive(LEAVES, groups, max_leaves=12)


@st.composite
def documents(draw: st.DrawFn) -> str:
    """A YAML spec: an anchored list, items that may reuse it, and merged layer arguments."""
    anchored = draw(st.lists(LEAVES.filter(lambda x: x != "*a"), min_size=1, max_size=10))
    items = draw(st.lists(ITEMS, max_size=6))
    copies = draw(st.integers(0, 12))
    lines = [f"input: {draw(st.sampled_from(['8x8x3', '32x32x1', '9' * 30 + 'x8x3', '[]']))}",
             "architecture:",
             "  - {repeat: 1, layers: &a [" + ", ".join(anchored) + "]}"]
    lines += [f"  - {item}" for item in items]
    lines += ["  - {repeat: 10, layers: [{repeat: 10, layers: *a}, *a]}"] * copies
    if draw(st.booleans()):
        lines += ["  - Conv:1", "  - Conv:2", "layers:",
                  f"  Conv:1: &c {{kernel: {draw(NUMBERS)}, filters: 4}}",
                  f"  Conv:2: {{<<: *c, filters: {draw(NUMBERS)}}}"]
    depth = draw(st.integers(0, 3)) * 40
    if depth:
        lines.append("defaults: " + "{conv: " * depth + "1" + "}" * depth)
    return "\n".join(lines) + "\n"


LOCATED = re.compile(r"^\S*spec\.yaml(:\d+(:\d+)?)?: error: \S")


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.data_too_large])
@given(documents())
def test_yaml_documents_end_in_a_network_or_one_located_error(tmp_path_factory, text: str
                                                              ) -> None:
    path: Path = tmp_path_factory.mktemp("fuzz") / "spec.yaml"
    path.write_text(text)
    start = time.perf_counter()
    result = CliRunner().invoke(cli, ["analyze", str(path), "--format", "json"])
    elapsed = time.perf_counter() - start
    assert elapsed < 20, f"{elapsed:.1f} s"
    assert "internal error" not in result.stderr, result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    assert result.exit_code in (0, 1)
    if result.exit_code == 1:
        first = result.stderr.splitlines()[0]
        assert LOCATED.match(first), first
        assert len(first) < 400
