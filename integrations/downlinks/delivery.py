"""Delivery bookkeeping: who sends which PENDING downlink, what came of it, retries, the sweep.

    rows = claim(integration_ids, holder)          # a listener host: PENDING -> SENDING, oldest first
    release(rows)                                  # ... not sent after all: back to PENDING
    finish(integrations, [(row, error, permanent)])   # DELIVERED, retried with back-off, or FAILED
    row = take(integration_id, device_names)       # HTTP next-uplink reply: newest PENDING -> DELIVERED
    rows = newest_pending(integration_id)          # ... on a remote runner: what it is offered
    row = take_offered(integration, pk)            # ... the one it answered with -> DELIVERED
    sweep()                                        # periodic: stale claims back to the queue, TTL

Claims are conditional UPDATEs with a token (STYLE.md rule 6), so a downlink is sent by one
host at a time; a host that dies while sending leaves SENDING rows that :func:`sweep` returns to
PENDING (at-least-once: the device may see it twice, never zero times).
"""

import uuid

from django.conf import settings
from django.db import connection
from django.db.models import Q

from converters.events import write_events
from integrations import events, stats
from integrations.messages import Downlink
from integrations.models import DownlinkStatus, OutgoingDownlink
from integrations.models_downlinks import FINAL
from tbproject import metrics
from tbproject.clock import now_ms

__all__ = ["claim", "release", "finish", "take", "take_offered", "newest_pending", "sweep", "as_message", "backoff_ms",
           "STALE_MS"]

S = DownlinkStatus
#: A claim older than this is taken to belong to a dead worker or host.
STALE_MS = 120_000
HOST_BATCH = 200


def as_message(row: OutgoingDownlink) -> Downlink:
    return Downlink(integration_id=str(row.integration_id), device_name=row.device_name,
                    payload=bytes(row.payload or b""), content_type=row.content_type or "JSON",
                    metadata=dict(row.metadata or {}), route=dict(row.route or {}),
                    originator_id=str(row.originator_id or ""), ts=row.created_ts)


def backoff_ms(attempts: int) -> int:
    """Delay before attempt ``attempts + 1``: DOWNLINK_RETRY_SECONDS, doubling, at most 5 minutes."""
    first = float(settings.DOWNLINK_RETRY_SECONDS)
    return int(min(300.0, first * 2 ** max(0, attempts - 1)) * 1000)


def claim(integration_ids, holder: str, limit: int = HOST_BATCH) -> list[OutgoingDownlink]:
    """Due PENDING downlinks of ``integration_ids`` (hosted here), now SENDING under our claim."""
    ids = list(integration_ids)
    if not ids:
        return []
    now = now_ms()
    token = f"send:{holder}:{uuid.uuid4().hex[:8]}"[:128]
    if connection.vendor == "postgresql":
        # One statement instead of three (select, update, read back), and no parameter per row:
        # the claim was most of a listener host's database time per downlink.
        rows = list(OutgoingDownlink.objects.raw(_CLAIM, [S.SENDING, token, now, [str(i) for i in ids], S.PENDING,
                                                          now, limit]))
        rows.sort(key=lambda row: (row.created_ts, row.pk))  # uuid's order in PostgreSQL is its bytes', as in Python
        return rows
    due = list(OutgoingDownlink.objects.filter(integration_id__in=ids, status=S.PENDING, next_attempt_ts__lte=now)
               .order_by("created_ts", "id").values_list("pk", flat=True)[:limit])
    if not due:
        return []
    OutgoingDownlink.objects.filter(pk__in=due, status=S.PENDING).update(status=S.SENDING, claim=token, claimed_ts=now)
    return list(OutgoingDownlink.objects.filter(claim=token, status=S.SENDING).order_by("created_ts", "id"))


_TABLE = OutgoingDownlink._meta.db_table
_CLAIM = (f"UPDATE {_TABLE} SET status = %s, claim = %s, claimed_ts = %s WHERE id IN ("
          f"SELECT id FROM {_TABLE} WHERE integration_id = ANY(%s::uuid[]) AND status = %s AND next_attempt_ts <= %s "
          "ORDER BY created_ts, id LIMIT %s FOR UPDATE SKIP LOCKED) RETURNING *")
_DELIVERED = (f"UPDATE {_TABLE} SET status = %s, delivered_ts = %s, claim = '', error = '', attempts = attempts + 1 "
              "WHERE id = ANY(%s::uuid[]) AND status = %s")


def release(rows: list[OutgoingDownlink]) -> int:
    """Give claimed downlinks that were not sent back to the queue (no attempt counted)."""
    return OutgoingDownlink.objects.filter(pk__in=[r.pk for r in rows], status=S.SENDING).update(
        status=S.PENDING, claim="")


