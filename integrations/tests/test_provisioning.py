"""Auto-provisioning as ThingsBoard does it (reference section 7), and racing first messages."""

import threading

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from converters.models import DebugEvent
from converters.output import EntityUpdate
from devices.models import Asset, AssetProfile, Device, DeviceProfile, EntityGroup
from devices.provisioning import CreationForbidden, Provisioner
from integrations import pipeline
from integrations.models import DeadLetter
from integrations.tests.uplinks import converter, integration, json_uplink, values
from tbproject.testing.factories import make_customer, make_device, make_group
from tbproject.testing.telemetry import forget_tenant_telemetry
from tenants.limits import limits_of
from tenants.models import Customer, Tenant

ASSET_DECODER = r"""
var d = JSON.parse(String.fromCharCode.apply(String, payload));
return {assetName: d.name, assetType: d.type, customerName: d.customer, groupName: d.group,
        assetLabel: d.label, telemetry: {occupancy: d.n}};
"""


def _send(integ, **body):
    return pipeline.process([json_uplink(integ, body)])[0]


def test_it_creates_a_device_with_its_profile_customer_group_and_label(tenant):
    integ = integration(tenant)
    _send(integ, name="th-1", type="thermostat", customer="Acme", group="Floor 3", label="Room 301",
          telemetry={"t": 21})
    device = Device.objects.get(tenant=tenant, name="th-1")
    assert device.profile == DeviceProfile.objects.get(tenant=tenant, name="thermostat")
    assert device.customer == Customer.objects.get(tenant=tenant, title="Acme")
    group = EntityGroup.objects.get(tenant=tenant, name="Floor 3")
    assert group.type == "DEVICE" and list(group.devices.all()) == [device]
    assert device.label == "Room 301" and values(device) == {"t": 21}


def test_it_uses_existing_profiles_customers_and_groups(tenant):
    profile = DeviceProfile.objects.create(tenant=tenant, name="thermostat")
    customer = make_customer(tenant, "Acme")
    group = EntityGroup.objects.create(tenant=tenant, customer=customer, name="Floor 3", type="DEVICE")
    tenants_group = make_group(tenant, "Floor 3")  # the tenant's: not the customer's device's (its owner's only)
    _send(integration(tenant), name="th-1", type="thermostat", customer="Acme", group="Floor 3")
    device = Device.objects.get(name="th-1")
    assert (device.profile, device.customer, list(group.devices.all())) == (profile, customer, [device])
    assert not tenants_group.devices.exists()
    assert DeviceProfile.objects.filter(name="thermostat").count() == 1 and Customer.objects.count() == 1


def test_it_creates_assets_with_asset_profiles_and_asset_groups(tenant):
    integ = integration(tenant, converter(tenant, ASSET_DECODER))
    make_group(tenant, "Buildings", "DEVICE")  # same name, other type: not this one
    _send(integ, name="HQ", type="building", customer="Acme", group="Buildings", label="Head office", n=12)
    asset = Asset.objects.get(tenant=tenant, name="HQ")
    assert asset.profile == AssetProfile.objects.get(tenant=tenant, name="building")
    assert asset.customer.title == "Acme" and asset.label == "Head office" and values(asset) == {"occupancy": 12}
    group = EntityGroup.objects.get(tenant=tenant, name="Buildings", type="ASSET")
    assert list(group.assets.all()) == [asset]
    assert not DeviceProfile.objects.filter(name="building").exists()


def test_devices_and_assets_are_separate_namespaces(tenant):
    make_device(tenant, "HQ")
    _send(integration(tenant, converter(tenant, ASSET_DECODER)), name="HQ", type="building", n=1)
    assert Asset.objects.filter(name="HQ").exists() and Device.objects.filter(name="HQ").count() == 1


