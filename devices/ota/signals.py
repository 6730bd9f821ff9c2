"""Saves that may change a device's package: a device saved with another profile or package, or
created with a profile that has one (post_save, from whatever path: REST API, admin, provisioning;
:func:`devices_created` for bulk creations), a device put into or taken out of a group that has one
(:func:`change_members`, called where devices/ changes members: the group and owner endpoints, entity
saves with ``entityGroupId``, provisioning, the admin; :func:`change_members_fresh` where the group may
have been read a while ago: the rule engine's group nodes). Profile and group assignments go through
:func:`devices.ota.updates.refresh` where they are made (devices/api/profiles.py, devices/api/ota_groups.py,
the admin).

A new device costs no query here when its tenant has no OTA package at all (:func:`tenant_has_packages`, a
process cache forgotten when a package is saved or deleted in this process, kept ``TENANTS_TTL`` seconds
elsewhere), and one (its profile's firmware and software) otherwise."""

from django.db.models.signals import post_delete, post_save

from devices import membership
from devices.models import Device, DeviceGroupOtaPackage, DeviceProfile, EntityGroup, OtaPackage
from devices.ota import updates
from devices.ota.packages import FIELDS
from tbproject.process_cache import ProcessCache

__all__ = ["device_saved", "devices_created", "change_members", "change_members_fresh", "group_package_changed",
           "tenant_has_packages", "tenant_has_group_packages", "forget_tenants", "TENANTS_TTL"]

#: seconds this process trusts what it read of whether a tenant has OTA packages (another process may add
#: the tenant's first one; a package saved or deleted here is forgotten at once)
TENANTS_TTL = 5.0
_TENANTS = ProcessCache(10_000)
_GROUPED = ProcessCache(10_000)  # tenant id -> whether a device group of it has a package (as _TENANTS)


def tenant_has_packages(tenant_id) -> bool:
    """Whether the tenant has any OTA package (only then may a profile of it have one)."""
    return _TENANTS.get_or_load(tenant_id, lambda: OtaPackage.objects.filter(tenant_id=tenant_id).exists(),
                                TENANTS_TTL)


def tenant_has_group_packages(tenant_id) -> bool:
    """Whether a device group of the tenant has an OTA package (no query for a tenant without packages)."""
    return tenant_has_packages(tenant_id) and _GROUPED.get_or_load(
        tenant_id, lambda: DeviceGroupOtaPackage.objects.filter(tenant_id=tenant_id).exists(), TENANTS_TTL)


def forget_tenants(*args, **kwargs) -> None:
    """A package was saved or deleted (a signal receiver): now and when the transaction commits."""
    _TENANTS.forget_now_and_on_commit()


def device_saved(sender, instance: Device, created: bool, raw: bool = False, **kwargs) -> None:
    if raw:
        return
    now = (instance.profile_id, instance.firmware_id, instance.software_id)
    loaded = getattr(instance, "_ota_loaded", None)
    instance._ota_loaded = now
    if created:
        _created(instance)
        return
    if loaded is None or loaded == now:
        return  # nothing that decides its package moved (or a row saved blind: nothing known to compare)
    for index, ota_type in enumerate(FIELDS, start=1):
        before = updates.effective([(instance.pk, loaded[0], loaded[index])], ota_type)[instance.pk]
        after = updates.effective([(instance.pk, now[0], now[index])], ota_type)[instance.pk]
        if before != after:
            updates.notify({instance.pk: after}, ota_type)


def _created(device: Device) -> None:
    devices_created([device])


def devices_created(devices) -> None:
    """New devices (post_save, and those made by ``bulk_create``, which sends none: devices/provisioning.py):
    each gets its own package, else one of its groups' (provisioning puts a batch in their owners' "All" groups
    first; a device saved alone joins its "All" group after this, and is told there: devices/all_groups.join),
    else its profile's; those with one are told, in bulk."""
    devices = list(devices)
    profiles = _profile_packages(devices)
    grouped = _group_packages(devices)
    for ota_type, field in FIELDS.items():
        packages = {d.pk: getattr(d, f"{field}_id") or grouped.get((d.pk, ota_type))
                    or profiles.get(d.profile_id, {}).get(field) for d in devices}
        updates.notify({d: p for d, p in packages.items() if p is not None}, ota_type)


