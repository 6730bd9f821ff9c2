"""QuickJS-ng backend: one context (its own QuickJS runtime) per compiled converter.

Only strings cross between Python and JS (DESIGN.md section 4): arguments go in as strings and
are parsed by the prelude, results come back as JSON text stringified inside JS, and every
exception a script can catch is described inside JS. What still reaches Python is uncatchable
engine errors (interrupt, out of memory while unwinding), whose text comes from frozen built-ins.
"""

import json
from binascii import b2a_base64
from pathlib import Path

import quickjs

from converters.engine.backend import (
    DECODER,
    JS,
    OUT_OF_MEMORY,
    TBEL,
    TIMEOUT,
    Backend,
    CompiledScript,
    Outcome,
    ScriptError,
)

__all__ = ["QuickJSBackend"]

PRELUDE = Path(__file__).with_name("prelude.js").read_text()
_NO_LOGS: tuple[str, ...] = ()
_new_outcome = tuple.__new__


def _output(text: str) -> Outcome:
    """Outcome(text, None, (), False, False), without the named tuple's keyword-parsing __new__."""
    return _new_outcome(Outcome, (text, None, _NO_LOGS, False, False))


def _tbel_runtime() -> str:
    from converters.tbel import RUNTIME_JS

    return RUNTIME_JS


# ASCII: a lone surrogate in metadata could not cross to the engine as UTF-8.
_encode = json.JSONEncoder(separators=(",", ":"), default=str).encode
#: the first char of a framed reply (prelude.js __tbFinish): no JSON text starts with it
_FRAMED = "\x01"
_BATCH_SET = _FRAMED + "00:"


class QuickJSScript(CompiledScript):
    def __init__(self, context, runner, kind: str, limits, *, text_payload: bool = False):
        self._context, self._runner, self._kind = context, runner, kind
        #: a decoder's payload crosses as a latin-1 string (the body takes it as text), else as base64
        self._text_payload = text_payload
        self._max_output = limits.max_output_bytes
        self._max_error = limits.max_error_chars
        self._limits = None
        self.set_limits(limits)

    def set_limits(self, limits) -> None:
        if limits == self._limits:
            return
        # CPU time of this (single-threaded) worker process; the parent's watchdog is wall-clock.
        self._context.set_time_limit(limits.timeout_s)
        self._context.set_memory_limit(limits.memory_mb * 1024 * 1024)
        self._limits = limits

    def run(self, items: list, started) -> list[Outcome]:
        if self._runner is None:
            return [Outcome(None, "the script context was closed", fatal=True)]
        decoder = self._kind == DECODER
        text_payload = self._text_payload
        started(0)
        if decoder:
            meta = _encode([metadata or {} for _, metadata in items])
        else:
            meta = _encode([[metadata or {}, extra or {}] for _, metadata, _, extra in items])
        outcome = self._call(None, meta, "")
        if outcome is not None:
            return [outcome._replace(fatal=True)]
        outcomes: list = []
        append, runner, reply, small = outcomes.append, self._runner, self._reply, self._max_output // 3
        for index, item in enumerate(items):
            if index:
                started(index)
            try:
                if decoder:
                    payload = item[0].decode("latin-1") if text_payload else b2a_base64(item[0], newline=False).decode()
                    text = runner(payload, index)
                else:
                    text = runner(item[0], index, str(item[2] or ""))
            except Exception as e:
                outcome = self._raised(e)
            else:
                if text and text[0] != _FRAMED and len(text) <= small:  # _parse's common case, inline
                    append(_output(text))
                    continue
                outcome = reply(text)
            append(outcome)
            if outcome.fatal:
                return outcomes
        self._call(None, "[]", "")  # drop the batch's metadata: the context may live long
        return outcomes

    def _call(self, *args) -> Outcome | None:
        try:
            text = self._runner(*args)
        except Exception as e:
            return self._raised(e)
        if args[0] is None and text == _BATCH_SET:
            return None
        return self._reply(text)

    def _raised(self, e: Exception) -> Outcome:
        if isinstance(e, quickjs.JSException):
            return self._uncaught(str(e))
        # StackOverflow, MemoryError: the context is not trusted after them
        return Outcome(None, f"internal error: {type(e).__name__}: {str(e)[: self._max_error]}", fatal=True)

    def _reply(self, text: str) -> Outcome:
        try:
            return self._parse(text)
        except ValueError as e:  # a prelude bug, not the script's: say so rather than crash
            return Outcome(None, f"internal error: unreadable result ({e})", fatal=True)

    def _parse(self, text: str) -> Outcome:
        if text and text[0] != _FRAMED:  # the common case: the result's JSON text, without logs
            status, logs, body = "0", _NO_LOGS, text
        else:
            colon = text.index(":", 2)
            size = int(text[2:colon])
            logs = tuple(json.loads(text[colon + 1 : colon + 1 + size])) if size else _NO_LOGS
            body = text[colon + 1 + size :]
            status = text[1]
        if status == "0":
            if len(body) * 3 > self._max_output and len(body.encode("utf-8")) > self._max_output:
                return Outcome(None, f"the output is too large (limit {self._max_output} bytes)", logs)
            return _new_outcome(Outcome, (body, None, logs, False, False))
        if status == "2":
            return Outcome(None, OUT_OF_MEMORY, logs, fatal=True)
        return Outcome(None, body[: self._max_error + 3], logs)

    def _uncaught(self, text: str) -> Outcome:
        # Uncatchable: the interrupt raised past the time limit, or out of memory while the
        # error itself was being built (the exception value is then null).
        if "interrupted" in text:
            return Outcome(None, TIMEOUT, fatal=True, timed_out=True)
        if "out of memory" in text or text.strip() in ("null", ""):
            return Outcome(None, OUT_OF_MEMORY, fatal=True)
        return Outcome(None, text.strip()[: self._max_error], fatal=True)

    def close(self) -> None:
        self._runner = self._context = None


