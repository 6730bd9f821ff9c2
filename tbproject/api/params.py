"""Typed query parameters with ThingsBoard-style 400 messages."""

from rest_framework.exceptions import ValidationError

__all__ = ["bool_param", "choice_param", "required_param", "ms_param"]


def required_param(params, name: str) -> str:
    value = params.get(name)
    if value in (None, ""):
        raise ValidationError(f"Required request parameter '{name}' is not present")
    return value


def bool_param(params, name: str, default: bool | None = None) -> bool | None:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    lowered = raw.lower()
    if lowered not in ("true", "false"):
        raise ValidationError(f"Parameter '{name}' must be true or false, got '{raw:.32}'")
    return lowered == "true"


def choice_param(params, name: str, choices, default: str | None = None) -> str | None:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    if raw not in choices:
        raise ValidationError(f"Parameter '{name}' must be one of: {', '.join(choices)}")
    return raw


def ms_param(params, name: str) -> int | None:
    """A time in milliseconds (``startTime``, ``endTime``), None when absent."""
    raw = params.get(name)
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        raise ValidationError(f"Parameter '{name}' must be a time in milliseconds, got '{raw:.32}'") from None
