"""exp4j expressions, as ThingsBoard's math function node evaluates its CUSTOM ``customFunction``.

``+ - * / % ^``, unary minus (looser than ``^``: ``-2^2`` is -4), parentheses, implicit
multiplication (``2x``, ``2(x + 1)``), the constants ``pi``/``π``, ``e`` and ``φ``, and exp4j's
functions with ThingsBoard's additions (``ln``, ``lg``, ``logab``). An expression is parsed once
into a postfix program and run on a stack: never Python's eval. Also the Java (and Jackson)
number semantics ThingsBoard's math and delta nodes show: parsing, printing, rounding, casts.
"""

import math
import re
from decimal import ROUND_HALF_UP, Decimal, localcontext

from rulechains.nodes.base import ConfigError, NodeError

__all__ = ["Expression", "FUNCTIONS", "java_double", "java_text", "java_round", "java_long", "java_pow",
           "jackson_double", "total"]

_NUMBER = re.compile(r"[+-]?(NaN|Infinity|(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[fFdD]?)")


def java_double(text: str) -> float:
    """Java's Double.parseDouble (trimmed; "NaN", "Infinity", a trailing f/d); ValueError if not a number."""
    text = text.strip()
    if not _NUMBER.fullmatch(text):
        raise ValueError(text)
    return float(text.rstrip("fFdD").replace("Infinity", "inf"))


def java_text(value) -> str:
    """Java's Long.toString / Double.toString: 21.5, 100.0, 1.0E7, 1.0E-4."""
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        return "NaN" if math.isnan(value) else "Infinity" if value > 0 else "-Infinity"
    if value == 0 or 1e-3 <= abs(value) < 1e7:
        return repr(float(value))
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    mantissa = "".join(map(str, digits[1:])) or "0"
    return f"{'-' if sign else ''}{digits[0]}.{mantissa}E{exponent + len(digits) - 1}"


def _div(a, b):
    if b == 0:
        raise NodeError("Division by zero!")
    return a / b


def _mod(a, b):
    if b == 0:
        raise NodeError("Division by zero!")
    return math.fmod(a, b)


def java_round(value: float, scale: int) -> Decimal:
    """Java's BigDecimal.valueOf(value).setScale(scale, HALF_UP)."""
    with localcontext() as ctx:
        ctx.prec = 1000
        return Decimal(repr(value)).quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)


def java_long(x: float) -> int:
    """Java's (long) cast: NaN is 0, out of range saturates."""
    if math.isnan(x):
        return 0
    return max(-2**63, min(2**63 - 1, int(x))) if math.isfinite(x) else 2**63 - 1 if x > 0 else -2**63


def jackson_double(value) -> float:
    """Jackson's asDouble: numbers, booleans as 1/0, numeric text; anything else 0."""
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return java_double(value) if isinstance(value, str) else 0.0
    except ValueError:
        return 0.0


def java_pow(a, b):
    try:
        return math.pow(a, b)
    except OverflowError:
        return math.inf
    except (ValueError, ZeroDivisionError):
        return math.nan


def total(fn):
    """A math function with Java's answers where Python raises: NaN for a domain error, infinity on overflow."""
    def call(*args):
        try:
            return float(fn(*args))
        except (ValueError, ZeroDivisionError):
            return -math.inf if fn in (math.log, math.log10, math.log2) and args[0] == 0 else math.nan
        except OverflowError:
            return math.inf
    return call


FUNCTIONS = {name: (1, total(fn)) for name, fn in {
    "sin": math.sin, "cos": math.cos, "tan": math.tan, "cot": lambda x: 1 / math.tan(x), "log": math.log,
    "log2": math.log2, "log10": math.log10, "log1p": math.log1p, "abs": abs, "acos": math.acos, "asin": math.asin,
    "atan": math.atan, "cbrt": math.cbrt, "floor": math.floor, "sinh": math.sinh, "sqrt": math.sqrt,
    "tanh": math.tanh, "cosh": math.cosh, "ceil": math.ceil, "exp": math.exp, "expm1": math.expm1,
    "signum": lambda x: math.copysign(1.0, x) if x else x, "csc": lambda x: 1 / math.sin(x),
    "sec": lambda x: 1 / math.cos(x), "csch": lambda x: 1 / math.sinh(x), "sech": lambda x: 1 / math.cosh(x),
    "coth": lambda x: math.cosh(x) / math.sinh(x), "toradian": math.radians, "todegree": math.degrees,
    "ln": math.log, "lg": math.log10}.items()}
