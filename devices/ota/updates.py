"""Which package each device should run, and telling the devices whose package changed.

A device's package of a type is, as in ThingsBoard PE: its own (Device.firmware/software), else the
one assigned to a device group it is in (for the devices of the package's profile; the most recently
assigned when several of its groups have one), else its profile's.

When that changes, ThingsBoard's OTA state service tells the device through shared attributes and
tracks the update in telemetry; so does :func:`notify`, for any number of devices at once:

    telemetry  target_fw_title, target_fw_version, target_fw_tag, target_fw_ts, fw_state = QUEUED
    shared     fw_title, fw_version, fw_tag, fw_size, fw_checksum_algorithm, fw_checksum (fw_url for a
               package with an external URL): one batched upsert for all the devices, announced to
               attribute polls and sent to the rule engine (ATTRIBUTES_UPDATED) like any shared save
    telemetry  fw_state = INITIATED (one millisecond after QUEUED: this server does not pace the
               notifications as ThingsBoard's queue does, it initiates them at once)

``sw_*`` for software. A device left without a package loses those shared attributes. The device
then reports ``current_fw_title``/``current_fw_version`` and ``fw_state`` (DOWNLOADING, DOWNLOADED,
VERIFIED, UPDATING, UPDATED, FAILED) as ordinary telemetry.
"""

from django.db.models import Q

from devices import attribute_updates, services
from devices.attributes import save_attributes_many
from devices.choices import AttributeScope, OtaPackageType
from devices.models import Attribute, Device, DeviceGroupOtaPackage, DeviceProfile, OtaPackage
from devices.ota.packages import FIELDS
from devices.telemetry import Point, write_points
from tbproject.clock import now_ms

__all__ = ["effective", "state", "notify", "refresh", "snapshot", "tell_changed", "PREFIX", "ATTRIBUTE_SUFFIXES"]

PREFIX = {OtaPackageType.FIRMWARE: "fw", OtaPackageType.SOFTWARE: "sw"}
ATTRIBUTE_SUFFIXES = ("title", "version", "tag", "size", "checksum_algorithm", "checksum", "url")
SHARED = AttributeScope.SHARED_SCOPE


def effective(rows, ota_type: str) -> dict:
    """{device_id: package_id or None} for ``rows`` of (device_id, profile_id, own package_id): a few
    queries whatever their number."""
    rows = list(rows)
    result = {device_id: own for device_id, _, own in rows}
    open_rows = [(device_id, profile_id) for device_id, profile_id, own in rows if own is None]
    if not open_rows:
        return result
    ids = [device_id for device_id, _ in open_rows]
    through = Device.groups.through
    grouped = (DeviceGroupOtaPackage.objects.filter(ota_package_type=ota_type,
                                                    group_id__in=through.objects.filter(device_id__in=ids)
                                                    .values("entitygroup_id"))
               .values_list("group_id", "ota_package_id", "ota_package__device_profile_id", "ota_package_update_time"))
    by_group = {g: (pkg, prof, ts) for g, pkg, prof, ts in grouped}
    best: dict = {}
    if by_group:
        for device_id, group_id in through.objects.filter(device_id__in=ids, entitygroup_id__in=list(by_group)) \
                .values_list("device_id", "entitygroup_id"):
            pkg, prof, ts = by_group[group_id]
            best.setdefault(device_id, []).append((ts, prof, pkg))
    field = FIELDS[ota_type]
    profiles = dict(DeviceProfile.objects.filter(pk__in={p for _, p in open_rows})
                    .values_list("pk", f"{field}_id"))
    for device_id, profile_id in open_rows:
        fitting = sorted((c for c in best.get(device_id, ()) if c[1] == profile_id), key=lambda c: c[0])
        result[device_id] = fitting[-1][2] if fitting else profiles.get(profile_id)
    return result


def refresh(devices_query, change) -> int:
    """Run ``change()`` (a save that may move packages) and tell the devices of ``devices_query`` whose
    package changed; returns how many were told. Both states are computed in bulk."""
    before = snapshot(devices_query)
    change()
    return tell_changed(devices_query, before)