def test_it_never_changes_an_existing_entity(tenant):
    old_profile = DeviceProfile.objects.create(tenant=tenant, name="old")
    old_customer = make_customer(tenant, "Old Co")
    old_group = make_group(tenant, "Old group")
    device = make_device(tenant, "th-1", profile=old_profile, customer=old_customer, label="keep me")
    old_group.devices.add(device)
    version = device.version
    _send(integration(tenant), name="th-1", type="thermostat", customer="New Co", group="New group",
          label="new label", telemetry={"t": 1})
    device.refresh_from_db()
    assert (device.profile, device.customer, device.label, device.version) == (old_profile, old_customer, "keep me",
                                                                              version)
    assert list(device.groups.filter(group_all=False)) == [old_group]
    assert values(device) == {"t": 1}
    # nothing named only by the ignored fields was created either
    assert not Customer.objects.filter(title="New Co").exists()
    assert not EntityGroup.objects.filter(name="New group").exists()


def test_without_allow_create_unknown_entities_are_ignored_and_known_ones_stored(tenant):
    integ = integration(tenant, allow_create_devices_or_assets=False, debug_failures_enabled=True)
    known = make_device(tenant, "known")
    outcome = _send(integ, name="stranger", telemetry={"t": 1})
    assert outcome.status == pipeline.DROPPED and "Device 'stranger' does not exist" in outcome.error
    assert "allowCreateDevicesOrAssets is off" in outcome.error
    assert not Device.objects.filter(name="stranger").exists()
    assert not DeadLetter.objects.exists()  # a configuration choice, not a failure to replay
    [event] = DebugEvent.objects.filter(entity_id=integ.pk, event_type="DEBUG_INTEGRATION")
    assert event.is_error and event.body["error"] == outcome.error
    assert _send(integ, name="known", telemetry={"t": 2}).status == pipeline.OK
    assert values(known) == {"t": 2}


def test_a_message_naming_known_and_unknown_devices_stores_the_known_ones(tenant):
    decoder = r"""return [{deviceName: 'known', telemetry: {t: 1}}, {deviceName: 'stranger', telemetry: {t: 2}}];"""
    integ = integration(tenant, converter(tenant, decoder), allow_create_devices_or_assets=False)
    known = make_device(tenant, "known")
    [outcome] = pipeline.process([json_uplink(integ, {})])
    assert outcome.status == pipeline.OK
    assert values(known) == {"t": 1} and not Device.objects.filter(name="stranger").exists()


def test_the_provisioner_looks_known_entities_up_once_per_batch(tenant):
    for i in range(30):
        make_device(tenant, f"d{i}")
    provisioner = Provisioner(tenant.pk, allow_create=False)
    updates = [EntityUpdate("DEVICE", f"d{i % 30}", "default") for i in range(90)]
    with CaptureQueriesContext(connection) as queries:
        provisioner.prefetch(updates)
        found = [provisioner.entity(u) for u in updates]
    assert len(queries) == 1 and len({d.pk for d in found}) == 30
    with pytest.raises(CreationForbidden):
        provisioner.entity(EntityUpdate("DEVICE", "nobody", "default"))


# --- racing first messages ----------------------------------------------------------------------


@pytest.fixture
def racing_tenant(transactional_db):
    tenant = Tenant.objects.create(title="Racers")
    yield tenant
    forget_tenant_telemetry(tenant)


def test_parallel_first_messages_from_one_new_device_create_it_once(racing_tenant):
    integ = integration(racing_tenant)
    workers = 8
    barrier = threading.Barrier(workers)
    outcomes, errors = [], []

    def worker(i):
        try:
            barrier.wait()
            outcomes.extend(pipeline.process([json_uplink(integ, {
                "name": "new-1", "type": "fresh-profile", "customer": "Fresh Co", "group": "Fresh group",
                "telemetry": {"ts": 1_760_000_000_000 + i, "values": {"n": i}}})]))
        except Exception as exc:  # pragma: no cover - reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and [o.status for o in outcomes] == ["ok"] * workers
    [device] = Device.objects.filter(tenant=racing_tenant, name="new-1")
    assert DeviceProfile.objects.filter(tenant=racing_tenant, name="fresh-profile").count() == 1
    assert Customer.objects.filter(tenant=racing_tenant, title="Fresh Co").count() == 1
    [group] = EntityGroup.objects.filter(tenant=racing_tenant, name="Fresh group")
    assert list(group.devices.all()) == [device]
    assert device.profile.name == "fresh-profile" and device.customer.title == "Fresh Co"
    from devices.telemetry import history

    points = history(device.pk, ["n"], 1_760_000_000_000, 1_760_000_000_000 + workers, limit=100)["n"]
    assert sorted(v for _, v in points) == list(range(workers))
    assert not DeadLetter.objects.exists()


