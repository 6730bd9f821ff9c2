"""SCRIPT fields: the TBEL body of ``calculate(ctx, arg1, arg2, ...)`` on the converters' sandbox.

ThingsBoard stores the body of ``function calculate(ctx, <arguments in order>)``. It runs here on
converters.engine (the TBEL transpiler, worker processes, wall-clock timeout, memory and output
caps, one compiled context per field and version), as rule-node scripts do (rulechains/scripts.py):
the body runs as the engine's encoder body, with ``msg`` the JSON ``{"ctx": ctx, "args": {...}}``,
and a prefix on the body's first line declares ``ctx`` and one variable per argument, so that error
lines stay the user's. What the script sees, as in ThingsBoard:

- a latest-telemetry or attribute argument: its value; ``ctx.args.<name>`` is ``{ts, value}``;
- a rolling argument: ThingsBoard's TbelCfTsRollingArg, ``timeWindow`` {startTs, endTs} and
  ``values`` [{ts, value}] (values as doubles, NaN where not a number), ``foreach`` over its values,
  and its methods ``max() min() mean() avg() std() median() sum() count() first() last()`` (each with
  an optional ``ignoreNaN``, true by default), ``merge(other[, settings])`` and
  ``mergeAll(others[, settings])`` (converters/tbel/runtime_rolling.js);
- ``ctx.latestTs``: the newest timestamp among the telemetry arguments.
"""

import json
import re

from converters import engine
from converters.engine import EngineError, Limits
from converters.services import describe_error

__all__ = ["wrap", "check", "run", "EngineError"]

_COLUMN_ON_FIRST_LINE = re.compile(r"\(column (\d+)\)(?= \(line 1\))")


def _prefix(names) -> str:
    # TbelCfArgs (converters/tbel/runtime_rolling.js) makes each rolling argument ThingsBoard's
    # TbelCfTsRollingArg, the same object in ctx.args and as the parameter
    return "msg = new TbelCfArgs(msg); var ctx = msg.ctx; " + "".join(f"var {name} = msg.args.{name}; "
                                                                    for name in names)


def _rolling(ctx) -> list[str]:
    """The rolling arguments among ``ctx.args`` ({timeWindow, values}; a single value is {ts, value})."""
    return [name for name, arg in (ctx.get("args") or {}).items() if isinstance(arg, dict) and "timeWindow" in arg]


def wrap(names, body: str) -> str:
    """The engine's body for a calculate() body taking arguments ``names`` (checked identifiers)."""
    return _prefix(names) + body


def _user_columns(error: str, names) -> str:
    shift = len(_prefix(names))
    return _COLUMN_ON_FIRST_LINE.sub(lambda m: f"(column {max(1, int(m.group(1)) - shift)})", error)


def check(names, body: str) -> str | None:
    """None when the body compiles, else the engine's message and line. EngineError if it cannot start."""
    error = engine.check_script("encoder", wrap(names, body), lang="TBEL")
    return None if error is None else _user_columns(str(error), names)


def run(key, version, names, body: str, calls, *, limits: Limits | None = None) -> list[tuple[object, str | None]]:
    """Run the body once per ``(ctx, args)`` in ``calls``; [(result, None) or (None, error)] in order.

    ``key`` None compiles a fresh context (a test run); otherwise one cached context per key and version."""
    limits = limits or Limits.from_settings()
    items = []
    for ctx, args in calls:
        rolling = _rolling(ctx)  # sent once, in ctx.args: TbelCfArgs puts the same object in args
        args = {name: value for name, value in args.items() if name not in rolling}
        items.append((json.dumps({"ctx": ctx, "args": args, "rolling": rolling}, allow_nan=False, default=str),
                      {}, "", {}))
    results = engine.encode(key, version, wrap(names, body), items, limits=limits, lang="TBEL")
    answers = []
    for result in results:
        if result.error is not None:
            answers.append((None, _user_columns(describe_error(result.error, limits), names)))
            continue
        try:
            answers.append((json.loads(result.output_json), None))
        except (TypeError, ValueError):
            answers.append((None, "the script returned no JSON value"))
    return answers


