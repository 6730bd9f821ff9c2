"""Sandboxed converter script runtime (DESIGN.md section 4).

Stored scripts are the *body* of ThingsBoard's ``function Decoder(payload, metadata)`` or
``function Encoder(msg, metadata, msgType, integrationMetadata)``. They run in a pool of worker
processes (pool.py), one QuickJS-ng context per converter version, bounded in wall-clock time,
memory and output size. Thread-safe; no Redis or database needed.

    results = decode(converter_id, version, source, [(payload_bytes, {"integrationName": "x"})])
    results[0].output_json   # '{"deviceName": ...}' or None
    results[0].error         # None, "timeout", "out of memory", "TypeError: ... (line 3)", ...

``converter_key=None`` (a test run from the API) compiles a fresh context that is not cached.
Every call raises EngineError (retryable) only when worker processes cannot be started at all;
a script's own failure is always a Result with ``error`` set.
"""

import atexit
import json
import os
import threading
import time
from collections.abc import Iterable
from typing import NamedTuple

from converters.engine.backend import DECODER, ENCODER, LANGUAGES, OUT_OF_MEMORY, TIMEOUT, ScriptError
from converters.engine.limits import Limits, worker_count
from converters.engine.pool import CRASHED, EngineError, Pool
from tbproject import metrics

__all__ = [
    "CRASHED", "DECODER", "ENCODER", "LANGUAGES", "OUT_OF_MEMORY", "TIMEOUT",
    "EngineError", "Limits", "Result", "ScriptError",
    "check_script", "decode", "encode", "pool_stats", "shutdown",
]

_KINDS = {"decoder": DECODER, "uplink": DECODER, "encoder": ENCODER, "downlink": ENCODER}


class Result(NamedTuple):
    """One message's outcome: the script's return value as JSON text, or an error message.

    ``logs`` holds the lines the script wrote with console.log/info/warn/error (capped).
    (A NamedTuple: one is built per message on the hot path.)"""

    output_json: str | None
    error: str | None
    logs: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None


def decode(converter_key, version, source: str, messages: Iterable[tuple[bytes, dict]],
           *, limits: Limits | None = None, lang: str = "JS") -> list[Result]:
    """Run an uplink script on each (payload bytes, metadata of strings) message.
    `lang` is "JS" or "TBEL" (transpiled to JS in the worker, converters/tbel)."""
    items = [(payload if type(payload) is bytes else bytes(payload),
              metadata if type(metadata) is dict else dict(metadata or {})) for payload, metadata in messages]
    return _run(DECODER, converter_key, version, source, items, limits, lang)


def encode(converter_key, version, source: str, messages: Iterable[tuple[str, dict, str, dict]],
           *, limits: Limits | None = None, lang: str = "JS") -> list[Result]:
    """Run a downlink script on each (msg JSON text, metadata, msgType, integration metadata)."""
    items = [
        (msg if isinstance(msg, str) else json.dumps(msg), dict(metadata or {}), str(msg_type or ""),
         dict(integration_metadata or {}))
        for msg, metadata, msg_type, integration_metadata in messages
    ]
    return _run(ENCODER, converter_key, version, source, items, limits, lang)


def check_script(kind: str, source: str, *, limits: Limits | None = None, lang: str = "JS") -> ScriptError | None:
    """None if `source` compiles as a decoder/encoder body, else the engine's message and the
    line in the body. Nothing in the body runs (only code placed outside it could)."""
    return _pool().check(_kind(kind), source, limits or Limits.from_settings(), _lang(lang))


def shutdown() -> None:
    """Stop every worker process of this process's pool (a new pool starts on next use)."""
    global _POOL
    with _LOCK:
        pool, _POOL = _POOL, None
    if pool is not None:
        pool.close()


def pool_stats() -> dict:
    pool = _POOL
    return pool.stats() if pool is not None else {"size": 0, "workers": 0, "idle": 0, "started": 0}


def _run(kind, converter_key, version, source, items, limits, lang) -> list[Result]:
    lang = _lang(lang)
    if not items:
        return []
    key = None if converter_key is None else (str(converter_key), version)
    started = time.perf_counter()
    rows = _pool().run(kind, key, source, items, limits or Limits.from_settings(), lang)
    # each message's share of its batch's run time (the pool times batches, not messages)
    metrics.observe("tb_converter_latency_seconds", (time.perf_counter() - started) / len(items), len(items),
                    kind=kind)
    new = tuple.__new__  # Result._make without its length check, per message: the rows are the pool's triples
    return [new(Result, row) for row in rows]


def _kind(kind: str) -> str:
    try:
        return _KINDS[kind.lower()]
    except (KeyError, AttributeError):
        raise ValueError(f"unknown script kind {kind!r}: use 'decoder' or 'encoder'") from None


def _lang(lang: str) -> str:
    value = (lang or "JS").upper()
    if value not in LANGUAGES:
        raise ValueError(f"unknown script language {lang!r}: use 'JS' or 'TBEL'")
    return value


_LOCK = threading.Lock()
_POOL: Pool | None = None


def _pool() -> Pool:
    global _POOL
    pool = _POOL
    if pool is not None and pool.pid == os.getpid():
        return pool
    with _LOCK:
        if _POOL is None or _POOL.pid != os.getpid():
            from converters.engine.limits import _setting

            _POOL = Pool(worker_count(), backend=_setting("CONVERTER_BACKEND", "quickjs"))
        return _POOL


def _after_fork_in_child() -> None:
    # A forked child (e.g. a Celery prefork process) must not use the parent's pipes.
    global _POOL, _LOCK
    _LOCK = threading.Lock()  # another thread may have held it at the fork
    if _POOL is not None:
        _POOL.forget()
        _POOL = None


os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(shutdown)