def test_new_entities_of_a_batch_are_created_with_one_insert_each_with_its_first_updates_details(tenant):
    from devices import known

    known.forget()
    updates = [EntityUpdate(entity_type="DEVICE", name=f"new-{i}", profile="meter", group="Meters" if i % 2 else None,
                            customer="Acme" if i == 3 else None, label=f"L{i}") for i in range(40)]
    updates.append(EntityUpdate(entity_type="DEVICE", name="new-0", profile="other"))  # later: changes nothing
    provisioner = Provisioner(tenant.pk, allow_create=True)
    limits_of(tenant.pk)  # the pipeline has read the tenant's limits (maxDevices among them) before it provisions
    with CaptureQueriesContext(connection) as ctx:
        provisioner.prefetch(updates)
    inserts = [q["sql"] for q in ctx.captured_queries
               if q["sql"].startswith("INSERT") and 'INTO "devices_device" ' in q["sql"]]
    # + 3: the new customer "Acme"'s default user groups, roles and group permissions (roles/customer_defaults.py);
    # + 5: new-3 joins Acme's own "Meters" (a group holds its owner's entities: its get_or_create and membership)
    # + 3: Acme's "All" groups; the batch joining its owners' "All" groups (one INSERT ... SELECT); whether the
    # tenant has OTA packages (a group package may reach them: read once per devices/ota/signals.TENANTS_TTL)
    # + 1: whether the tenant has a group assigned to an edge (edges/receivers.py: read once per TENANTS_TTL)
    assert len(inserts) == 1 and len(ctx.captured_queries) < 20 + 3 + 5 + 3 + 1
    assert {e.name for e in provisioner.created} == {f"new-{i}" for i in range(40)}
    with CaptureQueriesContext(connection) as ctx:
        refs = [provisioner.entity(u) for u in updates]
    assert ctx.captured_queries == [] and refs[-1] == refs[0]
    device = Device.objects.get(tenant=tenant, name="new-3")
    assert (device.profile.name, device.customer.title, device.label) == ("meter", "Acme", "L3")
    assert Device.objects.get(tenant=tenant, name="new-0").profile.name == "meter"
    group = EntityGroup.objects.get(tenant=tenant, customer=None, name="Meters")
    assert sorted(group.devices.values_list("name", flat=True)) == sorted(f"new-{i}" for i in range(1, 40, 2) if i != 3)
    # the customer's device joins its customer's "Meters" (devices/group_owners.py)
    assert list(EntityGroup.objects.get(customer=device.customer, name="Meters").devices.all()) == [device]


def test_a_batch_insert_that_fails_falls_back_to_one_by_one(tenant, monkeypatch):
    from django.db import DataError
    from django.db.models.query import QuerySet

    integ = integration(tenant)
    real = QuerySet.bulk_create

    def refuse(self, objs, *args, **kwargs):
        if self.model is Device:
            raise DataError("value too long for type character varying(255)")
        return real(self, objs, *args, **kwargs)

    monkeypatch.setattr(QuerySet, "bulk_create", refuse)
    outcomes = pipeline.process([json_uplink(integ, {"name": "fine-1", "group": "G", "telemetry": {"t": 1}}),
                                 json_uplink(integ, {"name": "fine-2", "telemetry": {"t": 3}})])
    assert [o.status for o in outcomes] == [pipeline.OK, pipeline.OK]
    assert values(Device.objects.get(tenant=tenant, name="fine-2")) == {"t": 3}
    assert list(EntityGroup.objects.get(tenant=tenant, name="G").devices.values_list("name", flat=True)) == ["fine-1"]
