"""The telemetry writer's parallel path: history and latest values on two connections at once.

    write(rows)     # called by writer.write_points on PostgreSQL outside a caller's transaction
    close_pool()    # tests: close the helper threads' connections before the database goes

The history COPY runs on the caller's (Django) connection while a helper thread stages and
applies the latest values on a connection of its own, so the batch takes the longer of the two
halves instead of their sum: PostgreSQL runs them on two backends. The latest-values transaction
commits only after the history one did (it waits for the verdict while holding its row locks),
so a latest value never points at a point that was not stored; a reader may see the new history
a moment before the new latest values, as with any two statements.

The helper threads keep plain psycopg connections, not Django's pooled ones: a caller that holds
a pooled connection while waiting for its helper must never wait for the pool too (8 concurrent
writers on a pool of 10 would deadlock until the pool's timeout).
"""

import os
import queue
import threading
from concurrent.futures import ThreadPoolExecutor

import psycopg
import psycopg.errors
from django.db import connection

from devices.telemetry import writer

__all__ = ["write", "close_pool"]

THREADS = 4

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_local = threading.local()


class _Abandoned(Exception):
    """The history half failed: roll the latest half back."""


def _params() -> dict:
    """Connection parameters of the caller's database (the test database during tests)."""
    s = connection.settings_dict
    params = {"dbname": s["NAME"], "user": s.get("USER"), "password": s.get("PASSWORD"), "host": s.get("HOST"),
              "port": s.get("PORT")}
    options = {k: v for k, v in (s.get("OPTIONS") or {}).items() if k not in ("pool", "server_side_binding")}
    return {k: v for k, v in {**params, **options}.items() if v not in (None, "")}


def _own_connection(params: dict) -> psycopg.Connection:
    conn = getattr(_local, "conn", None)
    if conn is not None and (conn.closed or conn.broken or getattr(_local, "params", None) != params):
        conn.close()
        conn = None
    if conn is None:
        conn = psycopg.connect(autocommit=True, **params)
        try:
            # the session's staging table, committed here once: every batch then saves the round
            # trip (and the "already exists" notice) of CREATE ... IF NOT EXISTS
            conn.execute(writer.STAGING_TABLE)
            conn.execute(writer.IN_ORDER)
        except BaseException:
            conn.close()
            raise
        _local.conn = conn
        _local.params = params
    return conn


def write(rows: list[tuple]) -> None:
    verdict: queue.SimpleQueue = queue.SimpleQueue()
    latest = _thread_pool().submit(_latest_after_verdict, writer._latest_rows(rows), verdict, _params())
    stored = False
    try:
        writer._retrying(lambda: writer._insert_points_alone(rows))
        stored = True
    finally:
        verdict.put(stored)
        latest.result()


def _latest_after_verdict(rows: list[tuple], verdict: queue.SimpleQueue, params: dict) -> None:
    waited = False

    def write_latest():
        nonlocal waited
        conn = _own_connection(params)
        for staged in (True, False):
            try:
                with conn.transaction(), conn.cursor() as cur:
                    # ON COMMIT DELETE ROWS empties the staging table; a session that had to make
                    # it again may be another server session, without this one's IN_ORDER
                    writer._upsert_latest(cur, rows, truncate=False, staged=staged, ordered=staged)
                    waited = True
                    if not verdict.get():
                        raise _Abandoned
                return
            except psycopg.errors.UndefinedTable:
                # the session lost its staging table (DISCARD TEMP, a pooler handing out another
                # server session): make it inside the transaction, as every batch once did
                if not staged or waited:
                    raise
    try:
        writer._retrying(write_latest)
    except _Abandoned:
        return
    except BaseException:
        if not waited:
            verdict.get()  # let the history half finish before its caller sees this error
        raise


def _thread_pool() -> ThreadPoolExecutor:
    # One thread per concurrent caller at most (queue sender threads, tests); created after a
    # fork, never inherited across one.
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="latest-values")
        return _pool


def _close_own() -> None:
    conn = getattr(_local, "conn", None)
    if conn is not None:
        conn.close()
        _local.conn = None


def close_pool() -> None:
    """Close the helper threads' connections and stop them."""
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is None:
        return
    threads = len(pool._threads)
    if threads:
        # A barrier as wide as the pool: each thread holds one job until all have one, so every
        # thread closes its own (thread-local) connection.
        barrier = threading.Barrier(threads)
        jobs = [pool.submit(lambda: (barrier.wait(5), _close_own())) for _ in range(threads)]
        for job in jobs:
            job.result()
    pool.shutdown(wait=True)


def _forget_pool() -> None:
    global _pool
    _pool = None


os.register_at_fork(after_in_child=_forget_pool)