def snapshot(devices_query) -> dict:
    """{ota_type: {device_id: package_id}} of ``devices_query``: :func:`refresh`'s first half, for a change
    made elsewhere (a serializer's save); :func:`tell_changed` is the second."""
    return {ota_type: state(devices_query, ota_type) for ota_type in FIELDS}


def tell_changed(devices_query, before: dict) -> int:
    """Tell the devices of ``devices_query`` whose package is not the one in ``before`` (:func:`snapshot`)."""
    told = 0
    for ota_type in FIELDS:
        after = state(devices_query, ota_type)
        told += notify({d: pkg for d, pkg in after.items() if before[ota_type].get(d) != pkg}, ota_type)
    return told


def state(devices_query, ota_type: str) -> dict:
    field = FIELDS[ota_type]
    return effective(devices_query.values_list("pk", "profile_id", f"{field}_id"), ota_type)


def notify(changes: dict, ota_type: str) -> int:
    """Tell each device of ``changes`` ({device_id: new package_id or None}) its new package."""
    if not changes:
        return 0
    prefix = PREFIX[ota_type]
    packages = {p.pk: p for p in OtaPackage.objects.defer("data").filter(pk__in={v for v in changes.values() if v})}
    ts = now_ms()
    assigned = {d: packages[p] for d, p in changes.items() if p in packages}
    removed = [d for d in changes if d not in assigned]
    rows, points, saved = [], [], {}
    for device_id, package in assigned.items():
        values = _attributes(prefix, package)
        saved[device_id] = values
        rows += [(device_id, SHARED, key, value, ts) for key, value in values.items()]
        points += [Point(device_id, f"target_{prefix}_{k}", ts, v) for k, v in
                   (("title", package.title), ("version", package.package_version), ("tag", package.tag or None),
                    ("ts", ts)) if v is not None]
        points.append(Point(device_id, f"{prefix}_state", ts, "QUEUED"))
    tenants = {p.tenant_id for p in assigned.values()}  # the writes below are of assigned devices only
    tenant_id = tenants.pop() if len(tenants) == 1 else None
    if points:
        write_points(points, tenant_id=tenant_id)
    if rows:
        save_attributes_many(rows, keep_newer=False, tenant_id=tenant_id)
    if removed:
        _remove(removed, prefix)
    if assigned:
        write_points([Point(device_id, f"{prefix}_state", ts + 1, "INITIATED") for device_id in assigned],
                     tenant_id=tenant_id)
    _announce(saved)
    return len(changes)


def _attributes(prefix: str, package: OtaPackage) -> dict:
    values = {"title": package.title, "version": package.package_version, "tag": package.tag or None,
              "size": package.data_size, "checksum_algorithm": package.checksum_algorithm or None,
              "checksum": package.checksum or None, "url": package.url or None}
    return {f"{prefix}_{k}": v for k, v in values.items() if v is not None}


def _remove(device_ids: list, prefix: str) -> None:
    keys = [f"{prefix}_{suffix}" for suffix in ATTRIBUTE_SUFFIXES]
    gone: dict = {}
    query = Attribute.objects.filter(Q(entity_id__in=device_ids), scope=SHARED, key__in=keys)
    for entity_id, key in query.values_list("entity_id", "key"):
        gone.setdefault(entity_id, []).append(key)
    if gone:
        query.delete()
        attribute_updates.announce([(entity_id, {}, sorted(keys)) for entity_id, keys in gone.items()])


def _announce(saved: dict) -> None:
    """ATTRIBUTES_UPDATED for each device, as any shared save sends it; the rule engine's work for all
    of them is handed on once (devices.services.BATCHED)."""
    if not saved:
        return
    batched: dict = {}
    token = services.BATCHED.set(batched)
    try:
        for device in Device.objects.filter(pk__in=list(saved)).select_related("profile"):
            services.on_attributes_saved(device, SHARED, saved[device.pk])
    finally:
        services.BATCHED.reset(token)
    for flush, items in batched.items():
        flush(items)
