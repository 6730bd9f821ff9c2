"""tbproject/jsontext.py writes exactly what json.dumps(obj, separators=(",", ":")) writes."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tbproject.jsontext import compact

_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
_json = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(st.text() | st.integers() | st.booleans() | st.none(), inner, max_size=4),
                     max_leaves=20)


@settings(max_examples=400, deadline=None)
@given(_json)
def test_it_writes_what_json_dumps_writes(obj):
    assert compact(obj) == json.dumps(obj, separators=(",", ":"))


def test_edge_values_and_tuples():
    for obj in ["\ud800 lone surrogate", "\u2028é\"\\\n", float("nan"), float("-inf"), -0.0, 10**40, (1, [2]),
                {"a": {"b": [None, True]}}, {1.5: 1, None: 2, False: 3}]:
        assert compact(obj) == json.dumps(obj, separators=(",", ":"))


def test_what_json_refuses_it_refuses():
    with pytest.raises(TypeError, match="not JSON serializable"):
        compact({"a": object()})
    with pytest.raises(TypeError):
        compact({(1, 2): 1})
