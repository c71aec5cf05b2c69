"""Any text given to the parser ends in a Network or a located SpecError, nothing else."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cnnspec.errors import SpecError
from cnnspec.spec import from_string
from cnnspec.spec.tree import Network

ALPHABET = st.sampled_from([*"ConvPlFCSMRLUx0123456789[](),:@=*- .",
                            "Conv", "Pool", "FC", "ReLU", "(3x3,4)", "[", "]", " x 2", "->"])


@settings(max_examples=300, deadline=None)
@given(st.lists(ALPHABET, max_size=25).map("".join))
def test_parser_never_crashes(text: str) -> None:
    try:
        result = from_string(text)
    except SpecError as exc:
        assert exc.loc is not None and exc.message
    else:
        assert isinstance(result, Network)