def _group_packages(devices: list) -> dict:
    """{(device id, ota type): package id} from the groups the new ``devices`` are in (their owner's "All"), for
    the devices of the package's profile; no query for a tenant without packages, one without a group package."""
    ids = [d.pk for d in devices if tenant_has_group_packages(d.tenant_id)]
    if not ids:
        return {}
    held = "entitygroup__ota_packages__"  # the packages of the groups the devices are in: one query
    rows = Device.groups.through.objects.filter(device_id__in=ids, **{f"{held}isnull": False}).values_list(
        "device_id", f"{held}ota_package_type", f"{held}ota_package_id", f"{held}ota_package__device_profile_id",
        f"{held}ota_package_update_time")
    profiles = {d.pk: d.profile_id for d in devices}
    found: dict = {}
    for device_id, ota_type, package, profile, ts in rows:
        if profile == profiles.get(device_id):
            best = found.get((device_id, ota_type))
            if best is None or ts > best[0]:
                found[(device_id, ota_type)] = (ts, package)
    return {key: package for key, (_, package) in found.items()}


def _profile_packages(devices: list) -> dict:
    """{profile id: {field: package id}} of the profiles whose packages the new ``devices`` may follow: from the
    profile rows that came with them, else one query; none for a tenant without packages."""
    found, missing = {}, set()
    for device in devices:
        if device.profile_id is None or all(getattr(device, f"{field}_id") for field in FIELDS.values()):
            continue
        if Device.profile.is_cached(device) and device.profile is not None:
            found[device.profile_id] = {field: getattr(device.profile, f"{field}_id") for field in FIELDS.values()}
        elif tenant_has_packages(device.tenant_id):
            missing.add(device.profile_id)
    columns = [f"{field}_id" for field in FIELDS.values()]
    for pk, *ids in DeviceProfile.objects.filter(pk__in=missing - set(found)).values_list("pk", *columns) \
            if missing - set(found) else ():
        found[pk] = dict(zip(FIELDS.values(), ids, strict=True))
    return found


def change_members(group: EntityGroup, entities, change, *, action: str | None = None, known: bool = False) -> None:
    """Run ``change()`` (an add or a removal of ``entities`` in ``group``) and tell the devices whose
    package it changed. A group without a package (``ota_assigned`` as loaded) costs nothing: no
    m2m_changed receiver is used, because any receiver makes Django read the existing members before
    every add to any group (integrations add members on every uplink batch). The pairs that changed are
    sent as devices/membership.py's ``group_members_changed`` (``action``, ``known``: as its ``track``)."""
    def tracked() -> None:
        membership.track([group], entities, change, action=action, known=known)

    if group.type != "DEVICE" or not group.ota_assigned:
        tracked()
        return
    updates.refresh(Device.objects.filter(pk__in=[e.pk for e in entities]), tracked)


def change_members_fresh(groups, entities, change, *, action: str | None = None, known: bool = False) -> None:
    """:func:`change_members` for ``change()`` adding ``entities`` to, or removing them from, any of ``groups``
    read a while ago (a cache): whether one of them has a package is read again (one query, device groups only)."""
    def tracked() -> None:
        membership.track(groups, entities, change, action=action, known=known)

    ids = [g.pk for g in groups if g.type == "DEVICE"]
    if ids and EntityGroup.objects.filter(pk__in=ids, ota_assigned=True).exists():
        updates.refresh(Device.objects.filter(pk__in=[e.pk for e in entities]), tracked)
        return
    tracked()


def group_package_changed(sender, instance: DeviceGroupOtaPackage, raw: bool = False, **kwargs) -> None:
    """Keeps EntityGroup.ota_assigned true while the group has a package."""
    if raw:
        return
    _GROUPED.forget_now_and_on_commit()
    has = DeviceGroupOtaPackage.objects.filter(group_id=instance.group_id).exists()
    EntityGroup.objects.filter(pk=instance.group_id).update(ota_assigned=has)


post_save.connect(device_saved, sender=Device, dispatch_uid="devices.ota.device_saved")
post_save.connect(group_package_changed, sender=DeviceGroupOtaPackage, dispatch_uid="devices.ota.group_saved")
post_delete.connect(group_package_changed, sender=DeviceGroupOtaPackage, dispatch_uid="devices.ota.group_deleted")
post_save.connect(forget_tenants, sender=OtaPackage, dispatch_uid="devices.ota.package_saved")
post_delete.connect(forget_tenants, sender=OtaPackage, dispatch_uid="devices.ota.package_deleted")
