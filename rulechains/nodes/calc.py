"""The math function node (ThingsBoard's TbMathNode), and option helpers shared with calculate delta
(rulechains/nodes/delta.py).

The CUSTOM operation's ``customFunction`` is an exp4j expression (rulechains/nodes/expressions.py).
"""

import json
import math
import re

from django.db import transaction

from devices.attributes import attribute_values, save_attributes_many
from devices.choices import AttributeScope
from devices.telemetry import Point, latest_many, write_points
from rulechains.messages import SUCCESS, changed
from rulechains.nodes.base import BaseNode, ConfigError, NodeError, Out, fail, field, int_option, substitute
from rulechains.nodes.expressions import (
    FUNCTIONS,
    Expression,
    java_double,
    java_long,
    java_pow,
    java_round,
    java_text,
    total,
)

__all__ = ["MathNode", "option_flag", "known_originators", "finite_double"]


def option_flag(value) -> bool:
    return value is True or str(value).lower() == "true"


# --- the math function node -------------------------------------------------------------------

def _floor_op(fn):
    def call(a, b):
        if java_long(b) == 0:
            raise NodeError("/ by zero")
        return float(fn(java_long(a), java_long(b)))
    return call


def _get_exp(x):
    if not math.isfinite(x):
        return 1024.0
    return float(math.frexp(x)[1] - 1) if abs(x) >= 2.2250738585072014e-308 else -1023.0


_ONE = {"SIN": math.sin, "SINH": math.sinh, "COS": math.cos, "COSH": math.cosh, "TAN": math.tan, "TANH": math.tanh,
        "ACOS": math.acos, "ASIN": math.asin, "ATAN": math.atan, "EXP": math.exp, "EXPM1": math.expm1,
        "SQRT": math.sqrt, "CBRT": math.cbrt, "GET_EXP": _get_exp, "LOG": math.log, "LOG10": math.log10,
        "LOG1P": math.log1p, "CEIL": math.ceil, "FLOOR": math.floor, "ABS": abs, "SIGNUM": FUNCTIONS["signum"][1],
        "RAD": math.radians, "DEG": math.degrees}
