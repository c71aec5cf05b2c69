"""Named blocks with parameters (`blocks:`): definitions, calls, arithmetic and errors."""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cnnspec.analysis import analyze
from cnnspec.errors import Location, SpecError
from cnnspec.spec import from_string
from cnnspec.spec.load import from_yaml
from cnnspec.spec.templates import evaluate, parse_head

BOTTLENECK = """\
    name: blocks
    input: 56x56x64
    conventions: pytorch
    blocks:
      bottleneck(planes, stride=1):
        - residual:
            body: "Conv(1x1, planes, bias=false)-BN-ReLU
                   -Conv(3x3, planes, s=stride, p=1, bias=false)-BN-ReLU
                   -Conv(1x1, planes*4, bias=false)-BN"
            shortcut: "Conv(1x1, planes*4, s=stride, bias=false)-BN"
        - ReLU
    """


def spec(text: str, source: str = "t.yaml"):
    return from_yaml(textwrap.dedent(text), source)


def with_architecture(architecture: str, blocks: str = BOTTLENECK):
    return spec(textwrap.dedent(blocks) + textwrap.dedent(architecture))


def fails(text: str, match: str) -> SpecError:
    with pytest.raises(SpecError, match=match) as info:
        spec(text)
    return info.value


# -- calls -----------------------------------------------------------------------------------
def test_a_call_becomes_a_labelled_sequence() -> None:
    network = with_architecture("architecture: bottleneck(64)\n")
    (block,) = network.layers
    assert block.kind == "sequence" and block.label == "bottleneck(64)"
    assert block.type_name == "bottleneck"
    residual = block.layers[0]
    assert [n.filters for n in residual.body if n.kind == "conv"] == [64, 64, 256]
    assert residual.shortcut[0].filters == 256 and residual.shortcut[0].stride == (1, 1)


@pytest.mark.parametrize("architecture", [
    "architecture: bottleneck(128, stride=2)\n",
    "architecture: bottleneck(128, 2)\n",
    "architecture: bottleneck(stride=2, planes=128)\n",
    "architecture:\n  - bottleneck: {planes: 128, stride: 2}\n",
    "architecture:\n  - bottleneck: [128, 2]\n",
    "architecture:\n  - {kind: bottleneck, planes: 128, stride: 2}\n",
])
def test_every_way_of_calling_gives_the_same_layers(architecture: str) -> None:
    report = analyze(with_architecture(architecture))
    assert report.layers[-1].output == (28, 28, 512)
    assert report.totals.trainable_params == (64 * 128 + 2 * 128 + 9 * 128 * 128 + 2 * 128
                                             + 128 * 512 + 2 * 512 + 64 * 512 + 2 * 512)


def test_scalar_argument_in_a_yaml_list() -> None:
    network = with_architecture("architecture:\n  - bottleneck: 32\n")
    assert network.layers[0].label == "bottleneck(32)"


def test_stage_repetition_and_arithmetic_repeat_counts() -> None:
    blocks = BOTTLENECK.rstrip(" ") + """\
      stage(planes, blocks, stride=2):
        - bottleneck(planes, stride)
        - "[bottleneck(planes)] x (blocks-1)"
    """
    network = with_architecture("architecture: stage(64, 3, stride=1)-stage(128, 4)\n", blocks)
    first, second = network.layers
    assert first.label == "stage(64, 3, stride=1)"
    assert second.layers[1].repeat == 3
    report = analyze(network)
    assert report.layers[-1].output == (28, 28, 512)
    assert sum(1 for r in report.leaves() if r.kind == "add") == 3 + 4


def test_bare_parameter_as_repeat_count_and_nested_calls() -> None:
    network = spec("""\
        input: 8x8x3
        blocks:
          conv(c): "Conv(3x3, c, p=1)-ReLU"
          stack(c, n): "[conv(c)] x n"
        architecture: stack(4, 3)
        """.replace("conv(c)", "cr(c)"))
    (stack,) = network.layers
    assert stack.layers[0].repeat == 3
    assert stack.layers[0].layers[0].label == "cr(4)"


@pytest.mark.parametrize(("expr", "value"), [
    ("planes*4", 256), ("planes // 3", 21), ("planes/2", 32), ("planes/128", 0.5),
    ("(planes + 1) * 2", 130), ("-planes + 100", 36), ("2*planes-1", 127), ("7", 7),
])
def test_arithmetic(expr: str, value: float) -> None:
    assert evaluate(expr, {"planes": 64}, None) == value


@pytest.mark.parametrize("expr", ["planes**2", "__import__('os')", "planes.real", "f(planes)",
                                  "planes if 1 else 2", "[planes]", "planes < 3", "'a'"])
def test_arithmetic_rejects_anything_else(expr: str) -> None:
    with pytest.raises(SpecError):
        evaluate(expr, {"planes": 64}, None)