class QuickJSBackend(Backend):
    name = "quickjs"

    def compile(self, kind: str, source: str, limits, lang: str = JS) -> "QuickJSScript | ScriptError":
        text_payload = False
        if lang == TBEL:
            # Transpiled here, in the worker: the TBEL line of a syntax error is the body's line,
            # and the generated JS keeps every statement on its TBEL line.
            from converters import tbel

            try:
                source = tbel.transpile(source, kind)
                text_payload = source.startswith(tbel.TEXT_PAYLOAD)
            except tbel.TbelSyntaxError as e:
                return ScriptError(f"{e.message} (column {e.column})"[: limits.max_error_chars], e.line)
            except Exception as e:  # a transpiler bug must fail this script, not the worker
                text = f"internal error: TBEL transpiler: {type(e).__name__}: {e}"
                return ScriptError(text[: limits.max_error_chars])
        context = quickjs.Context()
        context.set_memory_limit(limits.memory_mb * 1024 * 1024)
        context.set_time_limit(limits.timeout_s)
        try:
            if lang == TBEL:
                # The TBEL runtime is evaluated BEFORE the prelude, in the same context: it captures
                # pristine built-ins and defines its one global (__tbel) before anything else runs;
                # it runs no user code at load time and changes no built-in prototype.
                context.eval(_tbel_runtime())
            compile_fn = context.eval(PRELUDE)
            lines = source.count("\n") + 1
            # a TBEL decoder that only decodes its payload as text takes it as the string it arrives as
            mode = "decoder-text" if text_payload and kind == DECODER else kind
            result = compile_fn(mode, source, lines, limits.max_output_bytes, limits.max_error_chars)
        except quickjs.JSException as e:
            text = str(e)
            if "interrupted" in text:
                return ScriptError(TIMEOUT)
            if "out of memory" in text or text.strip() in ("null", ""):
                return ScriptError(OUT_OF_MEMORY)
            return ScriptError(text.strip()[: limits.max_error_chars])
        if isinstance(result, str):
            line, _, message = result.partition(":")
            return ScriptError(message, int(line) or None)
        return QuickJSScript(context, result, kind, limits, text_payload=mode == "decoder-text")
