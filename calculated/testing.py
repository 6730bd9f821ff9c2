"""POST /api/calculatedField/testScript: a SCRIPT body run once on given arguments.

ThingsBoard's request ``{"expression": body, "arguments": {name: {"type": "SINGLE_VALUE", "ts", "value"}
| {"type": "TS_ROLLING", "timeWindow": {...}, "values": [{ts, value}]}}}`` and answer
``{"output": "<JSON text>", "error": ""}``: the script's own result, or ``error`` when it failed
(a compile error, a timeout, what it threw), as testUpLink answers for converters.
"""

import json

from calculated import scripts
from calculated.config import MAX_SCRIPT, NAME, RESERVED
from calculated.services import EngineUnavailable

__all__ = ["TestError", "test_script"]

MAX_ARGUMENTS = 100


class TestError(ValueError):
    """A request that cannot be run (a 400)."""


def _argument(name, raw) -> tuple[object, object]:
    """(what ctx.args holds, what the parameter holds)."""
    if not isinstance(name, str) or not NAME.match(name) or name in RESERVED:
        raise TestError(f"Argument name '{str(name)[:64]}' is not a valid, unreserved identifier")
    if not isinstance(raw, dict):
        raise TestError(f"Argument '{name}' must be a JSON object")
    kind = raw.get("type") or "SINGLE_VALUE"
    if kind == "TS_ROLLING":
        values = raw.get("values") or []
        window = raw.get("timeWindow") or {}
        if not isinstance(values, list) or not all(isinstance(v, dict) for v in values):
            raise TestError(f"Argument '{name}': values must be an array of {{ts, value}} objects")
        if not isinstance(window, dict):
            raise TestError(f"Argument '{name}': timeWindow must be an object {{startTs, endTs}}")
        rolling = {"timeWindow": window, "values": values}
        return rolling, rolling
    if kind != "SINGLE_VALUE":
        raise TestError(f"Argument '{name}': type must be SINGLE_VALUE or TS_ROLLING")
    return {"ts": raw.get("ts"), "value": raw.get("value")}, raw.get("value")


def test_script(data) -> dict:
    if not isinstance(data, dict):
        raise TestError("Request body must be a JSON object {expression, arguments}")
    expression = data.get("expression")
    if not isinstance(expression, str) or not expression.strip():
        raise TestError("'expression' must be the non-empty body of calculate(ctx, ...)")
    if len(expression) > MAX_SCRIPT:
        raise TestError(f"'expression' is longer than {MAX_SCRIPT} characters")
    arguments = data.get("arguments")
    arguments = {} if arguments is None else arguments
    if not isinstance(arguments, dict) or len(arguments) > MAX_ARGUMENTS:
        raise TestError(f"'arguments' must be a JSON object of at most {MAX_ARGUMENTS} arguments")
    ctx_args, plain = {}, {}
    for name, raw in arguments.items():
        ctx_args[name], plain[name] = _argument(name, raw)
    stamps = [a.get("ts") for a in ctx_args.values() if isinstance(a.get("ts"), int)]
    ctx = {"args": ctx_args, "latestTs": max(stamps) if stamps else None}
    try:
        [(result, error)] = scripts.run(None, 0, list(plain), expression, [(ctx, plain)])
    except scripts.EngineError:
        raise EngineUnavailable("The script engine cannot start; try again") from None
    except ValueError as e:  # a value JSON cannot carry
        raise TestError(f"arguments: {e}") from None
    if error is not None:
        return {"output": "", "error": error}
    return {"output": json.dumps(result, separators=(",", ":")), "error": ""}
