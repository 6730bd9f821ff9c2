"""Entity groups hold their owner's entities only (ThingsBoard PE; devices/group_owners.py): every path that adds
to a group refuses an entity of another owner; an owner change leaves the former owner's groups; the migration
removes the device, asset and entity view memberships older code let in (logging how many), leaving user groups
as they are."""

import importlib

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from converters.output import EntityUpdate
from devices.models import Device, EntityGroup, EntityView
from devices.provisioning import Provisioner
from rulechains.nodes.base import NodeContext, NodeError
from rulechains.tests.helpers import make_node, msg
from tbproject.testing.api import assert_error, assert_unchanged, snapshot
from tbproject.testing.factories import make_asset, make_customer, make_device, make_group
from tenants.choices import Authority
from tenants.models import User

MIGRATION = importlib.import_module("devices.migrations.0014_group_owner_memberships")
ADD_TO_GROUP = "org.thingsboard.rule.engine.action.TbAddToGroupNode"
ASSIGN = "org.thingsboard.rule.engine.action.TbAssignToCustomerNode"


def add(client, group, ids):
    return client.post(f"/api/entityGroup/{group.pk}/addEntities", [str(i) for i in ids], format="json")


def customer_group(customer, name="Theirs", group_type="DEVICE") -> EntityGroup:
    return EntityGroup.objects.create(tenant=customer.tenant, customer=customer, name=name, type=group_type)


def not_owned(entity, group) -> str:
    return f"Entity [{entity.pk}] is not owned by the owner of entity group [{group.name}]"


# --- rule 1: a group takes its owner's entities only -------------------------------------------------------------
def test_a_tenant_group_refuses_a_customers_device_and_adds_nothing(api, tenant, customer):
    group = make_group(tenant, "Meters")
    mine, theirs = make_device(tenant, "mine"), make_device(tenant, "theirs", customer=customer)
    assert_error(add(api, group, [mine.pk, theirs.pk]), 400, not_owned(theirs, group))
    assert not group.devices.exists()  # all or nothing
    assert add(api, group, [mine.pk]).status_code == 200
    assert list(group.devices.all()) == [mine]


def test_a_customers_group_refuses_the_tenants_and_another_customers_entities(api, tenant, customer):
    group = customer_group(customer, "Their assets", "ASSET")
    own = make_asset(tenant, "own", customer=customer)
    tenants = make_asset(tenant, "tenants")
    sibling = make_asset(tenant, "sibling's", customer=make_customer(tenant, "Sibling"))
    for foreign in (tenants, sibling):
        assert_error(add(api, group, [own.pk, foreign.pk]), 400, not_owned(foreign, group))
    assert not group.assets.exists()
    assert add(api, group, [own.pk]).status_code == 200


def test_a_tenant_user_group_refuses_a_customer_user(api, tenant, customer, customer_user, tenant_admin):
    group = make_group(tenant, "Operators", "USER")
    assert_error(add(api, group, [customer_user.pk]), 400, not_owned(customer_user, group))
    assert not group.users.exists()
    assert add(api, group, [tenant_admin.pk]).status_code == 200


def test_another_tenants_group_or_entity_is_not_found(api, mallory_api, tenant, other_tenant):
    mine, theirs = make_group(tenant, "Mine"), make_group(other_tenant, "Theirs")
    device, foreign = make_device(tenant, "d"), make_device(other_tenant, "f")
    assert_error(add(api, theirs, [device.pk]), 404)
    assert_error(add(api, mine, [foreign.pk]), 404)
    assert_error(add(mallory_api, mine, [device.pk]), 404)
    assert not mine.devices.exists() and not theirs.devices.exists()


def test_a_save_naming_a_group_of_another_owner_is_refused_and_rolled_back(api, tenant, customer):
    group = make_group(tenant, "Meters")
    body = {"name": "new", "type": "default", "customerId": {"entityType": "CUSTOMER", "id": str(customer.pk)}}
    res = api.post(f"/api/device?entityGroupId={group.pk}", body, format="json")
    assert_error(res, 400, "is not owned by the owner of entity group [Meters]")
    assert not Device.objects.filter(name="new").exists()
    theirs = customer_group(customer)
    res = api.post(f"/api/device?entityGroupId={theirs.pk}", body, format="json")
    assert res.status_code == 200, res.content
    assert list(theirs.devices.values_list("name", flat=True)) == ["new"]


