"""SIMPLE expressions: exp4j's grammar on a parser of our own (never Python's eval)."""

import math
import re

import pytest

from calculated.expressions import MAX_LENGTH, ExpressionError, parse


@pytest.mark.parametrize("text, values, expected", [
    ("(temperature - 32) / 1.8", {"temperature": 212}, 100.0),
    ("a + b * c", {"a": 1, "b": 2, "c": 3}, 7.0),
    ("(a + b) * c", {"a": 1, "b": 2, "c": 3}, 9.0),
    ("2 ^ 3 ^ 2", {}, 512.0),  # right-associative
    ("2 ** 10", {}, 1024.0),
    ("-2 ^ 2", {}, -4.0),
    ("-a - -b", {"a": 1, "b": 2}, 1.0),
    ("7 % 3 + -7 % 3", {}, 0.0),  # Java's remainder: the sign of the dividend
    ("sqrt(x) + abs(-2) + pow(2, 3) + min(4, 1, 9) + max(1, 2)", {"x": 16}, 17.0),
    ("sin(0) + cos(0) + floor(2.7) + ceil(2.1) + log10(100) + exp(0)", {}, 9.0),
    ("2 * pi", {}, 2 * math.pi),
    ("pi", {"pi": 3}, 3.0),  # an argument named like a constant wins
    ("1.5e3 + .5", {}, 1500.5),
])
def test_it_evaluates(text, values, expected):
    assert parse(text).evaluate(values) == pytest.approx(expected)


def test_it_names_the_variables():
    assert parse("sqrt(a * a + b * b) + pi").variables == {"a", "b", "pi"}


@pytest.mark.parametrize("text, message", [
    ("(1 + 2", "expected ')', found at the end"),
    ("1 + * 2", "found '*' at column 5"),
    ("1 2", "expected an operator or the end of the expression, found '2' at column 3"),
    ("a.b", "unexpected character '.' at column 2"),
    ("a[0]", "unexpected character '[' at column 2"),
    ("open(x)", "unknown function 'open'"),
    ("sqrt()", "function 'sqrt' takes 1 argument(s), got 0"),
    ("min()", "takes at least 1 argument(s)"),
    ("   ", "non-empty"),
    ("1" * (MAX_LENGTH + 1), f"longer than {MAX_LENGTH}"),
    ("(" * 60 + "1" + ")" * 60, "nests more than"),
    ("-" * 200 + "1", "nests more than"),
])
def test_it_refuses_what_is_not_an_expression(text, message):
    with pytest.raises(ExpressionError, match=re.escape(message)):
        parse(text)


@pytest.mark.parametrize("text, message", [
    ("1 / 0", "Division by zero!"),
    ("5 % 0", "Division by zero!"),
    ("10 ^ 400", "cannot compute"),
    ("9 ^ 9 ^ 9", "cannot compute"),
    ("sqrt(-1)", "cannot compute"),
    ("log(0)", "cannot compute"),
    ("exp(1000)", "cannot compute"),
])
def test_a_computation_that_fails_says_why(text, message):
    with pytest.raises(ExpressionError, match=message):
        parse(text).evaluate({})


def test_a_missing_value_is_an_error():
    with pytest.raises(ExpressionError, match="no value for 'a'"):
        parse("a + 1").evaluate({})
