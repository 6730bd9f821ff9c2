"""QueueStats rows (ThingsBoard's queue statistics entities): the rule engine's worker notes, once per
process, each (tenant, queue) whose messages it ran, with its service id (TB_SERVICE_ID, else the host name).

This server runs every rule chain on one queue, ThingsBoard's Main (rulechains/api/queues.py), so the queue
name is ``Main``. The per-process set keeps this to one query per tenant and process, not one per message.
The statistics ThingsBoard stores as the entity's telemetry (message counts per interval) are not kept.
"""

import logging
import socket

from django.conf import settings
from django.db import DatabaseError, transaction

from rulechains.queue_stats_models import QueueStats
from tenants.models import Tenant

__all__ = ["MAIN_QUEUE", "service_id", "noted", "forget"]

log = logging.getLogger(__name__)

MAIN_QUEUE = "Main"
_seen: set = set()


def service_id() -> str:
    return (getattr(settings, "TB_SERVICE_ID", "") or socket.gethostname() or "tb-core")[:255]


def noted(tenant_ids, queue_name: str = MAIN_QUEUE) -> None:
    """Have the QueueStats rows of these tenants' messages run here made, the first time this process runs them:
    after the batch's transaction commits (at once in a worker's autocommit), so the rows never weigh on it."""
    new = [t for t in tenant_ids if t is not None and (t, queue_name) not in _seen]
    if new:
        transaction.on_commit(lambda: _record(new, queue_name))


def _record(tenant_ids: list, queue_name: str) -> None:
    service = service_id()
    try:
        live = Tenant.objects.filter(pk__in=tenant_ids).values_list("pk", flat=True)  # not one deleted meanwhile
        QueueStats.objects.bulk_create([QueueStats(tenant_id=t, queue_name=queue_name, service_id=service)
                                        for t in live], ignore_conflicts=True)
    except DatabaseError:  # statistics never stop the rule engine: tried again with the next batch
        log.warning("rule engine: queue stats of %d tenants not recorded", len(tenant_ids), exc_info=True)
        return
    _seen.update((t, queue_name) for t in tenant_ids)


def forget() -> None:
    """Tests: the next batch checks its rows again."""
    _seen.clear()
