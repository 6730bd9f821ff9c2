"""ThingsBoard's "assign device to tenant" (DeviceService.assignDeviceToTenant): a tenant hands one of its
devices to another tenant. The device keeps its id, credentials, attributes and telemetry; it leaves its
customer, relations and entity groups behind, and takes the new tenant's device profile of the same name
(made there, empty, when missing), as ThingsBoard does. A device an entity view shows cannot move, nor one whose
name the new tenant uses already, nor one past the new tenant's device limit. ``device_moved`` is sent for the
higher layers: the audit log records ASSIGNED_TO_TENANT in the old tenant's log, the rule engine gets
ENTITY_ASSIGNED_TO_TENANT (old tenant) and ENTITY_ASSIGNED_FROM_TENANT (new tenant), the old tenant's calculated
fields of the device go, the device HTTP API forgets its token (the old tenant's alarms and RPCs of the device stay
where they are). The name check and the move run in one transaction with the device row locked.
"""

import logging

from django.db import IntegrityError, transaction
from django.dispatch import Signal
from rest_framework.exceptions import ValidationError

from devices import all_groups, membership, relations
from devices.device_quota import check_new_devices
from devices.models import Device, DeviceCredentials, DeviceProfile, EntityView

__all__ = ["assign_to_tenant", "device_moved"]

log = logging.getLogger(__name__)

#: sent after commit (sender Device): ``device`` (in its new tenant), ``old_tenant_id``, ``new_tenant`` and
#: ``user``, who moved it (None: no one did)
device_moved = Signal()
NAME_TAKEN = "Device with such name already exists!"


def _name_taken(device: Device, tenant) -> bool:
    return Device.objects.filter(tenant=tenant, name=device.name).exclude(pk=device.pk).exists()


def assign_to_tenant(device: Device, new_tenant, user=None) -> Device:
    try:
        with transaction.atomic():
            device = Device.objects.select_for_update().select_related("profile").get(pk=device.pk)
            old_tenant_id = device.tenant_id
            _move(device, new_tenant)
            transaction.on_commit(lambda: _tell(device, old_tenant_id, new_tenant, user))
    except IntegrityError:  # the name, taken by a concurrent save between the check and ours
        raise ValidationError(NAME_TAKEN) from None
    return device


def _tell(device: Device, old_tenant_id, new_tenant, user) -> None:
    """Every subscriber hears of the move, whatever another one raises (the device has moved already)."""
    for receiver, error in device_moved.send_robust(sender=Device, device=device, old_tenant_id=old_tenant_id,
                                                    new_tenant=new_tenant, user=user):
        if isinstance(error, Exception):
            log.error("device_moved: %s failed for DEVICE %s", getattr(receiver, "__qualname__", receiver), device.pk,
                      exc_info=error)


def _move(device: Device, new_tenant) -> None:
    old_tenant_id = device.tenant_id
    if EntityView.objects.filter(tenant_id=old_tenant_id, entity_type="DEVICE", entity_id=device.pk).exists():
        raise ValidationError("Can't assign device that has entity views to another tenant!")
    if _name_taken(device, new_tenant):
        raise ValidationError(NAME_TAKEN)
    profile_name = device.profile.name
    profile, _ = DeviceProfile.objects.get_or_create(tenant=new_tenant, name=profile_name)
    relations.delete_all(device.pk)
    left = list(device.groups.only("pk")) if membership.listened("DEVICE") else []  # read only for a receiver
    device.groups.clear()
    membership.send(old_tenant_id, "DEVICE", membership.REMOVED, [(g.pk, device.pk) for g in left])
    device.tenant, device.customer, device.profile = new_tenant, None, profile
    device.firmware_id = device.software_id = None  # OTA packages are the old tenant's
    device.save()
    all_groups.join("DEVICE", [device])  # the new tenant's "All" group (devices/all_groups.py)
    DeviceCredentials.objects.filter(device=device).update(tenant=new_tenant)
    check_new_devices([device])
