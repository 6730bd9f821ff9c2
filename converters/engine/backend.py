"""The small interface a script engine implements, and the table of engines.

A backend compiles one converter script into a `CompiledScript` that lives in its own isolated
context (never shared between converters or tenants) and runs messages one at a time. Backends
run inside a worker process (`worker.py`); the parent's watchdog bounds them in wall-clock time,
so a backend only has to make a best effort at its own limits.
"""

import importlib
from typing import NamedTuple

__all__ = ["BACKENDS", "DECODER", "ENCODER", "JS", "LANGUAGES", "TBEL", "Backend", "CompiledScript", "Outcome",
           "ScriptError", "load_backend"]

DECODER = "decoder"
ENCODER = "encoder"

# Script languages: TBEL is transpiled to JS (converters/tbel) and runs on the same engine.
JS = "JS"
TBEL = "TBEL"
LANGUAGES = (JS, TBEL)

# Error texts the pipeline and API can match on.
TIMEOUT = "timeout"
OUT_OF_MEMORY = "out of memory"

BACKENDS = {
    "quickjs": "converters.engine.quickjs_backend.QuickJSBackend",
}


class ScriptError(Exception):
    """A script that does not compile: the engine's message and the line in the user's body."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message, self.line = message, line

    def __str__(self) -> str:
        return f"{self.message} (line {self.line})" if self.line else self.message

    def __eq__(self, other) -> bool:
        return isinstance(other, ScriptError) and (self.message, self.line) == (other.message, other.line)

    def __hash__(self) -> int:
        return hash((self.message, self.line))

    def __reduce__(self):
        return ScriptError, (self.message, self.line)


class Outcome(NamedTuple):
    """What one run gave: `output` (JSON text) or `error`; `fatal` drops the context.
    A NamedTuple, not a dataclass: it is built once per message on the hot path."""

    output: str | None
    error: str | None
    logs: tuple[str, ...] = ()
    fatal: bool = False
    timed_out: bool = False


class CompiledScript:
    """One converter script compiled in its own context, reused across messages."""

    def run(self, items: list, started) -> list[Outcome]:
        """Run messages in order, calling ``started(i)`` just before message i (the worker
        writes the watchdog's deadline there). Stops after the first fatal outcome, which is
        returned last. Must not raise: every failure is an Outcome with ``error`` set.

        A decoder item is (payload: bytes, metadata: dict); an encoder item is
        (msg_json_text: str, metadata: dict, msg_type: str, integration_metadata: dict)."""
        raise NotImplementedError

    def set_limits(self, limits) -> None:
        """Apply time and memory limits that may have changed since compile."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the context. Idempotent."""


class Backend:
    """A script engine. `compile` returns a CompiledScript or a ScriptError (never raises for
    a bad script); the source is the body of Decoder(...) or Encoder(...) as ThingsBoard stores it,
    in `lang` (JS or TBEL)."""

    name = ""

    def compile(self, kind: str, source: str, limits, lang: str = JS) -> "CompiledScript | ScriptError":
        raise NotImplementedError


def load_backend(name: str) -> Backend:
    module, _, cls = BACKENDS[name].rpartition(".")
    return getattr(importlib.import_module(module), cls)()
