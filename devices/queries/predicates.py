"""Key filter predicates (STRING, NUMERIC, BOOLEAN, COMPLEX) as ThingsBoard evaluates them.

Each predicate answers three ways: :meth:`test` over one value in Python, :meth:`q` as a Django
filter on an entity column (None when that column cannot take it in SQL), and ``vacuous`` when it
sets no condition at all. ThingsBoard's rules, kept here:

- a STRING predicate with an empty value sets no condition (nor does a COMPLEX one made only of such);
- on attributes and time series a STRING predicate reads only string values, NUMERIC only numbers
  (long or double) and BOOLEAN only booleans: a value of another type, or none, never matches,
  NOT_EQUAL and NOT_IN included;
- IN and NOT_IN split their value on commas, trimming blanks and quotes;
- the compared value is userValue, else the dynamicValue's attribute, else defaultValue.
"""

import math
from dataclasses import dataclass

from django.db.models import F, Q, Value
from django.db.models.functions import Left, Lower, Right, StrIndex
from django.db.models.lookups import Exact, GreaterThan, In
from rest_framework.exceptions import ValidationError

__all__ = ["Predicate", "parse_predicate", "count_predicates", "in_items", "MAX_PREDICATES"]

#: the most predicates a query's key filters hold in all (each COMPLEX one and those inside it count):
#: the ones on entity columns become one SQL condition, which SQLite nests at most 1000 deep
MAX_PREDICATES = 500

STRING_OPS = ("EQUAL", "NOT_EQUAL", "STARTS_WITH", "ENDS_WITH", "CONTAINS", "NOT_CONTAINS", "IN", "NOT_IN")
NUMERIC_OPS = ("EQUAL", "NOT_EQUAL", "GREATER", "LESS", "GREATER_OR_EQUAL", "LESS_OR_EQUAL")
BOOLEAN_OPS = ("EQUAL", "NOT_EQUAL")
_COMPARE = {
    "EQUAL": lambda a, b: a == b, "NOT_EQUAL": lambda a, b: a != b, "GREATER": lambda a, b: a > b,
    "LESS": lambda a, b: a < b, "GREATER_OR_EQUAL": lambda a, b: a >= b, "LESS_OR_EQUAL": lambda a, b: a <= b,
}
_LOOKUPS = {"GREATER": "gt", "LESS": "lt", "GREATER_OR_EQUAL": "gte", "LESS_OR_EQUAL": "lte"}


def _split(text: str) -> list[str]:
    return [part.strip().strip("'\"") for part in text.split(",")]


def _case_sensitive(op: str, path: str, value: str):
    """startswith / endswith / contains that match case on every database (SQLite's LIKE,
    which Django's lookups use there, ignores case)."""
    if op == "STARTS_WITH":
        return Exact(Left(F(path), len(value)), Value(value))
    if op == "ENDS_WITH":
        return Exact(Right(F(path), len(value)), Value(value))
    return GreaterThan(StrIndex(F(path), Value(value)), 0)


def _number(value):
    """A latest value's number, or None when it is not a long or double."""
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


class Predicate:
    vacuous = False

    def test(self, value, *, typed: bool) -> bool:
        """Does ``value`` match? ``typed``: a latest value as stored; else an entity field's value."""
        raise NotImplementedError

    def q(self, path: str, *, numeric: bool) -> Q | None:
        """This predicate over the column ``path`` (``numeric``: a number column), or None."""
        return None


@dataclass(frozen=True)
class StringPredicate(Predicate):
    operation: str
    value: str
    ignore_case: bool

    @property
    def vacuous(self) -> bool:
        return self.value == ""

    def test(self, value, *, typed: bool) -> bool:
        if typed and not isinstance(value, str):
            return False
        if value is None:
            return False
        text, wanted = str(value), self.value
        if self.ignore_case:
            text, wanted = text.lower(), wanted.lower()
        op = self.operation
        if op in ("IN", "NOT_IN"):
            return (text in _split(wanted)) == (op == "IN")
        if op in ("CONTAINS", "NOT_CONTAINS"):
            return (wanted in text) == (op == "CONTAINS")
        return {"EQUAL": text == wanted, "NOT_EQUAL": text != wanted, "STARTS_WITH": text.startswith(wanted),
                "ENDS_WITH": text.endswith(wanted)}[op]

    def q(self, path: str, *, numeric: bool) -> Q | None:
        if numeric:
            return None
        i = "i" if self.ignore_case else ""
        op = self.operation
        if op in ("IN", "NOT_IN"):
            # one IN (...) term, however many items: an OR per item nests past SQLite's expression depth
            if self.ignore_case:
                # the negation keeps NULLs in, as Django's own negated lookups (and iexact before) do
                matched = Q(In(Lower(F(path)), _split(self.value.lower()))) & Q(**{f"{path}__isnull": False})
            else:
                matched = Q(**{f"{path}__in": _split(self.value)})
            return matched if op == "IN" else ~matched
        if self.ignore_case or op in ("EQUAL", "NOT_EQUAL"):
            lookup = {"EQUAL": "exact", "NOT_EQUAL": "exact", "STARTS_WITH": "startswith", "ENDS_WITH": "endswith",
                      "CONTAINS": "contains", "NOT_CONTAINS": "contains"}[op]
            matched = Q(**{f"{path}__{i}{lookup}": self.value})
        else:
            matched = Q(_case_sensitive(op, path, self.value))
        return ~matched if op in ("NOT_EQUAL", "NOT_CONTAINS") else matched