def finish(integrations: dict, outcomes: list[tuple[OutgoingDownlink, str | None, bool]]) -> None:
    """Record what sending did: ``(row, error or None, permanent)``; ``integrations`` by id.

    Success is DELIVERED; a failure is retried after :func:`backoff_ms` until DOWNLINK_MAX_ATTEMPTS,
    or at once FAILED when ``permanent``. Each attempt is an integration debug event (type
    Downlink) under the integration's debug policy and hourly cap."""
    now = now_ms()
    delivered = [row for row, error, _ in outcomes if error is None]
    if delivered and connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # one array parameter, not one per row
            cursor.execute(_DELIVERED, [S.DELIVERED, now, [str(row.pk) for row in delivered], S.SENDING])
    elif delivered:
        OutgoingDownlink.objects.filter(pk__in=[row.pk for row in delivered], status=S.SENDING).update(
            status=S.DELIVERED, delivered_ts=now, claim="", error="", attempts=_plus_one())
    counts: dict = {}
    for row in delivered:
        counts[row.integration_id] = counts.get(row.integration_id, 0) + 1
    for integration_id, count in counts.items():
        metrics.inc("tb_downlinks_total", count, integration=integration_id, outcome="delivered")
    for row, error, permanent in outcomes:
        if error is None:
            continue
        attempts = row.attempts + 1
        final = permanent or attempts >= settings.DOWNLINK_MAX_ATTEMPTS
        metrics.inc("tb_downlinks_total", integration=row.integration_id, outcome="failed" if final else "retry")
        text = error if not final or permanent else f"{error} (gave up after {attempts} attempts)"
        OutgoingDownlink.objects.filter(pk=row.pk, status=S.SENDING).update(
            status=S.FAILED if final else S.PENDING, attempts=attempts, error=text[:4096], claim="",
            next_attempt_ts=now if final else now + backoff_ms(attempts))
    _events(integrations, outcomes, now)


def _plus_one():
    from django.db.models import F

    return F("attempts") + 1


def _events(integrations: dict, outcomes, now: int) -> None:
    from integrations.downlinks.encoder import downlink_event

    grouped: dict = {}
    for row, error, _ in outcomes:
        integration = integrations.get(row.integration_id) or row.integration
        wanted, failed = grouped.setdefault(integration.pk, (integration, [], [0]))[1:]
        if error:
            failed[0] += 1
        event = downlink_event(integration, bytes(row.payload or b""), row.content_type, error=error,
                               metadata=row.metadata, now=now)
        if event is not None:
            wanted.append(event)
    to_write = []
    for integration_id, (integration, wanted, failed) in grouped.items():
        already = stats.add(integration_id, processed=0, errors=failed[0], debug_events=len(wanted), now=now)
        to_write.extend(events.capped(integration, wanted, already=already, now=now))
    write_events(to_write)


def take(integration, device_names) -> OutgoingDownlink | None:
    """The newest PENDING downlink to one of ``device_names``, now DELIVERED (HTTP reply), or None."""
    names = [n for n in device_names if n]
    if not names:
        return None
    pending = OutgoingDownlink.objects.filter(integration_id=integration.pk, device_name__in=names, status=S.PENDING)
    for row in pending.order_by("-created_ts", "-pk")[:5]:
        if _deliver(integration, row):
            return row
    return None


def take_offered(integration, pk) -> OutgoingDownlink | None:
    """The PENDING downlink ``pk`` that a remote runner answered its device's request with, now
    DELIVERED (older ones to the device SUPERSEDED, as :func:`take`); None if it no longer waited."""
    row = OutgoingDownlink.objects.filter(pk=pk, integration_id=integration.pk, status=S.PENDING).first()
    return row if row is not None and _deliver(integration, row) else None


def _deliver(integration, row: OutgoingDownlink) -> bool:
    if OutgoingDownlink.objects.filter(pk=row.pk, status=S.PENDING).update(
            status=S.DELIVERED, delivered_ts=now_ms(), attempts=row.attempts + 1, error="") != 1:
        return False
    OutgoingDownlink.objects.filter(integration_id=integration.pk, device_name=row.device_name, status=S.PENDING,
                                    created_ts__lte=row.created_ts).update(
        status=S.SUPERSEDED, error="A newer downlink to this device replaced it")
    metrics.inc("tb_downlinks_total", integration=row.integration_id, outcome="delivered")
    _events({integration.pk: integration}, [(row, None, False)], now_ms())
    return True


def newest_pending(integration_id, limit: int = 500) -> list[OutgoingDownlink]:
    """The newest PENDING downlink of each device of the integration (at most ``limit`` devices)."""
    newest: dict[str, OutgoingDownlink] = {}
    rows = OutgoingDownlink.objects.filter(integration_id=integration_id, status=S.PENDING)
    for row in rows.order_by("-created_ts", "-pk").iterator(chunk_size=500):
        newest.setdefault(row.device_name, row)
        if len(newest) >= limit:
            break
    return list(newest.values())


def pending_devices(integration_id) -> list[str]:
    """Names of the devices with a PENDING downlink through the integration."""
    return list(OutgoingDownlink.objects.filter(integration_id=integration_id, status=S.PENDING)
                .values_list("device_name", flat=True).distinct())


def sweep(now: int | None = None) -> dict:
    """Return stale claims to the queue and delete finished rows past DOWNLINKS_TTL_DAYS."""
    now = now_ms() if now is None else now
    stale = Q(claimed_ts__lt=now - STALE_MS) | Q(claimed_ts__isnull=True)
    requeued = OutgoingDownlink.objects.filter(stale, status=S.ENCODING).update(status=S.QUEUED, claim="")
    resent = OutgoingDownlink.objects.filter(stale, status=S.SENDING).update(status=S.PENDING, claim="")
    deleted = 0
    if settings.DOWNLINKS_TTL_DAYS:
        cutoff = now - settings.DOWNLINKS_TTL_DAYS * 86_400_000
        deleted, _ = OutgoingDownlink.objects.filter(status__in=FINAL, created_ts__lt=cutoff).delete()
    queued = OutgoingDownlink.objects.filter(status=S.QUEUED, next_attempt_ts__lte=now).exists()
    return {"requeued": requeued, "resent": resent, "deleted": deleted, "queued": int(queued)}