FUNCTIONS.update({"pow": (2, java_pow), "logb": (2, total(lambda a, b: math.log(b) / math.log(a))),
                   "logab": (2, total(lambda a, b: math.log(b) / math.log(a)))})
_CONSTANTS = {"pi": math.pi, "π": math.pi, "e": math.e, "φ": 1.61803398874}
_BINARY = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": _div, "%": _mod,
           "^": java_pow}
_TOKEN = re.compile(r"\s*(?:(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|(?P<name>[^\W\d]\w*)|(?P<op>[-+*/÷%^(),]))")
_MAX_DEPTH = 40


class Expression:
    """A compiled exp4j expression over ``variables``; ConfigError when it is not one."""

    def __init__(self, text: str, variables):
        self.text, self.variables = text, set(variables)
        self.tokens = self._tokenize(text)
        self.pos, self.program = 0, []
        self._sum(0)
        if self.pos < len(self.tokens):
            self._error(f"Unexpected token '{self.tokens[self.pos][1]}'")

    def _tokenize(self, text):
        tokens, pos = [], 0
        while pos < len(text):
            match = _TOKEN.match(text, pos)
            if not match:
                if not text[pos:].strip():
                    break
                raise ConfigError(f"customFunction: unknown character '{text[pos:].strip()[0]}' in '{text}'")
            kind = match.lastgroup
            tokens.append((kind, match.group(kind), match.start(kind)))
            pos = match.end()
        return tokens

    def _error(self, problem):
        raise ConfigError(f"customFunction: {problem} in expression '{self.text}'")

    def _peek(self):
        return self.tokens[self.pos] if self.pos < len(self.tokens) else (None, None, len(self.text))

    def _sum(self, depth):
        self._product(depth)
        while self._peek()[1] in ("+", "-"):
            op = self.tokens[self.pos][1]
            self.pos += 1
            self._product(depth)
            self.program.append(("op", op))

    def _product(self, depth):
        self._unary(depth)
        while True:
            kind, value, _ = self._peek()
            if value in ("*", "/", "÷", "%"):
                self.pos += 1
            elif not (kind in ("num", "name") or value == "("):  # anything else ends the product
                return
            self._unary(depth)  # implicit multiplication: 2x, 2(x + 1), (a)(b)
            self.program.append(("op", {"÷": "/"}.get(value, value) if value in ("*", "/", "÷", "%") else "*"))

    def _unary(self, depth):
        value = self._peek()[1]
        if value in ("-", "+"):
            self.pos += 1
            self._unary(depth)
            if value == "-":
                self.program.append(("neg",))
            return
        self._atom(depth)
        if self._peek()[1] == "^":  # right-associative, and tighter than a unary minus before it
            self.pos += 1
            self._unary(depth)
            self.program.append(("op", "^"))

    def _atom(self, depth):
        kind, value, at = self._peek()
        if depth > _MAX_DEPTH:
            self._error("Too deeply nested parentheses")
        self.pos += 1
        if kind == "num":
            self.program.append(("num", float(value)))
        elif value == "(":
            self._sum(depth + 1)
            self._expect(")")
        elif kind == "name" and value in FUNCTIONS and value not in self.variables:
            self._call(value, depth)
        elif kind == "name" and (value in self.variables or value in _CONSTANTS):
            self.program.append(("var", value) if value in self.variables else ("num", _CONSTANTS[value]))
        elif kind == "name":
            self._error(f"Unknown function or variable '{value}' at pos {at}")
        else:
            self._error("Mismatched parentheses or missing operand" if value else "Unexpected end of expression")

    def _call(self, name, depth):
        arity, _ = FUNCTIONS[name]
        self._expect("(")
        count = 0
        while self._peek()[1] != ")":
            if count:
                self._expect(",")
            self._sum(depth + 1)
            count += 1
        self.pos += 1
        if count != arity:
            self._error(f"Invalid number of arguments for function '{name}': {count} (it takes {arity})")
        self.program.append(("call", name))

    def _expect(self, value):
        if self._peek()[1] != value:
            self._error(f"Expected '{value}'")
        self.pos += 1

    def evaluate(self, values: dict) -> float:
        stack: list[float] = []
        for step in self.program:
            if step[0] == "num":
                stack.append(step[1])
            elif step[0] == "var":
                stack.append(values[step[1]])
            elif step[0] == "neg":
                stack.append(-stack.pop())
            elif step[0] == "op":
                b, a = stack.pop(), stack.pop()
                stack.append(_BINARY[step[1]](a, b))
            else:
                arity, fn = FUNCTIONS[step[1]]
                args = [stack.pop() for _ in range(arity)][::-1]
                stack.append(fn(*args))
        return stack[0]
