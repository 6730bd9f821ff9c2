"""Constructs found failing when real third-party converters were run through testUpLink /
testDownLink (converters/tests/corpus_runner.py); each case is our own few lines reproducing one."""

import json

import pytest

from converters import engine


def tbel(body: str, payload: bytes = b""):
    result = engine.decode(None, 0, body, [(payload, {})], lang="TBEL")[0]
    assert result.error is None, result.error
    return json.loads(result.output_json)


@pytest.mark.parametrize("expr, expected", [
    # TbUtils' isX(String) called with a number: MVEL converts it to its text first
    ("isDecimal(2)", 10),
    ("isDecimal(2.5)", 10),
    ("isDecimal('-7')", 10),
    ("isDecimal('1.5E3')", 10),
    ("isDecimal('x1')", -1),
    ("isDecimal(null)", -1),
    ("isBinary(101)", 2),
    ("isOctal(17)", 8),
    ("isHexadecimal(255)", 16),
])
def test_number_checks_take_any_value_as_its_text(expr, expected):
    assert tbel(f"return {expr};") == expected
