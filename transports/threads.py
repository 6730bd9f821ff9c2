"""What the device transports (transports/mqtt/, transports/coap/) share to run: the pool of threads their
database work runs in, and the daemon thread with its own event loop that hosts a server in ``manage.py serve``
and in tests.

    pool = DbThreads(size, "device-coap-db")
    await pool.run(fn, *args)              # fn(*args) in one of the threads (stale connections closed around it)
    pool.close()                           # each thread closes its own connection, then the pool stops

    class TransportThread(LoopThread):     # server: start() (binds), stop(); NOT_STARTED: the errors of start()
        ...
"""

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress

from django.db import close_old_connections, connections

__all__ = ["DbThreads", "LoopThread"]

log = logging.getLogger(__name__)


def _in_thread(fn, args):
    close_old_connections()
    try:
        return fn(*args)
    finally:
        close_old_connections()


class DbThreads:
    """A pool of ``size`` threads for a transport's database work, never done in its event loop."""

    def __init__(self, size: int, name: str):
        self._executor = ThreadPoolExecutor(size, thread_name_prefix=name)

    async def run(self, fn, *args):
        """``fn(*args)`` in one of the threads."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, _in_thread, fn, args)

    def close(self) -> None:
        """Each thread closes its own (thread-local) connection, then the pool stops: a barrier as wide as the
        pool holds every thread on one job until all have one (devices/telemetry/parallel.py's way)."""
        threads = len(self._executor._threads)
        if threads:
            barrier = threading.Barrier(threads)

            def close_own() -> None:
                with suppress(threading.BrokenBarrierError):
                    barrier.wait(5)
                connections.close_all()

            for job in [self._executor.submit(close_own) for _ in range(threads)]:
                job.result()
        self._executor.shutdown(wait=True, cancel_futures=True)


class LoopThread:
    """``self.server`` (set by the subclass before calling this ``__init__``) on its own event loop in a daemon
    thread. :meth:`start` returns once the server is bound; one of :attr:`NOT_STARTED` raised by its start() is
    handed to :meth:`not_started` (a warning: the rest of the process goes on without the transport) and left
    in :attr:`error`."""

    NOT_STARTED: tuple = (OSError,)

    def __init__(self, name: str):
        self.error: Exception | None = None
        self._loop = asyncio.new_event_loop()
        self._bound = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    @property
    def port(self) -> int:
        return self.server.port

    def not_started(self, error: Exception) -> None:
        log.warning("%s NOT started: %s", self._thread.name, error)

    def start(self, timeout: float = 10.0):
        self._thread.start()
        self._bound.wait(timeout)
        return self

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self.server.start())
        except self.NOT_STARTED as e:
            self.error = e
            self.not_started(e)
            self._loop.close()
            self._bound.set()
            return
        self._bound.set()
        try:
            self._loop.run_forever()
        finally:
            self._loop.run_until_complete(self.server.stop())
            pending = asyncio.all_tasks(self._loop)
            for task in pending:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self._loop.close()

    def call(self, coroutine, timeout: float = 30.0):
        """Run ``coroutine`` on the transport's loop from another thread (tests)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        if self._thread.is_alive() and self.error is None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)
