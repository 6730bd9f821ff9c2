"""The typed TBEL code generator (converters/tbel/typing.py) gives exactly what the untyped one
gives: every operator of the untyped output is a runtime call with Java semantics (tested on its
own in test_tbel_semantics.py), and the typed output writes plain JS only where the types make
the result certain. Hypothesis writes random expressions over payload bytes, int and double
literals, typed variables and functions; both outputs run in the real engine on random payloads
and must agree on the value, its Java text ("2.0" or "2") and on failing."""

import functools
import json
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from converters import tbel
from converters.engine.backend import TBEL
from converters.engine.limits import Limits
from converters.engine.quickjs_backend import QuickJSBackend

_TRANSPILE = tbel.transpile

PRELUDE = """
var a = payload[1] & 0xFF;
var b = (payload[2] << 8) | (payload[3] & 0xFF);
var c = payload[4];
function u(i) { return ((payload[i] & 0xFF) << 8) | (payload[i + 1] & 0xFF); }
function s(i) { var v = u(i); return (v & 0x8000) != 0 ? v - 0x10000 : v; }
var lst = [payload[6], 300, -5, 2147483647];
var arr = base64ToBytes("AQID/w==");
"""

ATOMS = st.sampled_from([
    "payload[0]", "payload[5]", "payload[7]", "payload[a & 7]", "a", "b", "c", "u(2)", "s(4)",
    "lst[0]", "lst[1]", "lst[a & 3]", "arr[3]", "arr[a & 3]",
    "0", "1", "2", "7", "8", "31", "100", "255", "0xFF", "0x7F", "0x8000", "65535", "2147483647",
    "-1", "-128", "-2147483648", "2.0", "0.5", "100.0", "1.5", "-3.0", "1000000",
])
BINARY = st.sampled_from(["+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>", ">>>",
                          "<", ">", "<=", ">=", "==", "!=", "==="])


def _expressions():
    def extend(inner):
        return st.one_of(
            st.tuples(inner, BINARY, inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            inner.map(lambda e: f"(- {e})"),
            st.tuples(inner, inner, inner).map(lambda t: f"(({t[0]}) > 3 ? {t[1]} : {t[2]})"),
        )
    return st.recursive(ATOMS, extend, max_leaves=6)


def _compiled(body: str, typed: bool):
    with mock.patch.object(tbel, "transpile", functools.partial(_TRANSPILE, typed=typed)):
        return QuickJSBackend().compile("decoder", body, Limits(), lang=TBEL)


def _results(script, payloads) -> list:
    outcomes = script.run([(p, {}) for p in payloads], lambda i: None)
    return [("error",) if o.error else json.loads(o.output) for o in outcomes]


ASSIGN = st.sampled_from(["=", "+=", "-=", "*=", "/=", "&=", "|=", "<<=", ">>="])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expr=_expressions(), op=ASSIGN, start=ATOMS,
       payloads=st.lists(st.binary(min_size=8, max_size=8), min_size=1, max_size=3))
def test_it_gives_what_the_runtime_gives(expr, op, start, payloads):
    body = PRELUDE + f"var r = {start};\nr {op} {expr};\nreturn {{v: r, s: '' + r}};"
    typed, untyped = _compiled(body, True), _compiled(body, False)
    assert _results(typed, payloads) == _results(untyped, payloads), (expr, _TRANSPILE(body, "decoder"))


def test_it_writes_plain_js_for_a_typical_frame_decoder():
    # bench/tbel.py's decoder: masked bytes, shifts and a Double division need no runtime call
    from bench.tbel import TBEL_DECODER

    js = _TRANSPILE(TBEL_DECODER, "decoder")
    for call in ("__t.band(", "__t.bor(", "__t.shl(", "__t.div(", "__t.idx(", "__t.bytes("):
        assert call not in js, call
    assert "__t.band(" in _TRANSPILE(TBEL_DECODER, "decoder", typed=False)


