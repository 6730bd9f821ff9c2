"""Downlinks (issue 6, section 4): a rule-engine message -> the downlink converter -> the device.

    submit_many(tenant_id, integration_id, [msg, ...])  # the integration downlink rule node: a batch
    submit(tenant_id, integration_id, msg)              # one message

:func:`submit_many` is quick and durable: it checks the integration (DownlinkRefused when it is
missing, another tenant's, disabled or has no downlink converter: the node's Failure relation),
stores the messages as OutgoingDownlinks (QUEUED, one INSERT) and, once that is committed,
hands exactly those rows to the encoder as one batch. Success means "submitted", not
"delivered", as in ThingsBoard.

Then:

1. encoder.py, in the process that submitted (a rule-engine worker) right after the commit
   (``encode_ids``), or by the Celery task ``encode_downlinks`` for what waits in the queue
   (retries, and everything when tasks run eagerly): claims QUEUED rows, runs each integration's
   downlink converter once per batch
   (``Encoder(msg, metadata, msgType, integrationMetadata)``), normalises the result
   (converters.downlink_payload.normalise_downlink), records converter and integration debug events
   and stores the encoded payload: PENDING. A script error or invalid output is FAILED at once
   (a retry would fail the same way); an engine that cannot start is retried.
2. Delivery depends on the integration type:
   - listener types (MQTT, TCP, UDP, ...): the runintegrations host that holds the
     integration's lease claims its PENDING rows (delivery.claim), calls
     ``await instance.downlink(Downlink)`` on its loop and records the outcome
     (delivery.finish): DELIVERED, or retried with back-off (DOWNLINK_RETRY_SECONDS, doubling)
     up to DOWNLINK_MAX_ATTEMPTS, then FAILED with its error. Hosts are woken by notify.py:
     in-process at once (embedded mode and tests), through Redis pub/sub across processes,
     and by a poll as the fallback.
   - push types (HTTP family): the LAST downlink per (integration, device) waits (older ones
     become SUPERSEDED) and is the body of that device's next uplink response
     (integrations/ingress/downlinks.py).
3. tasks.sweep_downlinks (periodic) returns rows whose worker or host died (ENCODING,
   SENDING for too long) to the queue and deletes finished rows after DOWNLINKS_TTL_DAYS.
"""

import logging
import time
import uuid

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from integrations.handoff import RuleEngineMsg
from integrations.models import Integration, OutgoingDownlink
from tbproject.clock import now_ms

log = logging.getLogger(__name__)

__all__ = ["DownlinkRefused", "submit", "submit_many", "schedule_encoding"]


class DownlinkRefused(Exception):
    """The integration cannot take downlinks; ``message`` says why (the node's Failure relation)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


#: Seconds a checked integration is trusted in this process: a rule-engine batch asks for the same
#: integration once per message. A change within it is still caught: the encoder fails a downlink
#: of a disabled integration (or one without a converter) visibly.
CHECK_TTL = 2.0
_checked: dict = {}


def _check(tenant_id, pk: uuid.UUID) -> tuple[uuid.UUID | None, str | None]:
    row = (Integration.objects.filter(pk=pk, tenant_id=tenant_id)
           .only("id", "name", "enabled", "downlink_converter_id", "tenant_id").first())
    if row is None:
        return None, f"Integration with id [{pk}] is not found"
    if not row.enabled:
        return None, f"Integration '{row.name}' is disabled"
    if row.downlink_converter_id is None:
        return None, f"Integration '{row.name}' has no downlink converter"
    return row.tenant_id, None


def _pk(integration_id) -> uuid.UUID:
    try:
        return integration_id if isinstance(integration_id, uuid.UUID) else uuid.UUID(str(integration_id))
    except (TypeError, ValueError):
        raise DownlinkRefused(f"Integration id '{str(integration_id)[:64]}' is not a valid id") from None


def _integration(tenant_id, integration_id) -> uuid.UUID:
    """The tenant of the integration when it can take downlinks; DownlinkRefused otherwise."""
    pk = _pk(integration_id)
    key, now = (str(tenant_id), pk), time.monotonic()
    hit = _checked.get(key)
    if hit is None or hit[0] < now:
        if len(_checked) > 10_000:
            _checked.clear()
        hit = _checked[key] = (now + CHECK_TTL, *_check(tenant_id, pk))
    if hit[2] is not None:
        raise DownlinkRefused(hit[2])
    return hit[1]


@receiver(post_save, sender=Integration, dispatch_uid="integrations.downlinks.checked.saved")
@receiver(post_delete, sender=Integration, dispatch_uid="integrations.downlinks.checked.deleted")
def _forget(sender, **kwargs) -> None:
    _checked.clear()  # saves are rare; other processes catch up within CHECK_TTL


def submit(tenant_id, integration_id, msg: RuleEngineMsg) -> None:
    """Store ``msg`` as a downlink of the integration and have it encoded; see the module docstring."""
    submit_many(tenant_id, integration_id, [msg])


def submit_many(tenant_id, integration_id, msgs: list[RuleEngineMsg]) -> None:
    """Store ``msgs`` as downlinks of the integration (one INSERT) and hand them to the encoder as
    one batch after the commit; DownlinkRefused (for all of them) when the integration cannot
    take downlinks."""
    integration_tenant = _integration(tenant_id, integration_id)
    if not msgs:
        return
    pk, now = _pk(integration_id), now_ms()
    rows = [_row(integration_tenant, pk, msg, now) for msg in msgs]
    OutgoingDownlink.objects.bulk_create(rows)
    ids = [row.pk for row in rows]
    transaction.on_commit(lambda: encode_submitted(ids))


def _row(tenant_id, integration_id, msg: RuleEngineMsg, now: int) -> OutgoingDownlink:
    metadata = {str(k): v if isinstance(v, str) else str(v) for k, v in (msg.metadata or {}).items()}
    name = metadata.get("deviceName") or metadata.get("originatorName") or ""
    return OutgoingDownlink(
        tenant_id=tenant_id, integration_id=integration_id, device_name=name[:255],
        originator_type=str(msg.originator_type or "")[:16], originator_id=msg.originator_id or None,
        msg_type=str(msg.msg_type or "")[:64], msg=msg.data if msg.data is not None else {}, msg_metadata=metadata,
        created_ts=now)


def encode_submitted(ids: list) -> None:
    """Encode the rows just submitted, here and now, as one batch; when tasks run eagerly, or if
    that fails, the encoding task takes over (it works through the whole queue, with back-off)."""
    from integrations.downlinks import encoder, tasks

    if tasks.encode_downlinks.app.conf.task_always_eager:
        schedule_encoding()
        return
    try:
        encoder.encode_ids(ids)
    except Exception:
        log.exception("encoding %d submitted downlinks failed; the encoding task retries them", len(ids))
        schedule_encoding()


def schedule_encoding() -> None:
    """Have the queued downlinks encoded: inline when tasks run eagerly, else one task for many."""
    from integrations.downlinks.tasks import schedule

    schedule()
