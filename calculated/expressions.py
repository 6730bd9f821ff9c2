"""SIMPLE fields' arithmetic expressions, parsed and evaluated without Python's eval.

    expr = parse("(temperature - 32) / 1.8")    # ExpressionError (message and column) if it is not one
    expr.variables                              # {"temperature"}
    expr.evaluate({"temperature": 98.6})        # 37.0; ExpressionError on a non-finite result

The grammar is exp4j's, the library ThingsBoard evaluates SIMPLE fields with: numbers (``1``,
``2.5``, ``1e-3``), variables, ``+ - * / %``, ``^`` (also ``**``) for powers (right-associative,
above unary minus: ``-2^2`` is -4), parentheses, and the functions in FUNCTIONS; constants ``pi``
and ``e`` unless an argument has that name. Every number is a double. Evaluation is bounded: an
expression is at most MAX_LENGTH characters and MAX_DEPTH levels deep, and a power that overflows
is an error rather than a huge integer.
"""

import math
import re
from collections.abc import Callable

__all__ = ["ExpressionError", "Expression", "parse", "FUNCTIONS", "MAX_LENGTH"]

MAX_LENGTH = 1000
MAX_DEPTH = 50


class ExpressionError(ValueError):
    """An expression that does not parse, or a computation that fails; the message says where or why."""


def _log(x):
    return math.log(x)


#: name -> (argument count or None for 1+, function): exp4j's built-ins plus pow, min, max
FUNCTIONS: dict[str, tuple[int | None, Callable]] = {
    "abs": (1, abs), "acos": (1, math.acos), "asin": (1, math.asin), "atan": (1, math.atan),
    "atan2": (2, math.atan2), "cbrt": (1, lambda x: math.copysign(abs(x) ** (1 / 3), x)),
    "ceil": (1, math.ceil), "cos": (1, math.cos), "cosh": (1, math.cosh), "exp": (1, math.exp),
    "expm1": (1, math.expm1), "floor": (1, math.floor), "log": (1, _log), "ln": (1, _log),
    "log10": (1, math.log10), "log2": (1, math.log2), "log1p": (1, math.log1p), "sin": (1, math.sin),
    "sinh": (1, math.sinh), "sqrt": (1, math.sqrt), "tan": (1, math.tan), "tanh": (1, math.tanh),
    "signum": (1, lambda x: float((x > 0) - (x < 0))), "toDegrees": (1, math.degrees),
    "toRadians": (1, math.radians), "pow": (2, math.pow), "min": (None, min), "max": (None, max),
    "round": (1, lambda x: float(math.floor(x + 0.5))),
}
CONSTANTS = {"pi": math.pi, "e": math.e}

_TOKEN = re.compile(r"\s*(?:(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
                    r"|(?P<op>\*\*|[-+*/%^(),]))")
_BINARY = {"+": (1, "L"), "-": (1, "L"), "*": (2, "L"), "/": (2, "L"), "%": (2, "L"), "^": (4, "R")}
_UNARY_PRECEDENCE = 3


def _tokens(text: str) -> list[tuple[str, str, int]]:
    tokens, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None:
            column = pos + len(text[pos:]) - len(text[pos:].lstrip()) + 1
            raise ExpressionError(f"unexpected character {text[column - 1]!r} at column {column}")
        kind = m.lastgroup
        value = m.group(kind)
        tokens.append((kind, "^" if value == "**" else value, m.start(kind) + 1))
        pos = m.end()
    return tokens


