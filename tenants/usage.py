"""Usage statistics per tenant per hour (TenantUsage): what the tenant's integrations did.

The uplink pipeline adds a batch's counts with :func:`add`, one upsert per tenant per batch,
never a write per message. Counters, with the ThingsBoard ApiUsageState keys they answer to
(ThingsBoard keeps the same counts as ``<key>Hourly`` time series of the tenant's usage state):

- ``messages``: uplink messages processed (``transportMsgCount``);
- ``data_points``: telemetry values and attributes stored (``storageDataPointsCount``);
- ``js_executions`` / ``tbel_executions``: uplink converter runs by language
  (``jsExecutionCount`` / ``tbelExecutionCount``);
- ``debug_events``: debug events recorded (ours: ``debugEventsCount``).
"""

from uuid import UUID

from django.db import connection
from django.db.models import Sum

from tbproject.clock import now_ms
from tenants.models import TenantUsage

__all__ = ["HOUR_MS", "COUNTERS", "KEYS", "add", "hourly", "totals", "period_start", "sql_uuid"]

HOUR_MS = 3_600_000
COUNTERS = ("messages", "data_points", "js_executions", "tbel_executions", "debug_events")
#: counter -> its key in the API (ThingsBoard's ApiUsageRecordKey names, and ours for debug events)
KEYS = {"messages": "transportMsgCount", "data_points": "storageDataPointsCount",
        "js_executions": "jsExecutionCount", "tbel_executions": "tbelExecutionCount",
        "debug_events": "debugEventsCount"}


def period_start(ts: int) -> int:
    return ts - ts % HOUR_MS


def sql_uuid(value):
    """A UUID as a parameter of raw SQL: PostgreSQL takes it as it is, SQLite stores Django's hex."""
    value = value if isinstance(value, UUID) else UUID(str(value))
    return value if connection.vendor == "postgresql" else value.hex


def add(tenant_id, *, now: int | None = None, **counts: int) -> None:
    """Add ``counts`` (names from COUNTERS) to the tenant's current hour; nothing when all are 0."""
    unknown = set(counts) - set(COUNTERS)
    if unknown:
        raise ValueError(f"unknown usage counters: {sorted(unknown)}")
    if not any(counts.values()):
        return
    now = now_ms() if now is None else now
    table = connection.ops.quote_name(TenantUsage._meta.db_table)
    sums = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in COUNTERS)
    values = [counts.get(c, 0) for c in COUNTERS]
    with connection.cursor() as cur:
        cur.execute(f"INSERT INTO {table} (tenant_id, period_ts, {', '.join(COUNTERS)}) "
                    f"VALUES (%s, %s, {', '.join(['%s'] * len(COUNTERS))}) "
                    f"ON CONFLICT (tenant_id, period_ts) DO UPDATE SET {sums}",
                    [sql_uuid(tenant_id), period_start(now), *values])


def hourly(tenant_id, start_ts: int, end_ts: int) -> list[dict]:
    """The tenant's hours that started in [start_ts, end_ts), oldest first: {"ts", counter: n, ...}."""
    rows = (TenantUsage.objects.filter(tenant_id=tenant_id, period_ts__gte=period_start(start_ts),
                                       period_ts__lt=end_ts)
            .order_by("period_ts").values("period_ts", *COUNTERS))
    return [{"ts": row.pop("period_ts"), **row} for row in rows]


def totals(tenant_id, start_ts: int, end_ts: int | None = None) -> dict[str, int]:
    """Each counter summed over the hours from ``start_ts`` (to ``end_ts``)."""
    rows = TenantUsage.objects.filter(tenant_id=tenant_id, period_ts__gte=period_start(start_ts))
    if end_ts is not None:
        rows = rows.filter(period_ts__lt=end_ts)
    sums = rows.aggregate(**{c: Sum(c) for c in COUNTERS})
    return {c: int(sums[c] or 0) for c in COUNTERS}
