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

from dataclasses import dataclass

from django.db.models import F, Q, Value
from django.db.models.functions import Left, Right, StrIndex
from django.db.models.lookups import Exact, GreaterThan
from rest_framework.exceptions import ValidationError

__all__ = ["Predicate", "parse_predicate"]

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
            items = _split(self.value.lower() if self.ignore_case else self.value)
            matched = Q()
            for item in items:
                matched |= Q(**{f"{path}__{i}exact": item})
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
    return float(value) if kind == "NUMERIC" else value


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
