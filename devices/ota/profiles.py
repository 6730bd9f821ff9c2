"""A device profile's firmware/software changed: tell its devices that follow it (those without a
package of their own or of a group), in bulk, around the profile's save (devices/api/profiles.py
and the admin)."""

from devices.models import Device, DeviceProfile
from devices.ota import updates
from devices.ota.packages import FIELDS

__all__ = ["ota_state_before", "ota_state_changed"]


def ota_state_before(serializer) -> dict | None:
    """Before a profile's save: its devices' packages, when the save moves the profile's packages."""
    instance: DeviceProfile | None = serializer.instance
    if instance is None:
        return None  # a new profile has no devices
    data = serializer.validated_data
    fields = [f"{field}_id" for field in FIELDS.values()]
    if all(data.get(f, getattr(instance, f)) == getattr(instance, f) for f in fields):
        return None
    return updates.snapshot(Device.objects.filter(profile_id=instance.pk))


def ota_state_changed(profile: DeviceProfile, before: dict | None) -> int:
    """After it: tell the devices whose package is another now (devices/ota/updates.py); how many were told."""
    if before is None:
        return 0
    return updates.tell_changed(Device.objects.filter(profile_id=profile.pk), before)