def test_arithmetic_length_is_bounded() -> None:
    with pytest.raises(SpecError, match=r"is 6,001 characters long, more than 200"):
        from_string("Conv(3x3, " + "1+" * 3000 + "1)")
    assert from_string("Conv(3x3, " + "(" * 90 + "1" + ")" * 90 + ")").layers[0].filters == 1


@given(st.text(alphabet="0123456789abc+-*/() ", max_size=40))
def test_any_arithmetic_text_gives_a_value_or_a_spec_error(text: str) -> None:
    try:
        value = evaluate(text, {"a": 3, "b": 0, "c": 2.5}, None)
    except SpecError:
        return
    assert isinstance(value, (int, float))


@given(st.integers(-50, 50), st.integers(1, 50), st.integers(-50, 50))
def test_arithmetic_agrees_with_integer_arithmetic(a: int, b: int, c: int) -> None:
    env = {"a": a, "b": b, "c": c}
    assert evaluate("a*b + c", env, None) == a * b + c
    assert evaluate("(a - c) // b", env, None) == (a - c) // b
    assert evaluate("a*b/b", env, None) == a


def test_arithmetic_in_a_top_level_string_needs_no_block() -> None:
    report = analyze(from_string("8x8x1 Conv(3x3, 4*2, p=(3-1)//2)"))
    assert report.layers[0].output == (8, 8, 8)


def test_a_parameter_in_a_yaml_mapping_value() -> None:
    network = spec("""\
        input: 8x8x3
        blocks:
          cb(c, k=3):
            - conv: {kernel: k, filters: c*2, padding: k//2}
            - {repeat: 1, layers: [ReLU]}
        architecture: [cb(4)]
        """)
    conv = network.layers[0].layers[0]
    assert conv.filters == 8 and conv.kernel == (3, 3) and conv.padding == (1, 1)


def test_glued_labels_name_the_block_row() -> None:
    network = with_architecture('architecture: ["bottleneck:3a(16)"]\n')
    assert network.layers[0].label == "bottleneck:3a"


def test_yaml_anchor_shares_a_body() -> None:
    network = spec("""\
        input: 8x8x4
        blocks:
          plain(c): {residual: {body: &body "Conv(3x3, c, p=1)-ReLU"}}
          proj(c):
            residual: {body: *body, shortcut: "Conv(1x1, c)"}
        architecture: proj(8)-plain(8)
        """)
    assert analyze(network).layers[-1].output == (8, 8, 8)


def test_defaults_and_layer_mapping_still_reach_expanded_layers() -> None:
    network = spec("""\
        input: 8x8x3
        blocks:
          two(c): "Conv(3x3, c)-ReLU-Conv(3x3, c)"
        defaults: {conv: {padding: 1}}
        architecture: two(4)
        """)
    assert [n.padding for n in network.layers[0].layers if n.kind == "conv"] == [(1, 1)] * 2


def test_parse_head() -> None:
    head = parse_head("bottleneck(planes, stride=1, kernel=3x3, bias=false, mode=max)", "x",
                      None, None)
    assert head.signature == "bottleneck(planes, stride=1, kernel=3x3, bias=false, mode=max)"
    assert [p.default for p in head.params[1:]] == [1, (3, 3), False, "max"]
    assert parse_head("aux_head", "ReLU", None, None).params == ()


# -- errors --------------------------------------------------------------------------------
def test_unknown_parameter_in_a_body_is_located_with_the_closest_name() -> None:
    err = fails("""\
        input: 8x8x3
        blocks:
          cb(planes): "Conv(3x3, plane*2)"
        architecture: cb(4)
        """, r"'plane' is not a parameter of block cb\(planes\) "
             r"\(in cb\(4\), called at t.yaml:4:15\)")
    assert err.loc == Location("t.yaml", 3, 26, 7)
    assert err.hint == "did you mean 'planes'? the parameters are: planes"


def test_a_misspelt_bare_parameter_is_caught() -> None:
    fails("""\
        input: 8x8x3
        blocks:
          cb(stride): "Conv(3x3, 4, s=strid)"
        architecture: cb(2)
        """, r"'strid' is not a parameter")


def test_wrong_argument_count_points_at_the_extra_argument() -> None:
    err = fails("""\
        input: 8x8x3
        blocks:
          cb(c, s=1): "Conv(3x3, c, s=s)"
        architecture: cb(4, 1, 2)
        """, r"cb takes 2 arguments but 3 were given")
    assert err.loc.line == 4 and err.loc.column == 24
    assert err.hint == "call it as cb(c, s=1)"


def block_spec(blocks: str, architecture: str) -> str:
    return f"input: 8x8x3\nblocks:\n{textwrap.indent(textwrap.dedent(blocks), '  ')}" \
           f"architecture: {architecture}\n"


