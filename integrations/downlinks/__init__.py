"""Downlinks (issue 6, section 4): a rule-engine message -> the downlink converter -> the device.

    submit(tenant_id, integration_id, msg)   # the integration downlink rule node calls this

:func:`submit` is quick and durable: it checks the integration (DownlinkRefused when it is
missing, another tenant's, disabled or has no downlink converter: the node's Failure relation),
stores the message as an OutgoingDownlink (QUEUED) and schedules encoding. Success means
"submitted", not "delivered", as in ThingsBoard.

Then, asynchronously:

1. encoder.py (Celery task ``encode_downlinks``, in batches; inline when tasks run eagerly):
   claims QUEUED rows, runs each integration's downlink converter once per batch
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

import time
import uuid

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from integrations.handoff import RuleEngineMsg
from integrations.models import Integration, OutgoingDownlink

__all__ = ["DownlinkRefused", "submit", "schedule_encoding"]


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
    """Store ``msg`` as a downlink of the integration and schedule its encoding; see the module docstring."""
    integration_tenant = _integration(tenant_id, integration_id)
    metadata = {str(k): v if isinstance(v, str) else str(v) for k, v in (msg.metadata or {}).items()}
    name = metadata.get("deviceName") or metadata.get("originatorName") or ""
    OutgoingDownlink.objects.create(
        tenant_id=integration_tenant, integration_id=_pk(integration_id), device_name=name[:255],
        originator_type=str(msg.originator_type or "")[:16], originator_id=msg.originator_id or None,
        msg_type=str(msg.msg_type or "")[:64], msg=msg.data if msg.data is not None else {}, msg_metadata=metadata)
    transaction.on_commit(schedule_encoding)


def schedule_encoding() -> None:
    """Have the queued downlinks encoded: inline when tasks run eagerly, else one task for many."""
    from integrations.downlinks.tasks import schedule

    schedule()
