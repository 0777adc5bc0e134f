"""The fast indented JSON writer is json.dumps(..., ensure_ascii=False, indent=1), byte for byte."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from site_gen.jsontext import dumps_indented


def reference(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1)


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
)
keys = st.one_of(st.text(), st.integers(), st.booleans(), st.none(), st.floats(allow_nan=False))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.lists(inner, max_size=5).map(tuple),
        st.dictionaries(keys, inner, max_size=5),
    ),
    max_leaves=40,
)


@settings(max_examples=400)
@given(values)
def test_same_text_as_json_dumps(value: object) -> None:
    assert dumps_indented(value) == reference(value)


@pytest.mark.parametrize(
    "value",
    [
        {"html": Markup("<p>a &amp; b</p>"), "nested": [Markup("x"), {"y": Markup('"q"')}]},
        {"line separator": "a\u2028b", "controls": "\x00\x1f\t\n", "quote": 'say "no" \\ now'},
        [float("nan"), -math.inf, -0.0, 1e300, 10**40],
        {"empty": {}, "none": [], "deep": [[[]], [{}]]},
    ],
)
def test_subclasses_and_edges(value: object) -> None:
    assert dumps_indented(value) == reference(value)


def test_foreign_types_fail_as_json_dumps_does() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        dumps_indented({"when": object()})