class _Parser:
    """Precedence climbing over the tokens; nodes are tuples: ("num", v), ("var", name),
    ("neg", node), ("op", sym, left, right), ("call", name, [args])."""

    def __init__(self, text: str):
        self.tokens = _tokens(text)
        self.i = 0

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else ("end", "", None)

    def take(self):
        token = self.peek()
        self.i += 1
        return token

    def fail(self, what: str, token) -> ExpressionError:
        where = "at the end" if token[0] == "end" else f"{token[1]!r} at column {token[2]}"
        return ExpressionError(f"{what}, found {where}")

    def expression(self, min_precedence: int = 0, depth: int = 0):
        if depth > MAX_DEPTH:
            raise ExpressionError(f"the expression nests more than {MAX_DEPTH} levels deep")
        left = self.operand(depth)
        while True:
            kind, value, _ = self.peek()
            if kind != "op" or value not in _BINARY:
                return left
            precedence, assoc = _BINARY[value]
            if precedence < min_precedence:
                return left
            self.take()
            right = self.expression(precedence + (1 if assoc == "L" else 0), depth + 1)
            left = ("op", value, left, right)

    def operand(self, depth: int):
        token = self.take()
        kind, value, _ = token
        if kind == "num":
            return ("num", float(value))
        if kind == "op" and value in "+-":
            inner = self.expression(_UNARY_PRECEDENCE, depth + 1)
            return ("neg", inner) if value == "-" else inner
        if kind == "op" and value == "(":
            inner = self.expression(0, depth + 1)
            self.expect(")")
            return inner
        if kind == "name":
            if self.peek()[1] == "(" and self.peek()[0] == "op":
                return self.call(value, token, depth)
            return ("var", value)
        raise self.fail("expected a number, a name or '('", token)

    def call(self, name: str, token, depth: int):
        if name not in FUNCTIONS:
            raise ExpressionError(f"unknown function '{name}' at column {token[2]}; "
                                  f"known: {', '.join(sorted(FUNCTIONS))}")
        self.take()  # (
        args = []
        if self.peek()[1] != ")":
            args.append(self.expression(0, depth + 1))
            while self.peek()[1] == ",":
                self.take()
                args.append(self.expression(0, depth + 1))
        self.expect(")")
        arity = FUNCTIONS[name][0]
        if (arity is None and not args) or (arity is not None and len(args) != arity):
            wanted = "at least 1" if arity is None else str(arity)
            raise ExpressionError(f"function '{name}' takes {wanted} argument(s), got {len(args)}")
        return ("call", name, args)

    def expect(self, symbol: str) -> None:
        token = self.take()
        if token[1] != symbol or token[0] != "op":
            raise self.fail(f"expected '{symbol}'", token)


def _names(node, found: set) -> set:
    if node[0] == "var":
        found.add(node[1])
    elif node[0] == "neg":
        _names(node[1], found)
    elif node[0] == "op":
        _names(node[2], found)
        _names(node[3], found)
    elif node[0] == "call":
        for arg in node[2]:
            _names(arg, found)
    return found


def _binary(sym: str, a: float, b: float) -> float:
    if sym == "+":
        return a + b
    if sym == "-":
        return a - b
    if sym == "*":
        return a * b
    if sym in "/%" and b == 0:
        raise ExpressionError("Division by zero!")
    if sym == "/":
        return a / b
    if sym == "%":
        return math.fmod(a, b)  # Java's %: the sign of the dividend
    return math.pow(a, b)


class Expression:
    """A parsed expression; :meth:`evaluate` may be called any number of times."""

    def __init__(self, text: str, tree):
        self.text, self.tree = text, tree
        self.variables = frozenset(_names(tree, set()))

    def evaluate(self, values: dict[str, float]) -> float:
        try:
            result = self._eval(self.tree, values)
        except (OverflowError, ValueError, ZeroDivisionError) as e:
            if isinstance(e, ExpressionError):
                raise
            raise ExpressionError(f"cannot compute the expression: {e}") from None
        if not math.isfinite(result):
            raise ExpressionError(f"the result is not a finite number ({result})")
        return result

    def _eval(self, node, values) -> float:
        kind = node[0]
        if kind == "num":
            return node[1]
        if kind == "var":
            name = node[1]
            if name in values:
                return values[name]
            if name in CONSTANTS:
                return CONSTANTS[name]
            raise ExpressionError(f"no value for '{name}'")
        if kind == "neg":
            return -self._eval(node[1], values)
        if kind == "op":
            return _binary(node[1], self._eval(node[2], values), self._eval(node[3], values))
        function = FUNCTIONS[node[1]][1]
        return float(function(*(self._eval(arg, values) for arg in node[2])))


def parse(text) -> Expression:
    """The parsed expression; ExpressionError naming the problem and its column otherwise."""
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("the expression must be a non-empty string")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the expression is longer than {MAX_LENGTH} characters")
    parser = _Parser(text)
    tree = parser.expression()
    if parser.peek()[0] != "end":
        raise parser.fail("expected an operator or the end of the expression", parser.peek())
    return Expression(text, tree)
