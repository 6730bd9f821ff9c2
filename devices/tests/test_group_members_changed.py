"""devices.membership.group_members_changed: the one event for entity-group membership changes, sent with the
(group id, entity id) pairs that changed from every path that changes members (the group endpoints, provisioning,
owner changes, the "All" groups' joins), and costing nothing when no receiver listens; a deleted customer's
entities join the tenant's "All" groups at a cost that does not grow with the tenant's other entities; the
migration of the "All" groups goes back."""

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from converters.output import EntityUpdate
from devices.membership import group_members_changed
from devices.models import Device, EntityGroup
from devices.ota.signals import change_members
from devices.provisioning import Provisioner
from tbproject.testing.factories import make_customer, make_device, make_group

MIGRATION = importlib.import_module("devices.migrations.0015_all_groups")


def all_of(tenant, customer=None, group_type="DEVICE") -> EntityGroup:
    return EntityGroup.objects.get(tenant=tenant, customer=customer, type=group_type, group_all=True)


@pytest.fixture
def heard():
    events = []

    def receiver(sender, tenant_id, group_type, action, pairs, **kwargs):
        events.append((sender, tenant_id, group_type, action, sorted(pairs)))

    group_members_changed.connect(receiver, dispatch_uid="tests.heard")
    yield events
    group_members_changed.disconnect(dispatch_uid="tests.heard")


def test_the_api_add_and_removal_send_the_pairs_that_changed(api, tenant, heard):
    one, two, three = make_device(tenant, "one"), make_device(tenant, "two"), make_device(tenant, "three")
    group = make_group(tenant, "G", members=[one])
    heard.clear()
    res = api.post(f"/api/entityGroup/{group.pk}/addEntities", [str(one.pk), str(two.pk)], format="json")
    assert res.status_code == 200, res.content
    assert heard == [(Device, tenant.pk, "DEVICE", "added", [(group.pk, two.pk)])]  # "one" was there already
    heard.clear()
    res = api.post(f"/api/entityGroup/{group.pk}/deleteEntities", [str(two.pk), str(three.pk)], format="json")
    assert res.status_code == 200, res.content
    assert heard == [(Device, tenant.pk, "DEVICE", "removed", [(group.pk, two.pk)])]  # "three" was not in it


def test_a_provisioning_batch_sends_its_all_groups_and_named_groups(tenant, customer, heard):
    make_group(tenant, "Meters")
    updates = [EntityUpdate(entity_type="DEVICE", name=f"n-{i}", profile="p", group="Meters" if i < 2 else None,
                            customer=customer.title if i % 2 else None) for i in range(4)]
    Provisioner(tenant.pk, allow_create=True).prefetch(updates)
    ids = {d.name: d.pk for d in Device.objects.filter(tenant=tenant)}
    added = sorted(p for sender, t, kind, action, pairs in heard if action == "added" for p in pairs)
    assert {(sender, t, kind) for sender, t, kind, _, _ in heard} == {(Device, tenant.pk, "DEVICE")}
    meters = {g.customer_id: g.pk for g in EntityGroup.objects.filter(name="Meters")}
    expected = [(all_of(tenant).pk, ids["n-0"]), (all_of(tenant).pk, ids["n-2"]),
                (all_of(tenant, customer).pk, ids["n-1"]), (all_of(tenant, customer).pk, ids["n-3"]),
                (meters[None], ids["n-0"]), (meters[customer.pk], ids["n-1"])]
    assert added == sorted(expected)
    assert [action for *_, action, _ in heard] == ["added"] * len(heard)


def test_one_entity_created_and_moved_between_owners(tenant, customer, heard):
    device = make_device(tenant, "d")
    group = make_group(tenant, "G", members=[device])
    assert heard[0] == (Device, tenant.pk, "DEVICE", "added", [(all_of(tenant).pk, device.pk)])
    heard.clear()
    device.customer = customer
    device.save()
    assert heard == [(Device, tenant.pk, "DEVICE", "removed", sorted([(all_of(tenant).pk, device.pk),
                                                                        (group.pk, device.pk)])),
                     (Device, tenant.pk, "DEVICE", "added", [(all_of(tenant, customer).pk, device.pk)])]


