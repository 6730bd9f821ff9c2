"""A tenant's deletion in the background (tenants/deletion.py): a tenant of a few thousand devices
goes in batches with its telemetry, attributes and relations; an interrupted deletion is finished
by the next run; a stopped one is resumed by the periodic job; nothing else is touched."""

import pytest
from django.db import connection
from django.db.models.signals import post_delete

from devices import attributes, credentials
from devices.choices import AttributeScope
from devices.models import Asset, Attribute, Device, DeviceCredentials, DeviceProfile, EntityRelation
from devices.telemetry import write_points
from tbproject.clock import now_ms
from tbproject.testing.factories import default_profile, make_customer, make_device
from tenants import deletion, tasks
from tenants.models import Customer, Tenant, User

DEVICES, ASSETS, CUSTOMERS = 2500, 300, 20


def _relation(tenant, from_type, from_id, to_type, to_id, kind):
    return EntityRelation(tenant=tenant, from_type=from_type, from_id=from_id, to_type=to_type, to_id=to_id, type=kind)


def _ts_rows() -> tuple[int, int]:
    with connection.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM ts_kv")
        history = cur.fetchone()[0]
        cur.execute("SELECT COUNT(*) FROM ts_kv_latest")
        return history, cur.fetchone()[0]


@pytest.fixture
def big(tenant, tenant_admin):
    """``tenant`` with DEVICES devices, ASSETS assets, CUSTOMERS customers, telemetry and attributes
    of every device, relations between them; returns the entity ids."""
    customers = [make_customer(tenant, f"customer-{i}") for i in range(CUSTOMERS)]
    profile = default_profile(tenant, DeviceProfile)
    devices = Device.objects.bulk_create(
        Device(tenant=tenant, name=f"meter-{i}", profile=profile, customer=customers[i % CUSTOMERS] if i % 3 else None)
        for i in range(DEVICES))
    credentials.issue_access_tokens(devices)
    asset_profile = default_profile(tenant, Asset._meta.get_field("profile").related_model)
    assets = Asset.objects.bulk_create(Asset(tenant=tenant, name=f"building-{i}", profile=asset_profile)
                                       for i in range(ASSETS))
    write_points((d.pk, key, ts, value) for d in devices for key, ts, value in
                 (("temp", 1000, 21.5), ("temp", 2000, 22.0), ("state", 2000, "ok")))
    attributes.save_attributes_many((d.pk, AttributeScope.SERVER_SCOPE, "floor", i, 1000)
                                    for i, d in enumerate(devices))
    attributes.save_attributes(tenant.pk, AttributeScope.SERVER_SCOPE, {"plan": "gold"})
    EntityRelation.objects.bulk_create(
        [_relation(tenant, "ASSET", a.pk, "DEVICE", d.pk, "Contains") for a, d in zip(assets, devices, strict=False)]
        + [_relation(tenant, "CUSTOMER", customers[0].pk, "ASSET", a.pk, "Manages") for a in assets])
    return {"devices": [d.pk for d in devices], "assets": [a.pk for a in assets],
            "customers": [c.pk for c in customers]}


@pytest.fixture
def kept(other_tenant):
    """Another tenant's device with telemetry, an attribute and a relation: never touched."""
    device, other = make_device(other_tenant, "kept"), make_device(other_tenant, "kept-2")
    write_points([(device.pk, "temp", 1000, 1.0)])
    attributes.save_attributes(device.pk, AttributeScope.SERVER_SCOPE, {"floor": 1})
    _relation(other_tenant, "DEVICE", device.pk, "DEVICE", other.pk, "Contains").save()
    return device


def _assert_gone(tenant, ids: dict, kept: Device) -> None:
    assert not Tenant.objects.filter(pk=tenant.pk).exists()
    for model in (Device, Asset, Customer, User, DeviceCredentials, DeviceProfile, EntityRelation):
        assert not model.objects.filter(tenant_id=tenant.pk).exists(), model
    entity_ids = [*ids["devices"], *ids["assets"], *ids["customers"], tenant.pk]
    assert not Attribute.objects.filter(entity_id__in=entity_ids).exists()
    assert _ts_rows() == (1, 1)  # the kept device's only
    assert Device.objects.filter(pk=kept.pk).exists() and Attribute.objects.filter(entity_id=kept.pk).exists()
    assert EntityRelation.objects.filter(from_id=kept.pk).count() == 1


def _mark(tenant, capture) -> None:
    with capture() as queued:
        assert deletion.mark(tenant)
    # the task, once the mark commits; run by hand below (the others: caches of the apps above,
    # forgotten again on commit as tenant_marked asks)
    assert len([c for c in queued if getattr(c, "__qualname__", "").startswith("mark.")]) == 1