@pytest.mark.parametrize("body, expected", [
    # a payload the script writes to is a real List<Byte> again (no raw reads)
    ("payload[0] = 5; return {v: payload[0] & 0xFF};", {"v": 5}),
    # handed to a function: the list, not raw bytes
    ("function f(p) { return p[0]; } return {v: f(payload) / 2};", {"v": -1}),
    # an index out of range fails as the list does
    ("return {v: payload[9] & 0xFF};", "error"),
    ("return {v: payload['x']};", "error"),
    # int overflow is promoted to Long, not wrapped, even from typed operands
    ("var x = 2147483647; var y = x + (payload[1] & 0xFF); return {v: '' + y};", {"v": "2147483902"}),
    # a root variable read inside a function is never typed (it may be read before it is set)
    ("function g() { return k + 1; } var k = payload[1] & 0xFF; return {v: g()};", {"v": 256}),
])
def test_it_keeps_the_list_semantics_where_the_payload_escapes(body, expected):
    payload = bytes([0xFE, 0xFF, 0, 0, 0, 0, 0, 0])
    for typed in (True, False):
        got = _results(_compiled(body, typed), [payload])[0]
        assert got == ("error",) if expected == "error" else got == expected, (typed, got)


@pytest.mark.parametrize("payload", [
    '{"name": "café ☃ 😀", "n": 20.0}'.encode(),
    b'{"plain": "ascii", "list": [1, 2.5, 3.0]}',
    b'{"bad": "\xff\xfe"}',  # not UTF-8: replaced as the byte path replaces it
    b"not json",
])
def test_a_text_only_decoder_takes_the_payload_as_text_and_answers_the_same(payload):
    body = "var data = decodeToJson(payload);\nreturn {v: data, s: decodeToString(payload)};"
    assert _TRANSPILE(body, "decoder").startswith(tbel.TEXT_PAYLOAD)
    assert _results(_compiled(body, True), [payload]) == _results(_compiled(body, False), [payload])


def test_a_runtime_error_on_the_first_line_of_a_text_only_decoder_names_line_1():
    script = _compiled("var data = decodeToJson(payload); var x = data.a.b;\nreturn {};", True)
    outcome = script.run([(b'{"a": null}', {})], lambda i: None)[0]
    assert outcome.error and "line 1" in outcome.error, outcome.error


def _function_line(js: str, name: str) -> str:
    """The generated JS of the script's function ``name`` (one line: statements keep their lines)."""
    return js[js.index(f"function {name}("):].split("\n", 1)[0]


def test_a_parameter_every_call_passes_an_int_is_read_as_one():
    # the frame decoder's u16(i) is called with 4 and, from s16(i), with s16's own parameter
    # (called with 1): both are ints, so payload[i] and i + 1 need no runtime call
    from bench.tbel import TBEL_DECODER

    u16 = _function_line(_TRANSPILE(TBEL_DECODER, "decoder"), "u16")
    assert "__t.pu(" not in u16 and "__t.add(" not in u16, u16
    payloads = [bytes(range(20)), bytes(range(255, 235, -1)), bytes(20)]
    assert _results(_compiled(TBEL_DECODER, True), payloads) == _results(_compiled(TBEL_DECODER, False), payloads)


U = "function u(i) { return ((payload[i] & 0xFF) << 8) | (payload[i + 1] & 0xFF); }\n"


@pytest.mark.parametrize("body", [
    U + "return {a: u(1), b: u('2')};",  # a text argument somewhere
    U + "return {a: u(1), b: u(2.0)};",  # a Double
    U + "return {a: u(1), b: u(null)};",
    U + "return {a: u(1), b: u()};",  # a missing argument is null
    U + "var g = u; return {a: u(1), g: g == null};",  # the function as a value
    U + "return {a: u(1), b: u(payload[0] > 200 ? 'x' : 3)};",
    # a parameter set to text inside the function
    "function f(i) { var x = payload[i] & 0xFF; i = 'k'; return x + i; } return {a: f(1)};",
    # recursion whose range grows with every pass: no fixed point, plainly generated
    "function f(i) { return i > 5 ? (payload[i] & 0xFF) : f(i + 1); } return {a: f(0)};",
    # the same parameter name in two functions, one called with text
    U + "function w(i) { return '' + i; } return {a: u(1), b: w('z')};",
])
def test_a_parameter_is_typed_only_when_every_call_passes_an_int(body):
    payloads = [bytes(range(8)), bytes([0xFE, 0xFF, 0, 1, 2, 3, 4, 5])]
    assert _results(_compiled(body, True), payloads) == _results(_compiled(body, False), payloads), \
        _TRANSPILE(body, "decoder")
    if "function u(" in body and "w(" not in body:
        u = _function_line(_TRANSPILE(body, "decoder"), "u")
        assert "__t.pu(" in u or "__t.idx(" in u, u  # not read as an int
