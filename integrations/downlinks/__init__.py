"""Downlinks (issue 6, section 4): a rule-engine message -> the downlink converter -> the device.

    submit_many(tenant_id, integration_id, [msg, ...])  # the integration downlink rule node: a batch
    submit(tenant_id, integration_id, msg)              # one message

:func:`submit_many` checks the integration (DownlinkRefused when it is missing, another
tenant's, disabled or has no downlink converter: the node's Failure relation), hands the whole
batch to the encoder and stores the outcome as OutgoingDownlinks, one INSERT. Success means
"submitted", not "delivered", as in ThingsBoard. In embedded mode (tasks run eagerly) the
messages are stored QUEUED first and encoded by the inline task once the caller commits.

1. encoder.py runs the integration's downlink converter once for the batch
   (``Encoder(msg, metadata, msgType, integrationMetadata)``), normalises the result
   (converters.downlink_payload.normalise_downlink), records converter and integration debug events
   and stores each downlink encoded: PENDING. A script error or invalid output is FAILED at once
   (a retry would fail the same way). When the encoder itself cannot run (the engine cannot
   start), the messages are stored QUEUED and the Celery task ``encode_downlinks`` retries them
   with back-off (it claims QUEUED rows and encodes them the same way, once per batch).
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
import uuid

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from converters.models import Converter
from integrations.handoff import RuleEngineMsg
from integrations.models import Integration, OutgoingDownlink
from tbproject.clock import now_ms
from tbproject.process_cache import ProcessCache

log = logging.getLogger(__name__)

__all__ = ["DownlinkRefused", "submit", "submit_many", "schedule_encoding"]


class DownlinkRefused(Exception):
    """The integration cannot take downlinks; ``message`` says why (the node's Failure relation)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


#: Integrations with their downlink converter, as submit_many loads them (one ORM query with a
#: join, about a millisecond of a worker's CPU, was a fifth of a batch of 16 downlinks). Entries live
#: ``PIPELINE_CACHE_SECONDS``, as the uplink pipeline's do (integrations/config_cache.py), and are
#: dropped at once when this process saves or deletes an integration or a converter; other processes
#: see a change within that time. The encoder still fails a downlink of an integration that is
#: disabled or has no converter, visibly. Missing integrations are not cached.
_LOADED = ProcessCache(10_000)


def _load(pk: uuid.UUID) -> Integration | None:
    hit = _LOADED.get(pk)
    if hit is not None:
        return hit
    generation = _LOADED.generation  # a load that raced with a change does not keep what it read
    row = Integration.objects.select_related("downlink_converter").filter(pk=pk).first()
    if row is not None:
        _LOADED.put_many([(pk, row)], generation, settings.PIPELINE_CACHE_SECONDS)
    return row


def _pk(integration_id) -> uuid.UUID:
    try:
        return integration_id if isinstance(integration_id, uuid.UUID) else uuid.UUID(str(integration_id))
    except (TypeError, ValueError):
        raise DownlinkRefused(f"Integration id '{str(integration_id)[:64]}' is not a valid id") from None


def _integration(tenant_id, integration_id) -> Integration:
    """The integration when it can take downlinks for this tenant; DownlinkRefused otherwise
    (another tenant's integration is "not found", as a missing one)."""
    pk = _pk(integration_id)
    row = _load(pk)
    if row is None or str(row.tenant_id) != str(tenant_id):
        raise DownlinkRefused(f"Integration with id [{pk}] is not found")
    if not row.enabled:
        raise DownlinkRefused(f"Integration '{row.name}' is disabled")
    if row.downlink_converter_id is None:
        raise DownlinkRefused(f"Integration '{row.name}' has no downlink converter")
    return row


@receiver(post_save, sender=Integration, dispatch_uid="integrations.downlinks.checked.saved")
@receiver(post_delete, sender=Integration, dispatch_uid="integrations.downlinks.checked.deleted")
@receiver(post_save, sender=Converter, dispatch_uid="integrations.downlinks.converter.saved")
@receiver(post_delete, sender=Converter, dispatch_uid="integrations.downlinks.converter.deleted")
def _forget(sender, **kwargs) -> None:
    _LOADED.forget_now_and_on_commit()  # saves are rare; other processes catch up within the TTL


def submit(tenant_id, integration_id, msg: RuleEngineMsg) -> None:
    """Store ``msg`` as a downlink of the integration and have it encoded; see the module docstring."""
    submit_many(tenant_id, integration_id, [msg])


def submit_many(tenant_id, integration_id, msgs: list[RuleEngineMsg]) -> None:
    """Encode ``msgs`` for the integration (one converter run) and store them (one INSERT);
    DownlinkRefused, for all of them, when the integration cannot take downlinks."""
    integration = _integration(tenant_id, integration_id)
    if not msgs:
        return
    from integrations.downlinks import encoder, tasks

    integration_tenant, now = integration.tenant_id, now_ms()
    rows = [_row(integration_tenant, integration, msg, now, id=row_id)
            for msg, row_id in zip(msgs, _ordered_ids(len(msgs)), strict=True)]
    if tasks.encode_downlinks.app.conf.task_always_eager:
        # Embedded mode: stored QUEUED now, encoded by the (inline) task once the caller commits.
        OutgoingDownlink.objects.bulk_create(rows)
        transaction.on_commit(schedule_encoding)
        return
    for start in range(0, len(rows), encoder.BATCH_SIZE):  # each batch is on its way before the next is encoded
        chunk = rows[start:start + encoder.BATCH_SIZE]
        try:
            encoder.encode(chunk, insert=True)
        except Exception as exc:
            # The machinery failed (engine cannot start, ...): stored QUEUED, the encoding task retries.
            log.warning("encoding %d downlinks failed (%s): queued for the encoding task", len(chunk), exc)
            OutgoingDownlink.objects.bulk_create([  # afresh: the encoder may have filled them in
                _row(integration_tenant, integration, msg, now, id=row.pk, next_attempt_ts=now + 5000)
                for msg, row in zip(msgs[start:start + encoder.BATCH_SIZE], chunk, strict=True)])
            transaction.on_commit(schedule_encoding)


def _ordered_ids(count: int) -> list[uuid.UUID]:
    """Random UUIDs (version 4) that sort in the order of the batch: its downlinks share one
    ``created_ts``, and are claimed and sent by (created_ts, id), so two to one device keep their order."""
    base = uuid.uuid4().int & ~0xFFFFFFFF  # the low 32 bits are random in a version 4 UUID too
    return [uuid.UUID(int=base | n) for n in range(count)]


def _row(tenant_id, integration, msg: RuleEngineMsg, now: int, **extra) -> OutgoingDownlink:
    metadata = {str(k): v if isinstance(v, str) else str(v) for k, v in (msg.metadata or {}).items()}
    name = metadata.get("deviceName") or metadata.get("originatorName") or ""
    values = {"tenant_id": tenant_id, "integration_id": integration.pk, "device_name": name[:255],
              "originator_type": str(msg.originator_type or "")[:16], "originator_id": msg.originator_id or None,
              "msg_type": str(msg.msg_type or "")[:64], "msg": msg.data if msg.data is not None else {},
              "msg_metadata": metadata, "created_ts": now, **extra}
    # Positional arguments in field order: Django's keyword path (a descriptor per relation, a
    # default per missing field looked up by name) was a seventh of a worker's CPU per downlink.
    row = OutgoingDownlink(*[values[f.attname] if f.attname in values else f.get_default() for f in _FIELDS])
    _INTEGRATION.set_cached_value(row, integration)
    return row


_FIELDS = OutgoingDownlink._meta.concrete_fields
_INTEGRATION = OutgoingDownlink._meta.get_field("integration")


def schedule_encoding() -> None:
    """Have the queued downlinks encoded: inline when tasks run eagerly, else one task for many."""
    from integrations.downlinks.tasks import schedule

    schedule()
