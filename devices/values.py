"""Typed key/value columns shared by attributes and telemetry (ThingsBoard's kv layout).

A value is stored in exactly one of bool_v, long_v, dbl_v, str_v, json_v.
"""

import json
import math
from typing import Any

from tbproject.text import check_text

__all__ = ["encode", "decode", "as_text", "check_text", "COLUMNS"]

COLUMNS = ("bool_v", "long_v", "dbl_v", "str_v", "json_v")
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1


def encode(value: Any) -> tuple:
    """Return (bool_v, long_v, dbl_v, str_v, json_v) for a JSON-compatible Python value."""
    if isinstance(value, bool):
        return (value, None, None, None, None)
    if isinstance(value, int):
        if _LONG_MIN <= value <= _LONG_MAX:
            return (None, value, None, None, None)
        try:
            return (None, None, float(value), None, None)
        except OverflowError:  # past a double: ThingsBoard refuses such a BigInteger too
            raise ValueError("Big integer values are not supported!") from None
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return (None, None, None, str(value), None)
        return (None, None, value, None, None)
    if isinstance(value, str):
        return (None, None, None, check_text(value), None)
    if value is None:
        return (None, None, None, None, "null")
    try:
        text = json.dumps(value, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"value cannot be stored as JSON: {exc}") from None
    return (None, None, None, None, check_text(text))


def decode(bool_v, long_v, dbl_v, str_v, json_v) -> Any:
    if bool_v is not None:
        return bool(bool_v)
    if long_v is not None:
        return long_v
    if dbl_v is not None:
        return dbl_v
    if str_v is not None:
        return str_v
    if json_v is not None:
        return json.loads(json_v)
    return None


def as_text(value: Any) -> str:
    """ThingsBoard's non-strict rendering: every value as a string (JSON for objects)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)) or value is None:
        return json.dumps(value, separators=(",", ":"))
    return str(value)
