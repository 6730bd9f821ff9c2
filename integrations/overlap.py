"""The worker's overlap of consecutive pipeline batches (issue 18 item 3).

    ahead = overlap.begin(uplinks)   # pipeline.begin in this process's helper thread
    begun = ahead.result()           # raises what begin raised
    overlap.abandon(ahead)           # not to be completed: wait for it, release its claims

A worker draining a backlog runs pipeline batches one after another (integrations/tasks.py). Each
batch is a serial chain: this process converts (waiting on the converter engine's process), then
stores (waiting on PostgreSQL). While batch i is stored in the task's thread, batch i+1 is begun
(screened for duplicates and converted: pipeline.begin) in one helper thread, so that the engine
and PostgreSQL work at once. Only ever one batch is begun ahead, and only the task's thread
completes (stores) batches, in order: two batches of one task never write at once.

What the helper thread touches (pipeline.begin): config_cache (a ProcessCache: reads without
lock, writes under its lock), dedup's Redis client (thread safe; a race at its lazy creation makes
a spare client), the rate limiter and tenant limits (locked), the converter engine's pool (shared
by every thread: converters/engine/pool.py), converter health rows (its own upsert), and a Django
connection of its own (connections are per thread): closed, as Celery does for the task's thread,
when it is too old at a task's first batch or unusable after an error.

Only on PostgreSQL outside a transaction: a test's transaction would be invisible to the helper's
connection, and SQLite (embedded mode, eager) keeps the serial path. PIPELINE_OVERLAP=auto (the
default) overlaps only in a worker with fewer pool processes than CPUs: with as many, the pool
processes already keep the cores busy, and a helper thread each added CPU per message (GIL hand-overs)
and no throughput (docs/performance.md, 2026-12-06).
"""

import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor

from django.conf import settings
from django.db import close_old_connections, connection, connections

from integrations import pipeline

__all__ = ["available", "begin", "abandon", "shutdown"]

#: Where a worker's main process notes its --concurrency for its forked pool processes
#: (tbproject/celery.py, at worker_init).
POOL_PROCESSES_ENV = "TB_WORKER_POOL_PROCESSES"

_executor: tuple[int, ThreadPoolExecutor] | None = None
_lock = threading.Lock()


def available() -> bool:
    """Whether batches may be begun in the helper thread (PIPELINE_OVERLAP, PostgreSQL, no transaction)."""
    wanted = settings.PIPELINE_OVERLAP
    if wanted == "auto":
        wanted = pool_processes() < (os.cpu_count() or 1)
    return wanted and connection.vendor == "postgresql" and not connection.in_atomic_block


def pool_processes() -> int:
    """The worker's pool processes, as its main process noted them before forking (tbproject/celery.py); 1 elsewhere."""
    try:
        return max(1, int(os.environ.get(POOL_PROCESSES_ENV, "1")))
    except ValueError:
        return 1


def begin(uplinks: list, *, first: bool = False) -> Future:
    """pipeline.begin(uplinks) in the helper thread; ``first``: the task's first batch."""
    return _helper().submit(_begin, uplinks, first)


def abandon(ahead: Future | None) -> None:
    """Wait for a batch begun ahead that will not be completed and release its claims (a begin
    that failed released them itself)."""
    if ahead is None:
        return
    try:
        begun = ahead.result()
    except BaseException:  # it released them itself; the caller reports its own error
        return
    pipeline.abandon(begun)


def shutdown() -> None:
    """Close the helper thread's connection and stop it (tests: the test database is dropped after)."""
    global _executor
    with _lock:
        if _executor is not None and _executor[0] == os.getpid():
            _executor[1].submit(connections.close_all).result()
            _executor[1].shutdown()
        _executor = None


def _begin(uplinks: list, first: bool) -> pipeline.Begun:
    if first:
        close_old_connections()  # too old (CONN_MAX_AGE) or broken: as Celery does for the task's thread
    try:
        return pipeline.begin(uplinks)
    except BaseException:
        close_old_connections()  # a connection the error broke: the next batch gets a new one
        raise


def _helper() -> ThreadPoolExecutor:
    """This process's helper thread (made again in a forked pool process: threads do not survive a fork)."""
    global _executor
    with _lock:
        if _executor is None or _executor[0] != os.getpid():
            _executor = (os.getpid(), ThreadPoolExecutor(max_workers=1, thread_name_prefix="pipeline-ahead"))
        return _executor[1]