def test_it_deletes_a_tenant_of_thousands_of_devices_in_batches(big, kept, tenant, tenant_admin,
                                                                django_capture_on_commit_callbacks):
    assert _ts_rows() == (3 * DEVICES + 1, 2 * DEVICES + 1)
    _mark(tenant, django_capture_on_commit_callbacks)
    assert Tenant.objects.live().filter(pk=tenant.pk).count() == 0
    assert not User.objects.get(pk=tenant_admin.pk).is_active
    deleted = []

    def count(sender, instance, **kwargs):
        deleted.append(instance.pk)

    post_delete.connect(count, sender=Device, dispatch_uid="test.deleted")
    try:
        assert tasks.delete_tenant.delay(str(tenant.pk)).get() is True
    finally:
        post_delete.disconnect(sender=Device, dispatch_uid="test.deleted")
    assert len(deleted) == DEVICES
    _assert_gone(tenant, big, kept)
    assert deletion.run(tenant.pk) is True  # a redelivered message: nothing left to do


class _WorkerDied(Exception):
    pass


def test_a_deletion_interrupted_halfway_is_finished_by_the_next_run(big, kept, tenant,
                                                                    django_capture_on_commit_callbacks):
    _mark(tenant, django_capture_on_commit_callbacks)
    seen = []

    def die_in_the_second_batch(sender, instance, **kwargs):
        seen.append(instance.pk)
        if len(seen) == 1500:
            raise _WorkerDied()

    post_delete.connect(die_in_the_second_batch, sender=Device, dispatch_uid="test.dies")
    try:
        with pytest.raises(_WorkerDied):
            deletion.run(tenant.pk)
    finally:
        post_delete.disconnect(sender=Device, dispatch_uid="test.dies")
    # the first batch stayed deleted (its own transaction), the second was rolled back whole
    assert Device.objects.filter(tenant_id=tenant.pk).count() == DEVICES - 1000
    assert Attribute.objects.filter(entity_id__in=big["devices"]).count() == DEVICES - 1000
    assert Tenant.objects.filter(pk=tenant.pk, deleting_ts__isnull=False).exists()
    assert deletion.run(tenant.pk) is True
    _assert_gone(tenant, big, kept)


def test_a_slice_stops_after_its_time_and_the_next_one_goes_on(tenant, django_capture_on_commit_callbacks):
    for i in range(25):
        make_device(tenant, f"meter-{i}")
    _mark(tenant, django_capture_on_commit_callbacks)
    assert deletion.run(tenant.pk, batch=10, seconds=0) is False  # one batch, then out of time
    assert Device.objects.filter(tenant_id=tenant.pk).count() in (15, 25)  # the credentials' batch may go first
    slices = 1
    while not deletion.run(tenant.pk, batch=10, seconds=0):
        slices += 1
    assert slices > 3 and not Tenant.objects.filter(pk=tenant.pk).exists()
    assert not Device.objects.filter(tenant_id=tenant.pk).exists()


def test_the_periodic_job_resumes_a_stopped_deletion_only(tenant, other_tenant, django_capture_on_commit_callbacks):
    device = make_device(tenant, "meter")
    _mark(tenant, django_capture_on_commit_callbacks)
    _mark(other_tenant, django_capture_on_commit_callbacks)
    now = now_ms()
    Tenant.objects.filter(pk=tenant.pk).update(deleting_ts=now - deletion.STALE_MS - 1)  # its worker died
    Tenant.objects.filter(pk=other_tenant.pk).update(deleting_ts=now - 1000)  # still going
    assert deletion.resume_stale(now) == 1  # queued, and run here (eager)
    assert not Tenant.objects.filter(pk=tenant.pk).exists() and not Device.objects.filter(pk=device.pk).exists()
    assert Tenant.objects.filter(pk=other_tenant.pk).exists()
    assert tasks.resume_tenant_deletions() == 0


def test_a_tenant_not_marked_is_never_deleted(tenant):
    device = make_device(tenant, "meter")
    assert deletion.run(tenant.pk) is True
    assert Tenant.objects.filter(pk=tenant.pk).exists() and Device.objects.filter(pk=device.pk).exists()


def test_referencing_rows_go_before_the_rows_they_reference():
    order = [model._meta.label for model, _ in deletion.owned_models()]
    for first, then in (("devices.Device", "devices.DeviceProfile"), ("devices.Device", "tenants.Customer"),
                        ("integrations.Integration", "converters.Converter"), ("tenants.User", "tenants.Customer"),
                        ("devices.DeviceCredentials", "devices.Device")):
        assert order.index(first) < order.index(then), (first, then)
    assert all(field == "tenant" for _, field in deletion.owned_models())
