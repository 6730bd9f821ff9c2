"""The parent side: a pool of long-lived worker processes and the wall-clock watchdog.

A caller checks out one worker for its whole batch (one round trip), and while waiting for the
reply it is the watchdog: it reads the deadline the worker wrote for its current message and
kills the worker once that deadline (plus a grace that lets the engine's own interrupt answer
first) has passed. The hung message fails with "timeout"; the rest of the batch is re-run on a
fresh worker. Workers are fresh interpreters (see Worker), so they inherit no Django database
connections and no threads.
"""

import mmap
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import OrderedDict
from multiprocessing.connection import Connection
from pathlib import Path

from converters.engine.backend import TIMEOUT, ScriptError

__all__ = ["CRASHED", "EngineError", "Pool"]

CRASHED = "the script engine crashed while running this message"


class EngineError(RuntimeError):
    """The runtime itself cannot run scripts (workers die before running anything). Retryable."""


_ROOT = str(Path(__file__).resolve().parents[2])


class Worker:
    """One worker process, its two pipes and the shared (index, deadline) pair it writes.

    Started with subprocess (`python -m converters.engine.worker`) rather than multiprocessing's
    spawn/forkserver: those re-run the parent's __main__ script in every child (pytest, daphne or
    celery's, or a user script without a main guard, which then fails to start at all), while a
    fresh interpreter inherits nothing but three file descriptors: no Django database
    connections, no threads, no main module."""

    def __init__(self, backend: str, number: int):
        self.number = number
        state_file = tempfile.TemporaryFile()
        state_file.truncate(16)
        self._map = mmap.mmap(state_file.fileno(), 16)
        self.state = memoryview(self._map).cast("d")
        to_child_r, to_child_w = os.pipe()
        to_parent_r, to_parent_w = os.pipe()
        fds = (to_child_r, to_parent_w, state_file.fileno())
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [_ROOT, os.environ.get("PYTHONPATH")])))
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "converters.engine.worker", *map(str, fds), backend],
                pass_fds=fds, env=env, cwd=_ROOT, stdin=subprocess.DEVNULL,
            )
        finally:
            for fd in (to_child_r, to_parent_w):
                os.close(fd)
            state_file.close()
        self.conn = Connection(to_parent_r, readable=True, writable=False)
        self._out = Connection(to_child_w, readable=False, writable=True)
        self.recent: OrderedDict = OrderedDict()  # (kind, converter) this worker has compiled

    def call(self, request, grace_s: float):
        """Send one request and wait for its reply as the watchdog.

        Returns ("ok", reply), ("killed", index) when the message at `index` passed its deadline,
        or ("crashed", index or None) when the process died by itself."""
        state, conn = self.state, self.conn
        state[1] = 0.0
        try:
            self._out.send(request)
        except (OSError, ValueError):
            return "crashed", None
        while True:
            deadline = state[1]
            if deadline:
                wait = deadline + grace_s - time.monotonic()
                if wait <= 0:
                    self.kill()
                    return "killed", int(state[0])  # read after the kill: it cannot move now
            else:  # between messages: look again soon, a hang can start at any moment
                wait = grace_s
            try:
                if conn.poll(wait):
                    return "ok", conn.recv()
            except (EOFError, OSError):
                pass
            else:
                if self.process.poll() is None:
                    continue
            self.kill()
            return "crashed", (int(state[0]) if state[1] else None)

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL and reap; the pipes and shared state stay readable until close()."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """Close the pipes (the worker exits on EOF); kill it if it does not go."""
        self.close_pipes()
        try:
            self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.kill()
        self.close()

    def close_pipes(self) -> None:
        for conn in (self._out, self.conn):
            if not conn.closed:
                conn.close()

    def close(self) -> None:
        self.close_pipes()
        if not self._map.closed:
            self.state.release()
            self._map.close()


class Pool:
    """Up to `size` workers shared by every thread of this process."""

    def __init__(self, size: int, backend: str = "quickjs"):
        self.size, self.backend = size, backend
        self._cond = threading.Condition()
        self._idle: list[Worker] = []
        self._count = 0
        self._started = 0
        self._closed = False
        self.pid = os.getpid()

    def run(self, kind: str, key, source: str, items: list, limits, lang: str = "JS") -> list[tuple]:
        """Run a batch; returns [(output, error, logs)] in the order of `items`."""
        results: list = [None] * len(items)
        pending = list(range(len(items)))
        timeouts_left = limits.max_timeouts_per_batch
        grace = max(0.05, limits.timeout_s * 0.2)
        affinity = (kind, None if key is None else key[0])
        lost = 0
        while pending:
            worker = self._checkout(affinity)
            request = ("run", kind, key, source, limits, [items[i] for i in pending], timeouts_left, lang)
            status, value = self._call(worker, request, grace)
            if status == "ok":
                self._checkin(worker, affinity, limits.context_cache)
                if len(pending) == len(items) and len(value) == len(items):  # the whole batch, in one run
                    return value
                for index, result in zip(pending, value, strict=True):
                    results[index] = result
                return results
            self._discard(worker)
            if value is None or not 0 <= value < len(pending):
                lost += 1
                if lost >= 3:
                    raise EngineError("converter workers keep dying before running a script")
                continue
            results[pending[value]] = (None, TIMEOUT if status == "killed" else CRASHED, ())
            timeouts_left -= 1
            del pending[value]
        return results

    def check(self, kind: str, source: str, limits, lang: str = "JS"):
        """Compile `source` in a fresh context; the ScriptError or None."""
        for _ in range(3):
            worker = self._checkout((kind, None))
            status, value = self._call(worker, ("check", kind, source, limits, lang), max(0.05, limits.timeout_s * 0.2))
            if status == "ok":
                self._checkin(worker, (kind, None), limits.context_cache)
                return value
            self._discard(worker)
            if value is not None:
                return ScriptError(TIMEOUT if status == "killed" else CRASHED)
        raise EngineError("converter workers keep dying before compiling a script")

    def _call(self, worker: Worker, request, grace: float):
        try:
            return worker.call(request, grace)
        except BaseException:
            # Unpicklable input, or the caller interrupted: the worker's state is unknown.
            self._discard(worker)
            raise

    def _checkout(self, affinity) -> Worker:
        with self._cond:
            while True:
                if self._closed:
                    raise EngineError("the converter engine was shut down")
                if self._idle:
                    worker = next((w for w in reversed(self._idle) if affinity in w.recent), self._idle[-1])
                    self._idle.remove(worker)
                    if worker.alive():
                        return worker
                    self._count -= 1
                    worker.kill()
                    worker.close()
                    continue
                if self._count < self.size:
                    self._count += 1
                    self._started += 1
                    number = self._started
                    break
                self._cond.wait()
        try:
            return Worker(self.backend, number)
        except BaseException:
            with self._cond:
                self._count -= 1
                self._cond.notify()
            raise

    def _checkin(self, worker: Worker, affinity, bound: int) -> None:
        worker.recent[affinity] = True
        worker.recent.move_to_end(affinity)
        while len(worker.recent) > bound:
            worker.recent.popitem(last=False)
        with self._cond:
            if not self._closed:
                self._idle.append(worker)
                self._cond.notify()
                return
            self._count -= 1
        worker.stop()

    def _discard(self, worker: Worker) -> None:
        worker.kill()
        worker.close()
        with self._cond:
            self._count -= 1
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._count -= len(idle)
            self._cond.notify_all()
        for worker in idle:
            worker.stop()

    def forget(self) -> None:
        """In a forked child: drop the parent's workers without touching them (no lock: another
        thread of the parent may have held it at the fork)."""
        self._closed = True
        for worker in self._idle:
            worker.close_pipes()
        self._idle = []

    def stats(self) -> dict:
        with self._cond:
            return {"size": self.size, "workers": self._count, "idle": len(self._idle), "started": self._started}
