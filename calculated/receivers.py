"""The writers' hook: devices/ announces every telemetry and attribute write (devices/data_events.py).

This listener runs inside the write, so it does as little as it can: for a tenant without
calculated fields (nearly every write) one lookup in a process cache (calculated/index.py), no
query and no look at the rows. Otherwise it lists the (entity, key) pairs written that some field of
the tenant has as an argument (the cached index; a write whose caller did not say the tenant is
filtered against every tenant's fields) and hands them on:
devices/ runs the returned function once the write commits, which computes inline when tasks run
eagerly (embedded mode) and queues one ``calculated.tasks.compute`` task per written batch with
REDIS_URL, so that a slow script never slows the writer.
"""

import logging
import uuid
from functools import partial

from calculated import compute, debug, index
from devices import data_events

__all__ = ["connect", "listener", "changes_of"]

log = logging.getLogger(__name__)


def changes_of(kind: str, rows) -> list[tuple[str, str, str, str | None]]:
    """[(entity id, "TS"|"ATTRIBUTE", key, scope)] written, each once."""
    if kind == data_events.TELEMETRY:
        pairs = {(str(row[0]), row[1]) for row in rows}
        return [(entity, "TS", key, None) for entity, key in sorted(pairs)]
    triples = {(str(row[0]), row[1], row[2]) for row in rows}
    return [(entity, "ATTRIBUTE", key, scope) for entity, scope, key in sorted(triples)]


def listener(tenant_id, kind: str, rows):
    tenants = index.tenants_with_fields()
    if not tenants:
        return None
    if tenant_id is not None:
        if tenant_id.__class__ is not uuid.UUID:
            tenant_id = uuid.UUID(str(tenant_id))
        if tenant_id not in tenants:
            return None
        fields = index.fields_of(tenant_id)
    else:  # a writer that does not say the tenant (scripts, benchmarks): every tenant's argument keys
        fields = index.all_fields()
    changes = [change for change in changes_of(kind, rows) if fields.wants(*change)]
    if not changes:
        return None  # no field has an argument of what was written
    depth = compute.current_depth() + 1
    if depth > compute.MAX_DEPTH:
        return partial(_too_deep, compute.current_fields())
    return partial(_dispatch, None if tenant_id is None else str(tenant_id), changes, depth)


def _dispatch(tenant_id, changes, depth: int) -> None:
    from calculated.tasks import compute as compute_task

    compute_task.delay(tenant_id, changes, depth)


def _too_deep(fields) -> None:
    message = (f"A chain of calculated fields went deeper than {compute.MAX_DEPTH} links (a cycle?): "
               "what this field's output triggers was not computed")
    log.warning("%s (fields %s)", message, [str(f.id) for f in fields])
    with debug.Recorder() as recorder:
        for field in fields:
            recorder.add(field, field.entity_id, field.entity_type, None, None, message)


def _drop_fields(sender, instance, **kwargs) -> None:
    """A deleted device, asset or profile takes its calculated fields with it."""
    from calculated.models import CalculatedField

    if instance.tenant_id not in index.tenants_with_fields():
        return  # the tenant has no fields (cached): no DELETE
    if CalculatedField.objects.filter(tenant_id=instance.tenant_id, entity_id=instance.pk).delete()[0]:
        index.forget()


def _drop_moved_fields(sender, device, old_tenant_id, **kwargs) -> None:
    """A device handed to another tenant (devices/tenant_assign.py) leaves its old tenant's fields behind: they go."""
    from calculated.models import CalculatedField

    if CalculatedField.objects.filter(tenant_id=old_tenant_id, entity_id=device.pk).delete()[0]:
        index.forget()


def connect() -> None:
    from django.db.models.signals import post_delete

    from devices.models import Asset, AssetProfile, Device, DeviceProfile
    from devices.tenant_assign import device_moved

    data_events.subscribe(listener)
    device_moved.connect(_drop_moved_fields, sender=Device, dispatch_uid="calculated.drop_moved_fields")
    for model in (Device, Asset, DeviceProfile, AssetProfile):
        post_delete.connect(_drop_fields, sender=model, dispatch_uid=f"calculated.drop_fields_{model.__name__}")
