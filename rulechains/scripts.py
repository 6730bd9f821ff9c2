"""Rule-node scripts (filter, transform, log) on the converters' sandboxed runtime.

ThingsBoard stores the *body* of ``function Filter(msg, metadata, msgType)`` (or ``Transform``,
``ToString``), in ``jsScript`` or, with ``scriptLang`` TBEL, in ``tbelScript``. The converters'
engine (converters.engine) runs bodies of ``Encoder(msg, metadata, msgType, integrationMetadata)``
with the same arguments, so a JS node body is wrapped in one line of such an encoder body, on the
same line as the user's first line so that error lines stay right; a TBEL body runs as it is (the
engine transpiles it). It then has the converters' limits (time, memory, output), worker
processes and compiled-context cache (one context per node and version; never shared).
"""

import json

from converters import engine
from converters.engine import EngineError, ScriptError

__all__ = ["FUNCTIONS", "ScriptConfigError", "script_of", "wrap", "check", "run", "EngineError", "ScriptError"]

#: node script kind -> ThingsBoard's function name
FUNCTIONS = {"filter": "Filter", "transform": "Transform", "log": "ToString", "switch": "Switch",
             "details": "Details", "generate": "Generate"}


class ScriptConfigError(ValueError):
    pass


def script_of(configuration: dict, js: str = "jsScript", tbel: str = "tbelScript") -> tuple[str, str]:
    """(language, body) a node runs: ``jsScript`` for JS, ``tbelScript`` for TBEL (or the node's
    own field names; ``mvelScript`` for MVEL, TBEL's older name); ScriptConfigError when the
    language is unknown or its body is missing."""
    declared = lang = str(configuration.get("scriptLang") or "JS").upper()
    if lang == "JAVASCRIPT":
        lang = "JS"
    if lang == "MVEL":  # TBEL's name in some ThingsBoard 3.x templates (its default root chain's log nodes)
        lang = "TBEL"
    if lang not in ("JS", "TBEL"):
        raise ScriptConfigError(f"scriptLang must be JS or TBEL, not {lang:.20}")
    field = js if lang == "JS" else tbel
    source = configuration.get(field)
    if declared == "MVEL" and not (isinstance(source, str) and source.strip()):
        field, source = "mvelScript", configuration.get("mvelScript")
    if not isinstance(source, str) or not source.strip():
        raise ScriptConfigError(f"{field} must be a non-empty {lang} function body")
    return lang, source


def wrap(kind: str, body: str, lang: str = "JS") -> str:
    if lang == "TBEL":  # the body runs as it is, with msg, metadata and msgType defined
        if kind == "generate":  # same line: error lines stay the user's
            return "var prevMsg = msg; var prevMetadata = metadata; var prevMsgType = msgType; " + body
        return body
    name = FUNCTIONS[kind]
    if kind == "generate":  # ThingsBoard's Generate(prevMsg, prevMetadata, prevMsgType)
        return (f"return (function {name}(prevMsg, prevMetadata, prevMsgType) {{{body}\n}})"
                "(msg, metadata, msgType);")
    return f"return (function {name}(msg, metadata, msgType) {{{body}\n}})(msg, metadata, msgType);"


def check(kind: str, body: str, lang: str = "JS") -> ScriptError | None:
    """None when the body compiles, else the engine's message and line (EngineError if it cannot start)."""
    return engine.check_script("encoder", wrap(kind, body, lang), lang=lang)


def run(kind: str, key: str, version, body: str, messages, lang: str = "JS") -> list:
    """Run the body on each message; returns converters.engine.Result per message (output is JSON text)."""
    items = [(json.dumps(m.data), m.metadata, m.msg_type, {}) for m in messages]
    return engine.encode(key, version, wrap(kind, body, lang), items, lang=lang)
