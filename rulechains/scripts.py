"""Rule-node scripts (filter, transform, log) on the converters' sandboxed runtime.

ThingsBoard stores the *body* of ``function Filter(msg, metadata, msgType)`` (or ``Transform``,
``ToString``). The converters' engine (converters.engine) runs bodies of
``Encoder(msg, metadata, msgType, integrationMetadata)`` with the same arguments, so a node body is
wrapped in one line of such an encoder body, on the same line as the user's first line so that
error lines stay right. It then has the converters' limits (time, memory, output), worker
processes and compiled-context cache (one context per node and version; never shared).
"""

import json

from converters import engine
from converters.engine import EngineError, ScriptError

__all__ = ["FUNCTIONS", "TBEL_UNSUPPORTED", "ScriptConfigError", "script_of", "wrap", "check", "run", "EngineError",
           "ScriptError"]

#: node script kind -> ThingsBoard's function name
FUNCTIONS = {"filter": "Filter", "transform": "Transform", "log": "ToString", "switch": "Switch"}
TBEL_UNSUPPORTED = "TBEL is not supported yet: rule node scripts run JavaScript only (set scriptLang to JS)"


class ScriptConfigError(ValueError):
    pass


def script_of(configuration: dict) -> str:
    """The JavaScript body a node runs: ``jsScript``; ScriptConfigError when it is TBEL only or missing."""
    lang = str(configuration.get("scriptLang") or "JS").upper()
    source = configuration.get("jsScript")
    if lang not in ("JS", "JAVASCRIPT"):
        raise ScriptConfigError(TBEL_UNSUPPORTED)
    if not isinstance(source, str) or not source.strip():
        raise ScriptConfigError("jsScript must be a non-empty JavaScript function body")
    return source


def wrap(kind: str, body: str) -> str:
    name = FUNCTIONS[kind]
    return f"return (function {name}(msg, metadata, msgType) {{{body}\n}})(msg, metadata, msgType);"


def check(kind: str, body: str) -> ScriptError | None:
    """None when the body compiles, else the engine's message and line (EngineError if it cannot start)."""
    return engine.check_script("encoder", wrap(kind, body))


def run(kind: str, key: str, version, body: str, messages) -> list:
    """Run the body on each message; returns converters.engine.Result per message (output is JSON text)."""
    items = [(json.dumps(m.data), m.metadata, m.msg_type, {}) for m in messages]
    return engine.encode(key, version, wrap(kind, body), items)