def test_an_owner_change_naming_a_group_of_another_owner_is_refused(api, tenant, customer):
    device = make_device(tenant, "d")
    group = make_group(tenant, "Meters", members=[device])
    before = snapshot(device)
    res = api.post(f"/api/owner/CUSTOMER/{customer.pk}/DEVICE/{device.pk}", [str(group.pk)], format="json")
    assert_error(res, 400, not_owned(device, group))
    assert_unchanged(device, before)
    assert list(device.groups.filter(group_all=False)) == [group]  # nothing lost


def test_provisioning_puts_a_customers_new_device_in_its_customers_group(tenant, customer):
    tenants = make_group(tenant, "Floor 3")
    provisioner = Provisioner(tenant.pk, allow_create=True)
    updates = [EntityUpdate(entity_type="DEVICE", name="bulk", profile="p", customer=customer.title, group="Floor 3")]
    provisioner.prefetch(updates)  # the batched INSERT
    provisioner.entity(EntityUpdate(entity_type="DEVICE", name="single", profile="p", customer=customer.title,
                                    group="Floor 3"))
    provisioner.entity(EntityUpdate(entity_type="DEVICE", name="tenants", profile="p", group="Floor 3"))
    theirs = EntityGroup.objects.get(tenant=tenant, customer=customer, type="DEVICE", name="Floor 3")
    assert sorted(theirs.devices.values_list("name", flat=True)) == ["bulk", "single"]
    assert list(tenants.devices.values_list("name", flat=True)) == ["tenants"]


def test_the_add_to_group_node_works_in_the_originators_owners_groups(tenant, customer):
    theirs = make_device(tenant, "theirs", customer=customer)
    mine = make_device(tenant, "mine")
    tenants = make_group(tenant, "Fleet")
    node = make_node(tenant, ADD_TO_GROUP, groupNamePattern="Fleet", createGroupIfNotExists=True,
                     removeFromCurrentGroups=False, groupCacheExpiration=300)
    outs = node.process_batch(NodeContext(tenant.pk, 1_000), [msg(tenant, theirs), msg(tenant, mine)])
    assert [o.relation for [o] in outs] == ["Success", "Success"]
    assert list(tenants.devices.all()) == [mine]
    assert list(EntityGroup.objects.get(customer=customer, type="DEVICE", name="Fleet").devices.all()) == [theirs]
    with pytest.raises(NodeError, match="is not owned"):
        node.apply(theirs, tenants)  # a group read before an owner change
    assert list(tenants.devices.all()) == [mine]


# --- rule 2: an owner change leaves the former owner's groups ----------------------------------------------------
def test_an_owner_change_leaves_the_former_owners_groups_in_every_path(api, tenant, customer):
    device = make_device(tenant, "d")
    first, second = make_group(tenant, "First", members=[device]), make_group(tenant, "Second", members=[device])
    theirs = customer_group(customer)
    res = api.post(f"/api/owner/CUSTOMER/{customer.pk}/DEVICE/{device.pk}", [str(theirs.pk)], format="json")
    assert res.status_code == 200, res.content
    assert list(device.groups.filter(group_all=False)) == [theirs]
    # the new owner's "All" group and its entities, listed by the owner endpoints (devices/all_groups.py)
    assert device.groups.get(group_all=True).customer_id == customer.pk
    listed = api.get(f"/api/customer/{customer.pk}/devices", {"pageSize": 10, "page": 0}).json()["data"]
    assert [d["name"] for d in listed] == ["d"]
    # back to the tenant through the CE unassign: out of the customer's group
    assert api.delete(f"/api/customer/device/{device.pk}").status_code == 200
    assert list(device.groups.values_list("customer_id", "group_all")) == [(None, True)]  # the tenant's "All"
    # CE assign: out of the tenant's groups again
    first.devices.add(device)
    assert api.post(f"/api/customer/{customer.pk}/device/{device.pk}").status_code == 200
    assert list(device.groups.values_list("customer_id", "group_all")) == [(customer.pk, True)]
    assert not second.devices.exists()


