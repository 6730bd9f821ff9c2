"""The tenant profile's ``maxDevices`` (ThingsBoard's DefaultTenantProfileConfiguration key; 0 or unset: no
limit), enforced as ThingsBoard's device validator does: a device that would make the tenant's count exceed
it is refused with ``"Devices limit reached"`` (its EntitiesLimitExceededException, a 400 in the REST API).

    check_new_devices(devices)   # inside the transaction that inserted them; raises DevicesLimitReached

It runs in :func:`devices.credentials.issue_access_tokens`, the one step every way of making a device goes
through (the REST API, the admin and commands through the post_save signal; integration auto-provisioning
and device provisioning explicitly), after the rows are inserted and before they commit: raising rolls the
whole creation back. The tenant's row is locked (FOR NO KEY UPDATE, on PostgreSQL) before counting, so that
concurrent creations are counted one after the other and cannot pass the limit together; SQLite writes one
transaction at a time anyway. The limit is read from the tenant's cached limits (tenants/limits/profile.py:
a profile change is seen at once in this process, within TTL_SECONDS in the others), so a tenant without
one pays nothing.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.dispatch import Signal

from devices.models import Device
from tenants.limits.profile import max_entities
from tenants.models import Tenant

__all__ = ["MAX_DEVICES", "LIMIT_REACHED", "DevicesLimitReached", "check_new_devices", "devices_counted"]

MAX_DEVICES = "maxDevices"
LIMIT_REACHED = "Devices limit reached"  # ThingsBoard's EntitiesLimitExceededException for DEVICE
#: Sent (sender: Device) when new devices of a tenant with a limit were counted and allowed, inside the
#: creating transaction: ``tenant_id``, ``entity_type`` "DEVICE", ``count`` (now), ``added``, ``limit``.
#: notifications/ subscribes (ENTITIES_LIMIT rules); a tenant without a limit sends nothing.
devices_counted = Signal()


class DevicesLimitReached(ValidationError, ValueError):
    """A 400 in the REST API (a Django ValidationError); a ValueError for the uplink pipeline, which fails
    the message naming the device (integrations/pipeline.py), and for device provisioning (FAILURE)."""

    def __init__(self):
        super().__init__(LIMIT_REACHED)

    def __str__(self) -> str:  # the text alone, as the pipeline's error and the logs show it
        return LIMIT_REACHED


def check_new_devices(devices) -> None:
    """Raise DevicesLimitReached when ``devices`` (saved, uncommitted) put their tenant over its limit."""
    for tenant_id in {d.tenant_id for d in devices}:
        limit = max_entities(tenant_id, MAX_DEVICES)
        if not limit:
            continue
        atomic = transaction.get_connection().in_atomic_block
        if atomic:
            # one creation at a time per tenant; NO KEY UPDATE: the devices' own foreign-key checks hold KEY SHARE
            list(Tenant.objects.select_for_update(no_key=True).filter(pk=tenant_id).values_list("pk", flat=True))
        count = Device.objects.filter(tenant_id=tenant_id).count()
        if count > limit:
            if not atomic:  # a script's save in autocommit: its row is committed already
                Device.objects.filter(pk__in=[d.pk for d in devices if d.tenant_id == tenant_id]).delete()
            raise DevicesLimitReached()
        devices_counted.send(Device, tenant_id=tenant_id, entity_type="DEVICE", count=count, limit=limit,
                             added=sum(1 for d in devices if d.tenant_id == tenant_id))
