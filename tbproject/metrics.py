"""Counters and histograms of every process, summed in Redis for one ``/metrics`` answer.

The processes that count (web and ``runintegrations`` accept uplinks, workers store them and run
converters, listener hosts send downlinks) are separate processes, often on separate hosts or
containers, and the web process answers the scrape. So each process adds to plain dicts in memory
(no I/O, a lock held for a few dict updates: :func:`inc`, :func:`observe`), and a daemon thread
adds what accumulated to one Redis hash every ``FLUSH_SECONDS`` (one pipelined round trip);
:func:`snapshot` reads the hash back. Without REDIS_URL (embedded mode) every count is made in
the one process that also answers, and :func:`snapshot` reads the dicts.

A process killed with SIGKILL loses at most its last ``FLUSH_SECONDS`` of counts; a clean exit
flushes (atexit). Counters only grow, so Redis keeps totals since it was last emptied, which
Prometheus reads as a counter reset.

Fields of the hash: ``name|label=value,...`` (counters, histogram ``_bucket`` with ``le``,
``_sum`` and ``_count``).
"""

import atexit
import bisect
import logging
import os
import threading

from tbproject import redis_client
from tbproject.conf import setting

__all__ = ["KEY", "FLUSH_SECONDS", "BUCKETS", "inc", "inc_many", "observe", "flush", "snapshot", "reset_local",
           "forget", "parse_field"]

log = logging.getLogger(__name__)

KEY = "tb:metrics"
FLUSH_SECONDS = 1.0
#: Histogram bucket upper bounds, seconds (a converter run per message: 50 us to 0.5 s limit).
BUCKETS = (0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)

_lock = threading.Lock()
_pending: dict[str, float] = {}  # not yet flushed (with Redis), or every count (embedded)
_flusher: tuple[int, threading.Thread] | None = None  # (pid, thread)


def _field(name: str, labels: dict) -> str:
    return name + "|" + ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def parse_field(field: str) -> tuple[str, dict[str, str]]:
    name, _, rest = field.partition("|")
    return name, dict(pair.split("=", 1) for pair in rest.split(",") if pair)


def inc(name: str, amount: float = 1, **labels) -> None:
    """Add ``amount`` to the counter ``name`` with ``labels`` (label values must not hold ``,|=``).
    Zero is added too: the series then exists at 0, which Prometheus's rate() needs."""
    key = _field(name, labels)
    with _lock:
        _pending[key] = _pending.get(key, 0) + amount
    _ensure_flusher()


def inc_many(name: str, label: str, counts: dict) -> None:
    """:func:`inc` for many values of one label at once: ``{value: amount}``."""
    with _lock:
        for value, amount in counts.items():
            if amount:
                key = f"{name}|{label}={value}"
                _pending[key] = _pending.get(key, 0) + amount
    _ensure_flusher()


def observe(name: str, value: float, count: int = 1, **labels) -> None:
    """Record ``count`` observations of ``value`` seconds in the histogram ``name``."""
    if count <= 0:
        return
    suffix = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
    sep = "," if suffix else ""
    index = bisect.bisect_left(BUCKETS, value)
    le = str(BUCKETS[index]) if index < len(BUCKETS) else "+Inf"
    with _lock:
        for key, amount in ((f"{name}_bucket|{suffix}{sep}le={le}", count), (f"{name}_sum|{suffix}", value * count),
                            (f"{name}_count|{suffix}", count)):
            _pending[key] = _pending.get(key, 0) + amount
    _ensure_flusher()


def _redis():
    """This process's client of REDIS_URL, or None in embedded mode."""
    return redis_client.shared(socket_timeout=2)


def flush() -> bool:
    """Add what accumulated to Redis; False if Redis refused (the counts stay for the next try)."""
    client = _redis()
    if client is None:
        return True
    with _lock:
        taken = dict(_pending)
        _pending.clear()
    if not taken:
        return True
    try:
        pipe = client.pipeline(transaction=False)
        for field, amount in taken.items():
            if float(amount).is_integer():
                pipe.hincrby(KEY, field, int(amount))
            else:
                pipe.hincrbyfloat(KEY, field, amount)
        pipe.execute()
        return True
    except Exception as exc:  # Redis down: keep the counts, try again later
        log.warning("metrics not flushed to Redis: %s", exc)
        with _lock:
            for field, amount in taken.items():
                _pending[field] = _pending.get(field, 0) + amount
        return False


def snapshot() -> dict[str, float]:
    """Every field with its total: of all processes (Redis), or of this one (embedded).
    Raises the Redis client's error when Redis is configured but unreachable."""
    client = _redis()
    if client is None:
        with _lock:
            return dict(_pending)
    flush()
    return {k.decode(): float(v) for k, v in client.hgetall(KEY).items()}


def forget(fields) -> None:
    """Drop ``fields`` from this process's counts (series of deleted integrations, embedded)."""
    with _lock:
        for field in fields:
            _pending.pop(field, None)


def reset_local() -> None:
    """Forget this process's unflushed counts (tests)."""
    with _lock:
        _pending.clear()


def _ensure_flusher() -> None:
    global _flusher
    if not setting("REDIS_URL", "") or (_flusher is not None and _flusher[0] == os.getpid()):
        return
    with _lock:
        if _flusher is not None and _flusher[0] == os.getpid():
            return
        thread = threading.Thread(target=_flush_forever, name="metrics-flush", daemon=True)
        _flusher = (os.getpid(), thread)
    thread.start()


def _flush_forever() -> None:
    stop = threading.Event()
    while not stop.wait(FLUSH_SECONDS):
        flush()


def _after_fork_in_child() -> None:
    # A forked child (Celery's prefork pool) starts from zero: the parent flushes its own counts.
    global _lock
    _lock = threading.Lock()
    _pending.clear()


os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(lambda: setting("REDIS_URL", "") and flush())