def test_an_owner_change_by_saving_another_customer_leaves_the_groups(api, tenant, customer):
    asset = make_asset(tenant, "a", customer=customer)
    theirs = customer_group(customer, "Their assets", "ASSET")
    theirs.assets.add(asset)
    fetched = api.get(f"/api/asset/{asset.pk}").json()
    fetched["customerId"] = {"entityType": "CUSTOMER", "id": str(make_customer(tenant, "Next").pk)}
    assert api.post("/api/asset", fetched, format="json").status_code == 200
    assert not theirs.assets.exists()


def test_an_entity_view_moved_to_the_tenant_leaves_its_customers_groups(api, tenant, customer):
    device = make_device(tenant, "d")
    view = EntityView.objects.create(tenant=tenant, name="v", type="t", entity_type="DEVICE", entity_id=device.pk,
                                     customer=customer)
    theirs = customer_group(customer, "Views", "ENTITY_VIEW")
    theirs.entity_views.add(view)
    assert api.post(f"/api/owner/TENANT/{tenant.pk}/ENTITY_VIEW/{view.pk}").status_code == 200
    assert not theirs.entity_views.exists()


def test_the_assign_node_moves_the_device_out_of_the_tenants_groups(tenant, customer):
    device = make_device(tenant, "d")
    group = make_group(tenant, "Fleet", members=[device])
    node = make_node(tenant, ASSIGN, customerNamePattern=customer.title, createCustomerIfNotExists=False,
                     customerCacheExpiration=300)
    [[out]] = node.process_batch(NodeContext(tenant.pk, 1_000), [msg(tenant, device)])
    assert out.relation == "Success"
    assert not group.devices.exists()


def test_an_owner_change_of_another_tenants_entity_or_to_its_customer_is_not_found(api, mallory_api, tenant,
                                                                                   customer, other_tenant):
    device = make_device(tenant, "d")
    group = make_group(tenant, "G", members=[device])
    assert_error(mallory_api.post(f"/api/owner/CUSTOMER/{customer.pk}/DEVICE/{device.pk}"), 404)
    foreign = make_customer(other_tenant, "Foreign")
    assert_error(api.post(f"/api/owner/CUSTOMER/{foreign.pk}/DEVICE/{device.pk}"), 404)
    assert list(device.groups.filter(group_all=False)) == [group]


# --- rule 3: the migration -----------------------------------------------------------------------------------------
def _violations(tenant, customer, n: int):
    """``n`` customer devices in a tenant group and tenant devices in a customer group (older code's rows)."""
    tenants, theirs = make_group(tenant, f"T{n}"), customer_group(customer, f"C{n}")
    bad = [make_device(tenant, f"c{n}-{i}", customer=customer) for i in range(n)]
    strays = [make_device(tenant, f"t{n}-{i}") for i in range(n)]
    tenants.devices.add(*bad, *strays)
    theirs.devices.add(*bad, *strays)
    return tenants, theirs, bad, strays


