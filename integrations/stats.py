"""Integration statistics and status (reference section 5).

Counting costs one upsert per integration per batch (:func:`add`), never a write per message:
the hourly IntegrationStats row gets ``messagesProcessed``, ``errorsOccurred``, the duplicates
dropped (integrations/dedup.py; not counted as processed) and the number of debug events asked
for (for the per-hour debug cap). :func:`persist` (a periodic job) turns finished hours into
STATS events, as ThingsBoard persists its counters hourly (plus our ``duplicates``); STATS events
never expire. :func:`stats_series` gives ``integrationInfos.stats``: messages per hour over the
last 24 hours, oldest first, the current hour last.
"""

from collections.abc import Iterable
from uuid import UUID

from django.db import connection, transaction

from converters.choices import EventEntityType, EventType
from converters.events import server_name, write_events
from converters.models import DebugEvent
from integrations.models import Integration, IntegrationStats
from tbproject.clock import now_ms
from tenants.usage import HOUR_MS, period_start, sql_uuid

__all__ = ["HOUR_MS", "SERIES_HOURS", "period_start", "add", "record_status", "stats_series",
           "stats_series_many", "persist"]

SERIES_HOURS = 24
#: Hourly rows kept after their STATS event is written (the series needs 24 hours).
KEEP_ROWS_MS = 2 * 24 * HOUR_MS


def add(integration_id, *, processed: int, errors: int, debug_events: int = 0, duplicates: int = 0,
        now: int | None = None) -> int:
    """Add a batch's counts to the current hour of ``integration_id``.

    Returns how many debug events had been asked for in this hour before this batch."""
    now = now_ms() if now is None else now
    table = connection.ops.quote_name(IntegrationStats._meta.db_table)
    counters = ("messages_processed", "errors_occurred", "debug_events", "duplicates")
    sums = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in counters)
    with connection.cursor() as cur:
        cur.execute(f"INSERT INTO {table} (integration_id, period_ts, {', '.join(counters)}, persisted) "
                    f"VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (integration_id, period_ts) DO UPDATE SET {sums} "
                    "RETURNING debug_events",
                    [sql_uuid(integration_id), period_start(now), processed, errors, debug_events, duplicates, False])
        total = cur.fetchone()[0]
    return total - debug_events


def record_status(integration_id, *, last_message_ts: int | None = None, error: str | None = None,
                  error_ts: int | None = None) -> None:
    """Write the status columns in one UPDATE that never moves last_message_ts backwards.

    An UPDATE, not ``save()``: status writes must not bump the integration's version. In SQL
    rather than through the ORM: the pipeline runs it once per integration per batch, and
    compiling the ORM's expression cost more than the statement."""
    sets, params = [], []
    if last_message_ts is not None:
        greatest = "GREATEST" if connection.vendor == "postgresql" else "MAX"  # SQLite's scalar max
        sets.append(f"last_message_ts = {greatest}(COALESCE(last_message_ts, 0), %s)")
        params.append(last_message_ts)
    if error:
        sets.append("last_error = %s, last_error_ts = %s")
        params += [error, error_ts if error_ts is not None else now_ms()]
    if sets:
        meta = Integration._meta
        table, pk = connection.ops.quote_name(meta.db_table), connection.ops.quote_name(meta.pk.column)
        with connection.cursor() as cur:
            cur.execute(f"UPDATE {table} SET {', '.join(sets)} WHERE {pk} = %s", [*params, sql_uuid(integration_id)])


def stats_series(integration, *, hours: int = SERIES_HOURS, now: int | None = None) -> list[int]:
    """Messages processed per hour over the last ``hours`` hours, oldest first."""
    pk = getattr(integration, "pk", integration)
    return stats_series_many([pk], hours=hours, now=now)[pk if isinstance(pk, UUID) else UUID(str(pk))]


def stats_series_many(integration_ids: Iterable, *, hours: int = SERIES_HOURS,
                      now: int | None = None) -> dict[UUID, list[int]]:
    """:func:`stats_series` of many integrations in one query (for a page of integrationInfos)."""
    ids = [i if isinstance(i, UUID) else UUID(str(i)) for i in integration_ids]
    current = period_start(now_ms() if now is None else now)
    first = current - (hours - 1) * HOUR_MS
    series = {i: [0] * hours for i in ids}
    rows = IntegrationStats.objects.filter(integration_id__in=ids, period_ts__gte=first, period_ts__lte=current)
    for integration_id, period, count in rows.values_list("integration_id", "period_ts", "messages_processed"):
        series[integration_id][(period - first) // HOUR_MS] = count
    return series


def persist(now: int | None = None) -> int:
    """Write a STATS event for every finished hour not yet written; drop rows past KEEP_ROWS_MS.

    Returns how many STATS events were written."""
    now = now_ms() if now is None else now
    current = period_start(now)
    pending = list(IntegrationStats.objects.filter(persisted=False, period_ts__lt=current)
                   .select_related("integration").order_by("period_ts")[:5000])
    events = [
        DebugEvent(tenant_id=row.integration.tenant_id, entity_type=EventEntityType.INTEGRATION,
                   entity_id=row.integration_id, event_type=EventType.STATS, created_time=row.period_ts + HOUR_MS,
                   server=server_name(), is_error=False,
                   body={"server": server_name(), "messagesProcessed": row.messages_processed,
                         "errorsOccurred": row.errors_occurred, "duplicates": row.duplicates})
        for row in pending
    ]
    with transaction.atomic():  # an hour is written once, or not at all
        write_events(events)
        IntegrationStats.objects.filter(pk__in=[row.pk for row in pending]).update(persisted=True)
    IntegrationStats.objects.filter(persisted=True, period_ts__lt=current - KEEP_ROWS_MS).delete()
    return len(events)
