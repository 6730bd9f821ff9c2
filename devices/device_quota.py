"""The tenant profile's ``maxDevices`` (ThingsBoard's DefaultTenantProfileConfiguration key; 0 or unset: no
limit), enforced as ThingsBoard's device validator does: a device that would make the tenant's count exceed
it is refused with ``"Devices limit reached"`` (its EntitiesLimitExceededException, a 400 in the REST API).
The other entity types are checked by tenants/limits/entities.py, which this uses too.

    check_new_devices(devices)   # inside the transaction that inserted them; raises DevicesLimitReached

It runs in :func:`devices.credentials.issue_access_tokens`, the one step every way of making a device goes
through (the REST API, the admin and commands through the post_save signal; integration auto-provisioning
and device provisioning explicitly), after the rows are inserted and before they commit: raising rolls the
whole creation back (a device saved in autocommit is checked before its insert instead, in ``pre_save``:
tenants/limits/entities.py's guard_autocommit; a committed device is never deleted again). The tenant's row
is locked (FOR NO KEY UPDATE, on PostgreSQL) before counting, so that concurrent creations are counted one
after the other and cannot pass the limit together; SQLite writes one transaction at a time anyway. The
limit is read from the tenant's cached limits (tenants/limits/profile.py: a profile change is seen at once in
this process, within TTL_SECONDS in the others), so a tenant without one pays nothing. A tenant with one
sends ``tenants.limits.entities.entities_counted`` (ENTITIES_LIMIT).
"""

from devices.models import Device
from tenants.limits import entities
from tenants.limits.entities import EntitiesLimitReached

__all__ = ["MAX_DEVICES", "LIMIT_REACHED", "DevicesLimitReached", "check_new_devices"]

MAX_DEVICES = "maxDevices"
LIMIT_REACHED = "Devices limit reached"  # ThingsBoard's EntitiesLimitExceededException for DEVICE


class DevicesLimitReached(EntitiesLimitReached):
    """A 400 in the REST API (a Django ValidationError); a ValueError for the uplink pipeline, which fails
    the message naming the device (integrations/pipeline.py), and for device provisioning (FAILURE)."""

    def __init__(self, entity_type: str = "DEVICE", limit: int = 0):
        super().__init__("DEVICE", limit)


def check_new_devices(devices) -> None:
    """Raise DevicesLimitReached when ``devices`` (saved, uncommitted) put their tenant over its limit."""
    for tenant_id in {d.tenant_id for d in devices}:
        mine = [d.pk for d in devices if d.tenant_id == tenant_id]
        entities.check_added(tenant_id, "DEVICE", len(mine), error=DevicesLimitReached, sender=Device)