def test_the_migration_removes_memberships_of_other_owners_and_is_idempotent(tenant, customer, customer_user,
                                                                              tenant_admin, caplog):
    tenants, theirs, bad, strays = _violations(tenant, customer, 2)
    signups = make_group(tenant, "Sign-ups", "USER")
    signups.users.add(customer_user)  # an older sign-up group: a customer user in a tenant user group, with grants
    all_of_customer = EntityGroup.objects.get(customer=customer, type="USER", name="All")
    all_of_customer.users.remove(customer_user)
    sibling = make_customer(tenant, "Sibling")
    asset = make_asset(tenant, "a", customer=sibling)
    customer_group(customer, "Assets", "ASSET").assets.add(asset)
    with caplog.at_level("WARNING", "devices.migrations"):
        MIGRATION.forward(apps, None)
    assert sorted(tenants.devices.values_list("name", flat=True)) == ["t2-0", "t2-1"]
    assert sorted(theirs.devices.values_list("name", flat=True)) == ["c2-0", "c2-1"]
    assert not asset.groups.filter(group_all=False).exists()  # its owner's "All" only
    assert signups.users.filter(pk=customer_user.pk).exists()  # user groups are left as they are
    logged = [r.getMessage() for r in caplog.records if r.name == "devices.migrations"]
    assert len(logged) == 2 and "removed 4 device memberships" in logged[0] and "removed 1 asset" in logged[1], logged
    caplog.clear()
    assert all_of_customer.users.filter(pk=customer_user.pk).exists()  # in its owner's "All" again
    rows = {rel: EntityGroup._meta.get_field(rel).remote_field.through.objects.count() for rel in ("devices", "users")}
    MIGRATION.forward(apps, None)  # again: nothing changes, nothing logged
    assert not [r for r in caplog.records if r.name == "devices.migrations"]
    assert rows == {rel: EntityGroup._meta.get_field(rel).remote_field.through.objects.count()
                    for rel in ("devices", "users")}


def _outside_all(tenant, customer, n: int) -> None:
    """``n`` customer users left out of their customer's "All" user group."""
    everyone = EntityGroup.objects.get(customer=customer, type="USER", name="All")
    for i in range(n):
        user = User.objects.create_user(f"u{n}-{i}@example.com", authority=Authority.CUSTOMER_USER, tenant=tenant,
                                        customer=customer)
        everyone.users.remove(user)


def test_the_migration_costs_the_same_queries_whatever_the_number_of_rows(tenant, customer):
    def run() -> int:
        with CaptureQueriesContext(connection) as ctx:
            MIGRATION.forward(apps, None)
        return len(ctx.captured_queries)

    _violations(tenant, customer, 1)
    _outside_all(tenant, customer, 1)
    few = run()
    _violations(tenant, customer, 12)
    _outside_all(tenant, customer, 12)
    assert run() == few
    assert not EntityGroup.objects.get(customer=customer, name="C12").devices.filter(customer=None).exists()
    assert EntityGroup.objects.get(customer=customer, type="USER", name="All").users.count() == 1 + 12


def test_a_device_leaving_a_group_with_an_ota_package_by_an_owner_change_is_told(api, tenant, customer):
    from devices.tests.ota_support import make_package, shared
    from tbproject.testing.factories import default_profile

    info = make_package(api, default_profile(tenant))
    device = make_device(tenant, "d")
    group = make_group(tenant, "Fleet", members=[device])
    body = {"groupId": {"entityType": "ENTITY_GROUP", "id": str(group.pk)}, "otaPackageType": "FIRMWARE",
            "otaPackageId": {"entityType": "OTA_PACKAGE", "id": info["id"]["id"]}}
    assert api.post("/api/deviceGroupOtaPackage", body, format="json").status_code == 200
    assert shared(device)["fw_title"] == "fw"
    assert api.post(f"/api/owner/CUSTOMER/{customer.pk}/DEVICE/{device.pk}").status_code == 200
    assert not group.devices.exists() and "fw_title" not in shared(device)


def test_the_admin_form_refuses_a_device_of_another_tenant_as_of_another_owner(sysadmin, tenant, other_tenant):
    from django.contrib import admin
    from django.test import RequestFactory

    group, foreign = make_group(tenant, "Meters"), make_device(other_tenant, "foreign")  # both the tenants' own
    request = RequestFactory().get("/")
    request.user = sysadmin  # offered every tenant's devices
    form_class = admin.site._registry[EntityGroup].get_form(request, group, change=True)
    form = form_class(data={"name": group.name, "type": group.type, "devices": [str(foreign.pk)],
                            "additional_info": "null"}, instance=group)
    assert not form.is_valid()
    assert not_owned(foreign, group) in form.errors["devices"], form.errors
    assert not group.devices.exists()
