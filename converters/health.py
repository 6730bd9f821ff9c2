"""Converter health: executions, errors and execution time per converter per hour.

Where the engine runs a batch for a converter (the uplink pipeline, downlink encoding), the
caller times the batch and hands the outcome to a :class:`Meter`; :meth:`Meter.flush` writes one
upsert per converter per batch, never a row per message. Time is measured per batch and counted
per message as the batch's mean (``elapsed / messages``) in a fixed-bucket histogram
(``HEALTH_BUCKETS_MS``); p50/p99 are read from the histogram as the upper bound of the bucket
that holds them (``null`` beyond the last bound: "longer than 1000 ms").

    meter = Meter()
    started = time.perf_counter()
    results = engine.decode(...)
    meter.add(converter.pk, results, time.perf_counter() - started)
    meter.flush()
"""

import bisect
from uuid import UUID

from django.db import connection

from converters.models import ConverterHealth
from converters.models_history import HEALTH_BUCKETS_MS
from tbproject.clock import now_ms

__all__ = ["HOUR_MS", "KEEP_HOURS", "Meter", "bucket_of", "percentile", "series", "summary", "prune"]

HOUR_MS = 3_600_000
#: hours of rows kept (the API reads at most a week)
KEEP_HOURS = 24 * 7 + 1
BUCKETS = len(HEALTH_BUCKETS_MS) + 1


def bucket_of(ms: float) -> int:
    """The index of the histogram bucket that holds a time of ``ms``."""
    return bisect.bisect_left(HEALTH_BUCKETS_MS, ms)


def percentile(histogram: list[int], q: float) -> float | None:
    """The upper bound (ms) of the bucket holding the ``q`` quantile; None when it is the open last bucket
    or there is nothing counted."""
    total = sum(histogram)
    if not total:
        return None
    rank, seen = q * total, 0
    for index, count in enumerate(histogram):
        seen += count
        if seen >= rank and count:
            return HEALTH_BUCKETS_MS[index] if index < len(HEALTH_BUCKETS_MS) else None
    return None


def _pk(value):
    value = value if isinstance(value, UUID) else UUID(str(value))
    return value if connection.vendor == "postgresql" else value.hex


class Meter:
    """Collects one process's batch outcomes per converter; written by :meth:`flush`."""

    def __init__(self):
        self.rows: dict = {}

    def add(self, converter_id, results, elapsed_s: float) -> None:
        """``results``: the engine's Results of one batch (errors are those with ``error`` set)."""
        count = len(results)
        if not count or converter_id is None:
            return
        errors = sum(1 for r in results if r.error is not None)
        self.add_counts(converter_id, count, errors, elapsed_s)

    def add_counts(self, converter_id, count: int, errors: int, elapsed_s: float) -> None:
        row = self.rows.setdefault(str(converter_id), [0, 0, 0, [0] * BUCKETS])
        row[0] += count
        row[1] += errors
        row[2] += int(elapsed_s * 1_000_000)
        row[3][bucket_of(elapsed_s * 1000 / count)] += count

    def flush(self, now: int | None = None) -> int:
        """One upsert per converter into the current hour's row; returns how many rows."""
        rows, self.rows = self.rows, {}
        if not rows:
            return 0
        period = (now_ms() if now is None else now) // HOUR_MS * HOUR_MS
        table = connection.ops.quote_name(ConverterHealth._meta.db_table)
        counters = ["executions", "errors", "total_us", *(f"b{i}" for i in range(BUCKETS))]
        sums = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in counters)
        sql = (f"INSERT INTO {table} (converter_id, period_ts, {', '.join(counters)}) "
               f"VALUES ({', '.join(['%s'] * (len(counters) + 2))}) "
               f"ON CONFLICT (converter_id, period_ts) DO UPDATE SET {sums}")
        params = [[_pk(key), period, count, errors, total_us, *histogram]
                  for key, (count, errors, total_us, histogram) in sorted(rows.items())]
        with connection.cursor() as cur:
            if len(params) == 1:  # the usual batch, of one converter: executemany's pipeline costs more
                cur.execute(sql, params[0])
            else:
                cur.executemany(sql, params)
        return len(params)


def _row_json(ts: int, executions: int, errors: int, total_us: int, histogram: list[int]) -> dict:
    return {"ts": ts, "executions": executions, "errors": errors,
            "errorRate": round(errors / executions, 4) if executions else 0.0,
            "meanMs": round(total_us / executions / 1000, 3) if executions else None,
            "p50Ms": percentile(histogram, 0.5), "p99Ms": percentile(histogram, 0.99), "histogram": histogram}


def series(converter, *, hours: int = 24, now: int | None = None) -> dict:
    """``{hours: [per hour, oldest first, the current hour last], total: {...}, bucketsMs}``."""
    current = (now_ms() if now is None else now) // HOUR_MS * HOUR_MS
    first = current - (hours - 1) * HOUR_MS
    found = {row.period_ts: row for row in ConverterHealth.objects.filter(
        converter_id=converter.pk, period_ts__gte=first, period_ts__lte=current)}
    per_hour, total = [], [0, 0, 0, [0] * BUCKETS]
    for index in range(hours):
        ts = first + index * HOUR_MS
        row = found.get(ts)
        values = (row.executions, row.errors, row.total_us, row.histogram) if row else (0, 0, 0, [0] * BUCKETS)
        per_hour.append(_row_json(ts, *values))
        for i in range(3):
            total[i] += values[i]
        total[3] = [a + b for a, b in zip(total[3], values[3], strict=True)]
    return {"converterId": {"entityType": "CONVERTER", "id": str(converter.pk)}, "hours": per_hour,
            "total": _row_json(first, *total), "bucketsMs": list(HEALTH_BUCKETS_MS)}


def summary(converter, *, hours: int = 24, now: int | None = None) -> dict:
    """The window's totals only (for lists)."""
    return series(converter, hours=hours, now=now)["total"]


def prune(now: int | None = None) -> int:
    """Delete hourly rows older than KEEP_HOURS (hourly job converters.tasks.prune_converter_health)."""
    cutoff = (now_ms() if now is None else now) // HOUR_MS * HOUR_MS - (KEEP_HOURS - 1) * HOUR_MS
    return ConverterHealth.objects.filter(period_ts__lt=cutoff).delete()[0]