def test_missing_and_unknown_and_repeated_arguments() -> None:
    cb = 'cb(c): "Conv(3x3, c)"\n'
    fails(block_spec(cb, "cb()"), r"cb needs c")
    err = fails(block_spec(cb, "[cb: {cc: 3}]"), r"cb has no parameter 'cc'")
    assert err.hint == "did you mean 'c'? it is defined as cb(c)"
    fails(block_spec(cb, "cb(3, c=4)"), r"parameter 'c' is given twice")


def test_recursion_is_an_error_naming_the_cycle() -> None:
    err = fails("""\
        input: 8x8x3
        blocks:
          a(n): b(n)
          b(n): "[a(n)] x 2"
        architecture: a(3)
        """, r"block 'a' calls itself \(a -> b -> a\)")
    assert "repeat it with [a(...)] x N" in err.hint
    fails("input: 8x8x3\nblocks: {me: me}\narchitecture: me\n", r"'me' calls itself \(me -> me\)")


@pytest.mark.parametrize(("head", "match"), [
    ("conv(c)", r"block name 'conv' is already a layer name"),
    ("Inception(c)", r"block name 'Inception' is already a layer name"),
    ("cb(c=1, d)", r"parameter 'd' without a default follows one with a default"),
    ("cb(c, c)", r"parameter 'c' is listed twice"),
    ("cb(1c)", r"'1c' is not a parameter name"),
    ("cb(for)", r"'for' is not a parameter name"),
    ("cb(c=[1])", r"cannot read the default '\[1\]'"),
    ("cb(c", r"cannot read the block head"),
])
def test_bad_definitions(head: str, match: str) -> None:
    err = fails(block_spec(f"'{head}': ReLU\n", "ReLU"), match)
    assert err.loc is not None and err.loc.line == 3


@pytest.mark.parametrize(("blocks", "match", "line"), [
    ("  cb(c): ReLU\n  CB(d): ReLU\n", r"block 'CB' is defined twice", 4),
    ("  cb(c):\n", r"block 'cb' has no layers", 3),
    ("  [cb]\n", r"`blocks` must map a block head", 3),
])
def test_bad_block_sections(blocks: str, match: str, line: int) -> None:
    err = fails(f"input: 8x8x3\nblocks:\n{blocks}architecture: ReLU\n", match)
    assert err.loc is not None and err.loc.line == line


def test_a_flow_mapping_comma_gets_a_hint() -> None:
    err = fails("input: 8x8x3\nblocks: {cb(c, d): ReLU}\narchitecture: ReLU\n",
                r"cannot read the block head 'cb\(c'")
    assert "each comma starts a new key" in err.hint


def test_arithmetic_errors() -> None:
    fails(block_spec('cb(c): "Conv(3x3, c//0)"\n', "cb(2)"), r"'c//0' divides by zero")
    fails(block_spec('cb(k): "Conv(3x3, k*2)"\n', "cb(3x3)"),
          r"parameter 'k' is 3x3, not a number")
    err = fails(block_spec('cb(n): "[ReLU] x (n-2)"\n', "cb(1)"),
                r"repeat count \(n-2\) = -1 is not allowed")
    assert "(in cb(1), called at t.yaml:4:15)" in err.message
    with pytest.raises(SpecError, match=r"'width' is not a number: names can only be used "
                                        r"inside a block") as info:
        from_string("Conv(3x3, width*2)")
    assert info.value.loc.column == 11


def test_unknown_block_name_suggests_a_defined_block() -> None:
    err = fails(block_spec('conv_bn(c): "Conv(3x3, c)"\n', "conv_nb(2)"),
                r"unknown layer 'conv_nb'")
    assert err.hint is not None and err.hint.startswith("did you mean 'conv_bn'?")


def test_doubling_blocks_hit_the_expansion_limit() -> None:
    heads = {f"l{i}": f"l{i + 1}-l{i + 1}" for i in range(20)}
    heads["l20"] = "ReLU"
    blocks = ", ".join(f"{k}: {v}" for k, v in heads.items())
    fails(f"input: 8x8x3\nblocks: {{{blocks}}}\narchitecture: l0\n",
          r"the network expands to at least [\d,]+ layers, more than the limit of 100,000")


def test_old_messages_are_unchanged_outside_blocks() -> None:
    with pytest.raises(SpecError, match=r"expected ',' or '\)' but found '2'"):
        from_string("Conv(3x3, 4 2)")
    with pytest.raises(SpecError, match=r"expected a number after '-'"):
        from_string("Conv(3x3, 4, p=-a)")
    with pytest.raises(SpecError, match=r"unexpected character '\+' in the network string"):
        from_string("Conv+ReLU")
    with pytest.raises(SpecError, match=r"a group's repeat count must be a whole number"):
        from_string("[Conv(3x3, 4)] x n")