@dataclass(frozen=True)
class NumericPredicate(Predicate):
    operation: str
    value: float

    def test(self, value, *, typed: bool) -> bool:
        if typed:
            number = _number(value)
        else:
            try:
                number = float(value)
            except (TypeError, ValueError):
                number = None
        return number is not None and _COMPARE[self.operation](number, self.value)

    def q(self, path: str, *, numeric: bool) -> Q | None:
        if not numeric:
            return None
        if self.operation in ("EQUAL", "NOT_EQUAL"):
            matched = Q(**{path: self.value})
            return matched if self.operation == "EQUAL" else ~matched
        return Q(**{f"{path}__{_LOOKUPS[self.operation]}": self.value})


@dataclass(frozen=True)
class BooleanPredicate(Predicate):
    operation: str
    value: bool

    def test(self, value, *, typed: bool) -> bool:
        if typed:
            if not isinstance(value, bool):
                return False
        elif str(value).lower() in ("true", "false"):
            value = str(value).lower() == "true"
        else:
            return False
        return (value == self.value) == (self.operation == "EQUAL")


@dataclass(frozen=True)
class ComplexPredicate(Predicate):
    operation: str  # AND | OR
    predicates: tuple

    @property
    def active(self) -> list:
        return [p for p in self.predicates if not p.vacuous]

    @property
    def vacuous(self) -> bool:
        return not self.active

    def test(self, value, *, typed: bool) -> bool:
        results = (p.test(value, typed=typed) for p in self.active)
        return any(results) if self.operation == "OR" else all(results)

    def q(self, path: str, *, numeric: bool) -> Q | None:
        parts = [p.q(path, numeric=numeric) for p in self.active]
        if any(part is None for part in parts):
            return None
        combined = parts[0]
        for part in parts[1:]:
            combined = combined | part if self.operation == "OR" else combined & part
        return combined


_KINDS = {"STRING": (StringPredicate, STRING_OPS, str), "NUMERIC": (NumericPredicate, NUMERIC_OPS, (int, float)),
          "BOOLEAN": (BooleanPredicate, BOOLEAN_OPS, bool)}


def _value(raw, what: str, kind: str, resolve):
    raw = raw if isinstance(raw, dict) else {}
    value = raw.get("userValue")
    if value is None and isinstance(raw.get("dynamicValue"), dict):
        value = resolve(raw["dynamicValue"], kind)
    if value is None:
        value = raw.get("defaultValue")
    expected = _KINDS[kind][2]
    if kind != "BOOLEAN" and isinstance(value, bool) or not isinstance(value, expected):
        raise ValidationError(f"'{what}.value' must hold a {kind.lower()} defaultValue or userValue")
    if kind != "NUMERIC":
        return value
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise ValidationError(f"'{what}.value' must be a finite number that fits a double, got {_shown(value)}")
    return number


def _shown(value) -> str:
    """A number as an error message names it (at most 40 characters)."""
    try:
        text = str(value)
    except ValueError:  # an integer past Python's digit limit for str()
        return f"an integer of about {int(value.bit_length() * math.log10(2)) + 1} digits"
    return text if len(text) <= 40 else f"{text[:20]}...{text[-8:]} ({len(text.lstrip('-'))} digits)"


def count_predicates(predicate: Predicate) -> int:
    """How many predicates a (COMPLEX) predicate holds, itself included."""
    if isinstance(predicate, ComplexPredicate):
        return 1 + sum(count_predicates(p) for p in predicate.predicates)
    return 1


def in_items(predicate: Predicate) -> int:
    """How many IN / NOT_IN items a (COMPLEX) predicate holds."""
    if isinstance(predicate, ComplexPredicate):
        return sum(in_items(p) for p in predicate.predicates)
    if isinstance(predicate, StringPredicate) and predicate.operation in ("IN", "NOT_IN"):
        return len(_split(predicate.value))
    return 0


def parse_predicate(raw, what: str, resolve, depth: int = 0) -> Predicate:
    """A predicate from its JSON; ``resolve(dynamicValue, kind)`` reads a dynamic value or None."""
    if not isinstance(raw, dict):
        raise ValidationError(f"'{what}' must be a JSON object")
    kind, op = raw.get("type"), raw.get("operation")
    if kind == "COMPLEX":
        if op not in ("AND", "OR"):
            raise ValidationError(f"Invalid operation in '{what}': {op!s:.16}. Supported: AND, OR")
        children = raw.get("predicates")
        if not isinstance(children, list) or depth > 8:
            raise ValidationError(f"'{what}.predicates' must be a JSON array (nested at most 8 deep)")
        if len(children) > MAX_PREDICATES:
            raise ValidationError(f"'{what}.predicates' holds {len(children)} predicates, more than the "
                                  f"{MAX_PREDICATES} a query accepts")
        return ComplexPredicate(op, tuple(parse_predicate(c, f"{what}.predicates[{i}]", resolve, depth + 1)
                                          for i, c in enumerate(children)))
    if not isinstance(kind, str) or kind not in _KINDS:
        raise ValidationError(f"Unsupported predicate type in '{what}': {kind!s:.32}. "
                              "Supported: STRING, NUMERIC, BOOLEAN, COMPLEX")
    cls, operations, _ = _KINDS[kind]
    if op not in operations:
        raise ValidationError(f"Invalid {kind} operation in '{what}': {op!s:.32}. Supported: {', '.join(operations)}")
    value = _value(raw.get("value"), what, kind, resolve)
    if kind == "STRING":
        return cls(op, value, raw.get("ignoreCase") is True)
    return cls(op, value)
