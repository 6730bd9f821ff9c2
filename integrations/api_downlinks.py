"""Delivery of push integrations' downlinks through their cloud's API (ChirpStack, ThingPark, LORIOT ...).

Push types whose class sets ``api_downlink`` do not answer the next uplink with a downlink: a
worker sends each encoded one to the cloud (``instance.deliver(Downlink)``). The encoder wakes it
(integrations.downlinks.notify.encoded -> :func:`schedule`); retries are picked up by a task
scheduled for the first due retry and by the periodic downlink sweep.

    run_due()     # claim due PENDING rows of API-downlink integrations, deliver, record (Celery task body)
    schedule()    # inline when tasks run eagerly, else one task (a short-lived cache flag)

Claims, retries with back-off and FAILED after DOWNLINK_MAX_ATTEMPTS are integrations.downlinks.delivery's,
as for listener hosts: a worker that dies mid-send leaves SENDING rows that the sweep requeues.
"""

import logging
import os
import socket
from concurrent.futures import ThreadPoolExecutor

from django.core.cache import cache

from integrations.downlinks import delivery
from integrations.models import DownlinkStatus, Integration, OutgoingDownlink
from integrations.types import TYPES
from integrations.types.base import ConfigError, IntegrationError
from tbproject import backoff
from tbproject.clock import now_ms

__all__ = ["api_kinds", "run_due", "schedule", "due", "next_retry_ms", "schedule_retry", "BATCH_SIZE", "SEND_THREADS"]

log = logging.getLogger(__name__)

BATCH_SIZE = 100
#: Requests to clouds run in parallel (each with its own timeout), so one slow cloud holds back little.
SEND_THREADS = 8
SCHEDULED_KEY = "downlinks:api-scheduled"
SCHEDULED_TTL = 30
RETRY_KEY = "downlinks:api-retry-scheduled"
S = DownlinkStatus


def api_kinds() -> list[str]:
    return [kind for kind, cls in TYPES.all().items() if getattr(cls, "api_downlink", False)]


def _due_query(now: int):
    return OutgoingDownlink.objects.filter(status=S.PENDING, next_attempt_ts__lte=now, integration__enabled=True,
                                           integration__type__in=api_kinds())


def due() -> bool:
    return _due_query(now_ms()).exists()


def next_retry_ms() -> int | None:
    """When the next waiting retry of an API downlink is due, or None."""
    return (OutgoingDownlink.objects.filter(status=S.PENDING, integration__enabled=True,
                                            integration__type__in=api_kinds())
            .order_by("next_attempt_ts").values_list("next_attempt_ts", flat=True).first())


def _holder() -> str:
    return f"api:{socket.gethostname()[:40]}:{os.getpid()}"


def _send(instance, row) -> tuple[OutgoingDownlink, str | None, bool]:
    if isinstance(instance, str):  # the integration's configuration did not parse
        return row, instance, True
    try:
        instance.deliver(delivery.as_message(row))
    except IntegrationError as e:
        return row, e.message, e.permanent
    except Exception as e:  # a bug in a type must not stop the batch; retried, then FAILED
        log.exception("delivering downlink %s failed", row.pk)
        return row, f"Unexpected error: {type(e).__name__}: {e}", False
    return row, None, False


def _deliver(rows: list[OutgoingDownlink]) -> None:
    integrations = {i.pk: i for i in Integration.objects.filter(pk__in={r.integration_id for r in rows})}
    instances: dict = {}
    for pk, integration in integrations.items():
        try:
            instances[pk] = integration.type_class(integration)
        except ConfigError as e:
            instances[pk] = f"Invalid configuration: {e}"
    with ThreadPoolExecutor(max_workers=min(SEND_THREADS, len(rows))) as pool:
        outcomes = list(pool.map(lambda row: _send(instances[row.integration_id], row), rows))
    delivery.finish(integrations, outcomes)


def run_due(limit: int = BATCH_SIZE) -> int:
    """Deliver every due API downlink, batch by batch; returns how many were attempted."""
    done, holder = 0, _holder()
    while True:
        ids = list(_due_query(now_ms()).values_list("integration_id", flat=True).distinct())
        rows = delivery.claim(ids, holder, limit)
        if not rows:
            return done
        _deliver(rows)
        done += len(rows)
        if len(rows) < limit:
            return done


def schedule() -> None:
    """Have due API downlinks delivered: inline when tasks run eagerly, else one task at a time."""
    from integrations.tasks import deliver_api_downlinks

    if deliver_api_downlinks.app.conf.task_always_eager:
        deliver_api_downlinks.apply()
        return
    try:
        if not cache.add(SCHEDULED_KEY, 1, timeout=SCHEDULED_TTL):
            return
    except Exception as exc:  # the cache is down: send a task anyway
        log.warning("API downlink scheduling flag unavailable: %s", exc)
    deliver_api_downlinks.apply_async()


def schedule_retry() -> None:
    """One task for the first waiting retry, unless one is already scheduled (a cache flag that lives
    until it runs): failing clouds never multiply tasks. The periodic sweep is the fallback."""
    from integrations.tasks import deliver_api_downlinks

    retry_at = next_retry_ms()
    if retry_at is None:
        return
    countdown = backoff.capped(max(1.0, (retry_at - now_ms()) / 1000))  # too early: it schedules again
    try:
        if not cache.add(RETRY_KEY, 1, timeout=int(countdown) + 1):
            return
    except Exception as exc:
        log.warning("API downlink retry flag unavailable: %s", exc)
        return  # the periodic sweep schedules the retry
    deliver_api_downlinks.apply_async(countdown=countdown)


def clear_flag() -> None:
    try:
        cache.delete(SCHEDULED_KEY)
    except Exception as exc:
        log.warning("API downlink scheduling flag unavailable: %s", exc)