_TWO = {"ADD": lambda a, b: a + b, "SUB": lambda a, b: a - b, "MULT": lambda a, b: a * b,
        "DIV": lambda a, b: a / b if b else (math.nan if a == 0 else math.copysign(math.inf, a)),
        "ATAN2": math.atan2, "HYPOT": math.hypot, "FLOOR_DIV": _floor_op(lambda a, b: a // b),
        "FLOOR_MOD": _floor_op(lambda a, b: a % b), "MIN": min, "MAX": max, "POW": java_pow}
OPERATIONS = (*_TWO, *_ONE, "CUSTOM")
_INTEGER_RESULT = ("GET_EXP", "CEIL", "FLOOR")
ARGUMENT_TYPES = ("CONSTANT", "MESSAGE_BODY", "MESSAGE_METADATA", "ATTRIBUTE", "TIME_SERIES")
STORED = ("ATTRIBUTE", "TIME_SERIES")


def _scope(item: dict, where: str) -> str:
    scope = item.get("attributeScope") or AttributeScope.SERVER_SCOPE
    if scope not in AttributeScope.values:
        raise ConfigError(f"{where}.attributeScope must be one of {', '.join(AttributeScope.values)}")
    return scope


def _argument(arg, i: int, custom: bool) -> dict:
    where = f"arguments[{i}]"
    if not isinstance(arg, dict) or arg.get("type") not in ARGUMENT_TYPES:
        raise ConfigError(f"{where}.type must be one of {', '.join(ARGUMENT_TYPES)}")
    key, name, default = arg.get("key"), arg.get("name"), arg.get("defaultValue")
    if isinstance(key, (int, float)) and not isinstance(key, bool):
        key = repr(key)
    if not isinstance(key, str):
        raise ConfigError(f"{where}.key must be a string")
    if custom and not (isinstance(name, str) and re.fullmatch(r"[^\W\d]\w*", name) and name not in FUNCTIONS):
        raise ConfigError(f"{where}.name must be a variable name of the custom function, got {str(name)[:40]!r}")
    default = None if default is None else _config_number(default, f"{where}.defaultValue")
    constant = _config_number(key, f"{where}.key") if arg["type"] == "CONSTANT" else None
    scope = _scope(arg, where) if arg["type"] == "ATTRIBUTE" else None
    return {"name": name, "type": arg["type"], "key": key, "scope": scope, "default": default, "constant": constant}


def _config_number(value, where: str) -> float:
    try:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ValueError(value)
        return java_double(str(value))
    except ValueError:
        raise ConfigError(f"{where}: Can't convert value '{str(value)[:40]}' to double!") from None


def _convert(text: str) -> float:
    try:
        return java_double(text)
    except ValueError:
        raise NodeError(f"Can't convert value '{text}' to double!") from None


def finite_double(value, what: str = "value") -> float:
    """``float(value)`` of a number; NodeError (not OverflowError) for an integer beyond a double (10**400)."""
    try:
        return float(value)
    except OverflowError:
        raise NodeError(f"Can't convert {what} to double: an integer of {value.bit_length()} bits is out of "
                        f"its range") from None


def _stored_number(value) -> float:
    """An attribute's or latest value's number (a LONG or DOUBLE entry, or its text parsed)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return finite_double(value)
    text = value if isinstance(value, str) else ("true" if value else "false") if isinstance(value, bool) else \
        _compact(value)
    return _convert(text)


def _compact(value) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _or_default(default, error: str) -> float:
    if default is None:
        raise NodeError(error)
    return default


def _from_body(body: dict, key: str, default) -> float:
    if key not in body:
        return _or_default(default, f"Message body has no '{key}'!")
    value = body[key]
    if value is None:
        return _or_default(default, f"Message body has null '{key}'!")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return finite_double(value, f"'{key}'")
    if isinstance(value, str):
        return _convert(value) if value.strip() else _or_default(default, f"Message value is empty for '{key}'!")
    raise NodeError(f"Can't convert value '{_compact(value)}' to double!")


def known_originators(ctx, msgs) -> set:
    """The originators of the batch that are this tenant's (another tenant's ids read as not found)."""
    entities = ctx.originators(msgs)
    return {m.originator_id for m in msgs if entities.get(m.originator_id) is not None
            or (m.originator_type == "TENANT" and m.originator_id == ctx.tenant_id)}


class MathNode(BaseNode):
    """``operation`` (ADD, SUB, MULT, DIV, SIN, ... or CUSTOM with ``customFunction``) over
    ``arguments`` ({name, type CONSTANT/MESSAGE_BODY/MESSAGE_METADATA/ATTRIBUTE/TIME_SERIES, key
    (``${metadataKey}``/``$[dataKey]`` templates), attributeScope, defaultValue}); the result
    (``resultValuePrecision`` decimals, 0: an integer) goes to the data or metadata key of
    ``result``, or is saved as an attribute (``attributeScope``) or time series of the
    originator (then also added to the data/metadata with ``addToBody``/``addToMetadata``).
    Messages are handled in order: a later message of the batch reads what an earlier one
    saved, as ThingsBoard's per-originator lock gives. Reads are one query per kind per batch."""

    label = "math function"
    group = "ACTION"
    side_effects = True
    defaults = {"operation": "CUSTOM", "customFunction": "(x - 32) / 1.8",
                "arguments": [{"name": "x", "type": "MESSAGE_BODY", "key": "temperature", "attributeScope": None,
                               "defaultValue": None}],
                "result": {"type": "MESSAGE_BODY", "key": "temperatureCelsius", "resultValuePrecision": 2,
                           "addToBody": False, "addToMetadata": False, "attributeScope": None}}
    fields = (field("operation", "select", "Operation", choices=OPERATIONS),
              field("customFunction", "text", "Custom function", help="exp4j, e.g. (x - 32) / 1.8"),
              field("arguments", "json", "Arguments"), field("result", "json", "Result"))

    @classmethod
    def clean_config(cls, configuration):
        operation, args = configuration.get("operation"), configuration.get("arguments")
        if operation not in OPERATIONS:
            raise ConfigError(f"operation must be one of {', '.join(OPERATIONS)}")
        if not isinstance(args, list):
            raise ConfigError("arguments must be a list of {name, type, key} objects")
        low, high = (0, 16) if operation == "CUSTOM" else (2, 2) if operation in _TWO else (1, 1)
        if not low <= len(args) <= high:
            raise ConfigError(f"arguments: Args count: {len(args)} does not match operation: {operation}")
        args = [_argument(arg, i, operation == "CUSTOM") for i, arg in enumerate(args)]
        expression = None
        if operation == "CUSTOM":
            text = configuration.get("customFunction")
            if not isinstance(text, str) or not text.strip():
                raise ConfigError("customFunction: Custom function is blank!")
            if len(text) > 256:
                raise ConfigError("customFunction: Custom function is too complex (length > 256)!")
            expression = Expression(text, [a["name"] for a in args])
        result = configuration.get("result")
        if not isinstance(result, dict) or result.get("type") not in ARGUMENT_TYPES[1:]:
            raise ConfigError(f"result.type must be one of {', '.join(ARGUMENT_TYPES[1:])}")
        if not isinstance(result.get("key"), str) or not result["key"]:
            raise ConfigError("result.key must be a non-empty key name")
        precision = int_option(result, "resultValuePrecision", 0, low=-300, high=300)
        result = {"type": result["type"], "key": result["key"], "precision": precision,
                  "integer": precision == 0 or operation in _INTEGER_RESULT,
                  "scope": _scope(result, "result") if result["type"] == "ATTRIBUTE" else None,
                  "addToBody": option_flag(result.get("addToBody")),
                  "addToMetadata": option_flag(result.get("addToMetadata"))}
        body = (result["type"] == "MESSAGE_BODY" or any(a["type"] == "MESSAGE_BODY" for a in args)
                or (result["type"] in STORED and result["addToBody"]))
        return {"operation": operation, "arguments": args, "expression": expression, "result": result, "body": body}

    def process_batch(self, ctx, msgs):
        return self._run(ctx, msgs, write=True)

    def simulate(self, ctx, msgs):
        """A test run computes, and adds to the message, without saving."""
        return self._run(ctx, msgs, write=False)

    def _run(self, ctx, msgs, *, write: bool):
        stored = [a for a in self.config["arguments"] if a["type"] in STORED]
        needs_db = stored or self.config["result"]["type"] in STORED
        known = known_originators(ctx, msgs) if needs_db else set()
        found = self._prefetch(stored, [m for m in msgs if m.originator_id in known])
        outs, pending = [], []
        for msg in msgs:
            try:
                out, row = self._one(msg, known, found, ctx.now)
            except NodeError as e:
                outs.append(fail(msg, e))
                continue
            outs.append([Out(SUCCESS, out)])
            if row is not None:
                pending.append((len(outs) - 1, row))
        if write and pending:
            self._save(ctx, outs, pending)
        return outs

    def _prefetch(self, stored, msgs) -> dict:
        """{(type, scope): {(entity id, key): (ts, value)}} of the batch, one query per kind."""
        wanted: dict = {}
        for arg in stored:
            keys = wanted.setdefault((arg["type"], arg["scope"]), set())
            keys.update(substitute(arg["key"], m) for m in msgs)
        ids = {m.originator_id for m in msgs}
        return {(kind, scope): (attribute_values(ids, scope, keys) if kind == "ATTRIBUTE"
                                else latest_many(ids, sorted(keys))) for (kind, scope), keys in wanted.items()}

    def _value(self, arg, msg, body, known, found) -> float:
        if arg["type"] == "CONSTANT":
            return arg["constant"]
        key = substitute(arg["key"], msg)
        if arg["type"] == "MESSAGE_BODY":
            return _from_body(body, key, arg["default"])
        if arg["type"] == "MESSAGE_METADATA":
            text = msg.metadata.get(key)
            return _convert(text) if text else _or_default(arg["default"], f"Message metadata has no '{key}'!")
        hit = found.get((arg["type"], arg["scope"]), {}).get((msg.originator_id, key))
        if hit is None or msg.originator_id not in known:
            what = f"Attribute: {key} with scope: {arg['scope']}" if arg["scope"] else f"Time-series: {key}"
            return _or_default(arg["default"], f"{what} not found for entity: {msg.originator_id}")
        return _stored_number(hit[1])

    def _calculate(self, values: list) -> float:
        operation = self.config["operation"]
        if operation == "CUSTOM":
            names = [a["name"] for a in self.config["arguments"]]
            return self.config["expression"].evaluate(dict(zip(names, values, strict=True)))
        return total(_TWO[operation])(*values) if operation in _TWO else total(_ONE[operation])(values[0])

    def _one(self, msg, known, found, now):
        body = msg.data if self.config["body"] else None
        if self.config["body"] and not isinstance(body, dict):
            raise NodeError("Message body is not a JSON object!")
        value = self._calculate([self._value(a, msg, body, known, found) for a in self.config["arguments"]])
        result = self.config["result"]
        if not math.isfinite(value):
            raise NodeError(f"The result is not a finite number: {java_text(value)}")
        number = java_long(value) if result["integer"] else float(java_round(value, result["precision"]))
        key, row, out = substitute(result["key"], msg), None, msg
        if result["type"] in STORED:
            if msg.originator_id not in known:
                raise NodeError(f"{msg.originator_type.title()} with id [{msg.originator_id}] is not found")
            saved = number if result["type"] == "ATTRIBUTE" else value  # ThingsBoard saves time series unrounded
            row = (result["type"], result["scope"], msg.originator_id, key, saved)
            found.setdefault((result["type"], result["scope"]), {})[(msg.originator_id, key)] = (now, saved)
        if result["type"] == "MESSAGE_BODY" or (row and result["addToBody"]):
            out = changed(out, data={**body, key: number})
        if result["type"] == "MESSAGE_METADATA" or (row and result["addToMetadata"]):
            out = changed(out, metadata={**out.metadata, key: java_text(number)})
        return out, row

    def _save(self, ctx, outs, pending):
        points = [Point(e, k, ctx.now, v) for _, (kind, _, e, k, v) in pending if kind == "TIME_SERIES"]
        attributes = [(e, scope, k, v, ctx.now) for _, (kind, scope, e, k, v) in pending if kind == "ATTRIBUTE"]
        try:
            with transaction.atomic():
                if points:
                    write_points(points, tenant_id=ctx.tenant_id)
                if attributes:
                    save_attributes_many(attributes, tenant_id=ctx.tenant_id)
        except Exception as e:  # the database refused the batch: its messages fail, the chain goes on
            error = f"could not store: {type(e).__name__}: {e}"[:1024]
            for i, _ in pending:
                outs[i] = fail(outs[i][0].msg, error)