def test_a_device_moved_to_another_tenant_leaves_its_groups_and_joins_the_new_all(tenant, other_tenant, heard):
    from devices.tenant_assign import assign_to_tenant

    device = make_device(tenant, "d")
    group = make_group(tenant, "G", members=[device])
    heard.clear()
    assign_to_tenant(device, other_tenant)
    assert heard == [(Device, tenant.pk, "DEVICE", "removed", sorted([(all_of(tenant).pk, device.pk),
                                                                        (group.pk, device.pk)])),
                     (Device, other_tenant.pk, "DEVICE", "added", [(all_of(other_tenant).pk, device.pk)])]


def test_a_deleted_customers_entities_are_sent_joining_the_tenants_all(tenant, customer, heard):
    kept = make_device(tenant, "kept", customer=customer)
    heard.clear()
    customer.delete()
    assert heard == [(Device, tenant.pk, "DEVICE", "added", [(all_of(tenant).pk, kept.pk)])]


def test_no_receiver_costs_no_query(tenant, monkeypatch):
    monkeypatch.setattr(group_members_changed, "receivers", [])  # none, whatever apps subscribe
    group = make_group(tenant, "G")
    one, two = make_device(tenant, "one"), make_device(tenant, "two")
    with CaptureQueriesContext(connection) as plain:
        group.members.add(one)
    with CaptureQueriesContext(connection) as changed:
        change_members(group, [two], lambda: group.members.add(two), action="added")
    assert len(changed.captured_queries) == len(plain.captured_queries)
    with CaptureQueriesContext(connection) as created:
        make_device(tenant, "three")
    assert not any("RETURNING" in q["sql"] and "entitygroup_devices" in q["sql"] for q in created.captured_queries)


# --- a deleted customer's entities ----------------------------------------------------------------------------------
def test_a_deleted_customers_entities_join_without_reading_the_tenants_others(tenant):
    def delete_a_customer(others: int) -> list:
        customer = make_customer(tenant, f"C{others}")
        make_device(tenant, f"kept-{others}", customer=customer)
        for i in range(others):
            make_device(tenant, f"other-{others}-{i}")
        with CaptureQueriesContext(connection) as ctx:
            customer.delete()
        return [q["sql"] for q in ctx.captured_queries]

    few, many = delete_a_customer(1), delete_a_customer(30)
    assert len(few) == len(many)
    stray = make_device(tenant, "stray")
    Device.groups.through.objects.filter(device=stray).delete()  # not in its "All" group (as a raw insert leaves it)
    delete_a_customer(0)
    assert not stray.groups.exists()  # only the deleted customer's entities were joined
    assert Device.objects.get(name="kept-0").groups.get().pk == all_of(tenant).pk


# --- the migration going back ---------------------------------------------------------------------------------------
def test_the_migration_goes_back_by_deleting_the_all_groups(tenant, customer):
    device = make_device(tenant, "d")
    own = make_group(tenant, "Mine", members=[device])
    [run] = [op for op in MIGRATION.Migration.operations if hasattr(op, "reverse_code")]
    assert run.reversible and run.reverse_code is MIGRATION.backward
    editor = SimpleNamespace(connection=connection, execute=lambda sql: connection.cursor().execute(sql))
    MIGRATION.backward(apps, editor)
    assert not EntityGroup.objects.filter(group_all=True).exists()
    assert list(EntityGroup.objects.filter(type="DEVICE").values_list("name", flat=True)) == ["Mine"]
    assert list(own.devices.all()) == [device]
    MIGRATION.forward(apps, None)  # forward again: the groups are back, nobody's group renamed "All (own)"
    assert not EntityGroup.objects.filter(name__startswith="All (own").exists()
    assert list(all_of(tenant).devices.all()) == [device]


def test_the_admins_group_form_sends_what_it_changed(client, tenant_admin, tenant, heard):
    one, two = make_device(tenant, "one"), make_device(tenant, "two")
    group = make_group(tenant, "G", members=[one])
    heard.clear()
    client.force_login(tenant_admin)
    form = {"name": "G", "type": "DEVICE", "description": "", "devices": [str(two.pk)], "additional_info": "{}"}
    res = client.post(f"/admin/devices/entitygroup/{group.pk}/change/", form)
    assert res.status_code == 302, res.content.decode()[:2000]
    assert heard == [(Device, tenant.pk, "DEVICE", "removed", [(group.pk, one.pk)]),
                     (Device, tenant.pk, "DEVICE", "added", [(group.pk, two.pk)])]
