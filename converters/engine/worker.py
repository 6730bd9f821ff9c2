"""The worker process: runs batches of converter messages for the parent's pool.

Imports no Django and starts no thread: one engine per process, compiled scripts cached per
converter, one message at a time. Before each message it writes (index, wall-clock deadline)
into shared memory, which is all the parent's watchdog (pool.py) needs to kill it when a script
loops where the engine's own interrupt cannot reach (DESIGN.md section 4).
"""

import signal
import time
from collections import OrderedDict

from converters.engine.backend import JS, TIMEOUT, ScriptError, load_backend

__all__ = ["SKIPPED", "ScriptCache", "main"]

SKIPPED = "timeout (not run: this converter already timed out {n} times in this batch)"
IDLE = 0.0


class _Entry:
    __slots__ = ("version", "source", "lang", "caps", "script")

    def __init__(self, version, source, lang, caps, script):
        self.version, self.source, self.lang, self.caps, self.script = version, source, lang, caps, script


class ScriptCache:
    """Compiled scripts by (kind, converter key), least recently used dropped first.

    A new version, source or language replaces the entry. Key None (a test run from the API) is never
    cached, so no two callers ever share a context."""

    def __init__(self, backend):
        self._backend = backend
        self._entries: OrderedDict = OrderedDict()

    def get(self, kind, key, source, limits, lang=JS):
        if key is None:
            return self._backend.compile(kind, source, limits, lang=lang)
        converter, version = key
        caps = (limits.max_output_bytes, limits.max_error_chars)
        entry = self._entries.get((kind, converter))
        if entry is not None and entry.version == version and entry.source == source and entry.lang == lang \
                and entry.caps == caps:
            self._entries.move_to_end((kind, converter))
            entry.script.set_limits(limits)
            return entry.script
        self.drop(kind, key)
        script = self._backend.compile(kind, source, limits, lang=lang)
        if not isinstance(script, ScriptError):
            self._entries[(kind, converter)] = _Entry(version, source, lang, caps, script)
            while len(self._entries) > max(1, limits.context_cache):
                self._entries.popitem(last=False)[1].script.close()
        return script

    def drop(self, kind, key) -> None:
        if key is not None:
            entry = self._entries.pop((kind, key[0]), None)
            if entry is not None:
                entry.script.close()

    def __len__(self) -> int:
        return len(self._entries)


def run_batch(cache, state, kind, key, source, limits, items, timeouts_left, lang=JS):
    """Run `items` in order; returns [(output, error, logs)], one per item."""
    monotonic, timeout = time.monotonic, limits.timeout_s
    results: list = []
    base = 0

    def started(index: int) -> None:
        state[0] = base + index
        state[1] = monotonic() + timeout

    while len(results) < len(items):
        base = len(results)
        if timeouts_left <= 0:
            skipped = (None, SKIPPED.format(n=limits.max_timeouts_per_batch), ())
            results.extend([skipped] * (len(items) - base))
            break
        started(0)
        script = cache.get(kind, key, source, limits, lang)
        state[1] = IDLE
        if isinstance(script, ScriptError):
            error = str(script)
            if error != TIMEOUT:  # the same compile error for every message
                results.extend([(None, error, ())] * (len(items) - base))
                break
            results.append((None, error, ()))
            timeouts_left -= 1
            continue
        outcomes = script.run(items[base:], started)
        state[1] = IDLE
        results.extend([o[:3] for o in outcomes])  # (output, error, logs)
        last = outcomes[-1]
        if last.fatal:
            # A run that hit a limit may leave the context half-updated: rebuild it.
            cache.drop(kind, key)
            script.close()
            timeouts_left -= last.timed_out
        elif key is None:
            script.close()
    return results


def check(state, backend, kind, source, limits, lang=JS):
    state[0] = 0
    state[1] = time.monotonic() + limits.timeout_s
    script = backend.compile(kind, source, limits, lang=lang)
    state[1] = IDLE
    if isinstance(script, ScriptError):
        return script
    script.close()
    return None


def main(conn, out, state, backend_name: str) -> None:
    """Serve requests from `conn`, replying on `out`, until the parent closes the pipe.

    Requests: ("run", kind, key, source, limits, items, timeouts_left, lang) -> [(output, error, logs)];
    ("check", kind, source, limits, lang) -> ScriptError | None; ("ping",) -> ("pong", cached scripts)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is for the parent, which stops us
    backend = load_backend(backend_name)
    cache = ScriptCache(backend)
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        op = request[0]
        if op == "run":
            reply = run_batch(cache, state, *request[1:])
        elif op == "check":
            reply = check(state, backend, *request[1:])
        elif op == "ping":
            reply = ("pong", len(cache))
        else:
            return
        out.send(reply)


if __name__ == "__main__":
    import mmap
    import sys
    from multiprocessing.connection import Connection

    requests_fd, replies_fd, state_fd = map(int, sys.argv[1:4])
    shared = mmap.mmap(state_fd, 16)
    requests = Connection(requests_fd, readable=True, writable=False)
    replies = Connection(replies_fd, readable=False, writable=True)
    main(requests, replies, memoryview(shared).cast("d"), sys.argv[4])
