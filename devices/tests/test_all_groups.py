"""ThingsBoard PE's "All" groups (devices/all_groups.py): one per owner and type of DEVICE, ASSET and ENTITY_VIEW,
holding every entity of its owner, kept on creation (one at a time and in provisioning batches), owner changes
and customer deletion; never renamed, deleted, nor changed by hand (400); read like any group by every reader."""

import importlib

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from converters.output import EntityUpdate
from devices import all_groups
from devices.models import Device, EntityGroup, EntityView
from devices.provisioning import Provisioner
from tbproject.testing.api import assert_error
from tbproject.testing.factories import make_asset, make_customer, make_device, make_group

MIGRATION = importlib.import_module("devices.migrations.0015_all_groups")


def all_of(tenant, customer=None, group_type="DEVICE") -> EntityGroup:
    return EntityGroup.objects.get(tenant=tenant, customer=customer, type=group_type, group_all=True)


def names(group) -> list[str]:
    return sorted(group.members.values_list("name", flat=True))


# --- creation of the groups -----------------------------------------------------------------------------------------
def test_it_gives_a_new_tenant_and_customer_their_all_groups(tenant, customer):
    for owner in (None, customer):
        groups = EntityGroup.objects.filter(tenant=tenant, customer=owner, group_all=True)
        assert sorted(groups.values_list("type", flat=True)) == ["ASSET", "DEVICE", "ENTITY_VIEW"]
        assert set(groups.values_list("name", flat=True)) == {"All"}


def test_the_migration_makes_them_for_existing_owners_and_fills_them(tenant, customer):
    mine, theirs = make_device(tenant, "mine"), make_device(tenant, "theirs", customer=customer)
    make_asset(tenant, "a", customer=customer)
    EntityGroup.objects.filter(group_all=True).delete()  # as before the migration
    own_all = make_group(tenant, "All", members=[mine])  # a user's own group of that name
    MIGRATION.forward(apps, None)
    own_all.refresh_from_db()
    assert (own_all.name, own_all.group_all, names(own_all)) == ("All (own)", False, ["mine"])
    assert names(all_of(tenant)) == ["mine"]
    assert names(all_of(tenant, customer)) == ["theirs"]
    assert names(all_of(tenant, customer, "ASSET")) == ["a"]
    assert theirs.groups.count() == 1
    MIGRATION.forward(apps, None)  # again: nothing changes
    assert EntityGroup.objects.filter(tenant=tenant, group_all=True).count() == 6
    assert names(all_of(tenant)) == ["mine"]


# --- membership -----------------------------------------------------------------------------------------------------
def test_a_new_entity_joins_its_owners_all_group(tenant, customer):
    device = make_device(tenant, "d")
    make_asset(tenant, "a", customer=customer)
    EntityView.objects.create(tenant=tenant, name="v", type="t", entity_type="DEVICE", entity_id=device.pk)
    assert names(all_of(tenant)) == ["d"]
    assert names(all_of(tenant, customer, "ASSET")) == ["a"]
    assert names(all_of(tenant, None, "ENTITY_VIEW")) == ["v"]
    assert not all_of(tenant, customer).devices.exists()


def test_an_owner_change_moves_it_between_all_groups(tenant, customer):
    device = make_device(tenant, "d")
    device.customer = customer
    device.save()
    assert (names(all_of(tenant)), names(all_of(tenant, customer))) == ([], ["d"])
    device.customer = None
    device.save()
    assert (names(all_of(tenant)), names(all_of(tenant, customer))) == (["d"], [])


def test_the_owner_api_moves_it_too(api, tenant, customer):
    device = make_device(tenant, "d")
    res = api.post(f"/api/owner/CUSTOMER/{customer.pk}/DEVICE/{device.pk}", [], format="json")
    assert res.status_code == 200, res.content
    assert list(device.groups.values_list("pk", flat=True)) == [all_of(tenant, customer).pk]


def test_a_deleted_entity_leaves_and_a_deleted_customers_entities_join_the_tenants(tenant, customer):
    gone, kept = make_device(tenant, "gone"), make_device(tenant, "kept", customer=customer)
    gone.delete()
    assert names(all_of(tenant)) == []
    customer.delete()  # its devices become the tenant's (SET_NULL)
    assert names(all_of(tenant)) == ["kept"]
    assert kept.groups.count() == 1


def batch(prefix: str, customer, size: int = 40) -> list:
    return [EntityUpdate(entity_type="DEVICE", name=f"{prefix}-{i}", profile="p",
                         customer=customer.title if i % 2 else None) for i in range(size)]


def test_provisioning_joins_a_batch_with_one_more_query(tenant, customer, monkeypatch):
    Provisioner(tenant.pk, allow_create=True).prefetch(batch("warm", customer, 2))  # profile and customer exist
    with CaptureQueriesContext(connection) as joined:
        Provisioner(tenant.pk, allow_create=True).prefetch(batch("n", customer))
    inserts = [q for q in joined.captured_queries if q["sql"].startswith('INSERT INTO "devices_entitygroup_devices"')]
    assert len(inserts) == 1
    monkeypatch.setattr(all_groups, "join", lambda *args, **kwargs: 0)
    with CaptureQueriesContext(connection) as without:
        Provisioner(tenant.pk, allow_create=True).prefetch(batch("m", customer))
    assert len(joined.captured_queries) == len(without.captured_queries) + 1
    assert len(names(all_of(tenant))) == 21 and len(names(all_of(tenant, customer))) == 21


def test_provisioning_one_at_a_time_and_by_group_name_all(tenant, customer):
    provisioner = Provisioner(tenant.pk, allow_create=True)
    provisioner.entity(EntityUpdate(entity_type="ASSET", name="one", profile="p", customer=customer.title,
                                    group="All"))
    assert names(all_of(tenant, customer, "ASSET")) == ["one"]  # its "All" group, once


# --- refusals -------------------------------------------------------------------------------------------------------
def test_it_refuses_renaming_deleting_adding_and_removing(api, tenant):
    device = make_device(tenant, "d")
    group = all_of(tenant)
    body = {"id": {"entityType": "ENTITY_GROUP", "id": str(group.pk)}, "name": "Everything", "type": "DEVICE"}
    assert_error(api.post("/api/entityGroup", body, format="json"), 400, "can't be renamed")
    assert_error(api.delete(f"/api/entityGroup/{group.pk}"), 400, "can't be deleted")
    ids = [str(device.pk)]
    assert_error(api.post(f"/api/entityGroup/{group.pk}/addEntities", ids, format="json"), 400, "can't be added")
    assert_error(api.post(f"/api/entityGroup/{group.pk}/deleteEntities", ids, format="json"), 400, "can't be removed")
    group.refresh_from_db()
    assert (group.name, names(group)) == ("All", ["d"])
    res = api.post("/api/entityGroup", {"name": "All", "type": "DEVICE"}, format="json")
    assert res.status_code == 400 and "already exists" in res.content.decode()


def test_the_remove_from_group_node_leaves_it(tenant):
    from rulechains.nodes.base import NodeContext
    from rulechains.tests.helpers import make_node, msg

    device = make_device(tenant, "d")
    node = make_node(tenant, "org.thingsboard.rule.engine.action.TbRemoveFromGroupNode", groupNamePattern="All",
                     groupCacheExpiration=300)
    [[out]] = node.process_batch(NodeContext(tenant.pk, 1_000), [msg(tenant, device)])
    assert out.relation == "Success"
    assert names(all_of(tenant)) == ["d"]


# --- reading it -----------------------------------------------------------------------------------------------------
def test_the_all_endpoint_returns_the_group(api, tenant, customer):
    make_device(tenant, "d")
    for owner_type, owner, group in (("TENANT", tenant, all_of(tenant)), ("CUSTOMER", customer,
                                                                          all_of(tenant, customer))):
        res = api.get(f"/api/entityGroup/all/{owner_type}/{owner.pk}/DEVICE")
        assert res.status_code == 200, res.content
        body = res.json()
        assert (body["id"]["id"], body["name"], body["groupAll"]) == (str(group.pk), "All", True)
    res = api.get(f"/api/entityGroup/all/TENANT/{tenant.pk}/USER")
    assert res.json()["name"] == "All" and res.json()["groupAll"] is True
    entities = api.get(f"/api/entityGroup/{all_of(tenant).pk}/entities?pageSize=10&page=0").json()
    assert [e["name"] for e in entities["data"]] == ["d"]


def test_another_tenants_owner_is_not_found(api, tenant, other_tenant):
    theirs = make_customer(other_tenant, "x")
    assert_error(api.get(f"/api/entityGroup/all/TENANT/{other_tenant.pk}/DEVICE"), 404)
    assert_error(api.get(f"/api/entityGroup/all/CUSTOMER/{theirs.pk}/DEVICE"), 404)
    assert_error(api.get(f"/api/entityGroup/{all_of(other_tenant).pk}"), 404)
    assert_error(api.get(f"/api/entityGroup/all/TENANT/{tenant.pk}/NOPE"), 400)


def test_a_customer_user_sees_its_customers_all_group_not_the_tenants(customer_api, tenant, customer):
    make_device(tenant, "mine"), make_device(tenant, "theirs", customer=customer)
    res = customer_api.get(f"/api/entityGroup/all/CUSTOMER/{customer.pk}/DEVICE")
    assert res.status_code == 200 and res.json()["groupAll"] is True
    assert_error(customer_api.get(f"/api/entityGroup/all/TENANT/{tenant.pk}/DEVICE"), 404)
    entities = customer_api.get(f"/api/entityGroup/{res.json()['id']['id']}/entities?pageSize=10&page=0").json()
    assert [e["name"] for e in entities["data"]] == ["theirs"]


@pytest.mark.parametrize("path", ["/api/entityGroups/DEVICE?pageSize=10&page=0&sortProperty=name&sortOrder=DESC",
                                  "/api/entityGroups/DEVICE/all", "/api/entityGroups/TENANT/{t}/DEVICE/all",
                                  "/api/entityGroups/TENANT/{t}/DEVICE?pageSize=10&page=0"])
def test_group_lists_show_it_first(api, tenant, path):
    make_group(tenant, "Alpha"), make_group(tenant, "Zulu")
    body = api.get(path.format(t=tenant.pk)).json()
    rows = body["data"] if isinstance(body, dict) else body
    assert rows[0]["name"] == "All" and rows[0]["groupAll"] is True
    assert [r["groupAll"] for r in rows[1:]] == [False, False]


def test_the_entity_group_query_filter_reads_its_members(api, tenant, customer):
    make_device(tenant, "mine"), make_device(tenant, "theirs", customer=customer)
    query = {"entityFilter": {"type": "entityGroup", "groupType": "DEVICE", "entityGroup": str(all_of(tenant).pk)},
             "pageLink": {"pageSize": 10, "page": 0},
             "entityFields": [{"type": "ENTITY_FIELD", "key": "name"}]}
    res = api.post("/api/entitiesQuery/find", query, format="json")
    assert res.status_code == 200, res.content
    assert [e["latest"]["ENTITY_FIELD"]["name"]["value"] for e in res.json()["data"]] == ["mine"]


def test_a_role_on_a_customers_all_group_grants_its_devices(tenant, customer):
    from roles.models import GroupPermission, Role
    from tbproject.testing.fixtures import api_as
    from tenants.choices import Authority
    from tenants.models import User

    theirs, other = make_device(tenant, "theirs", customer=customer), make_device(tenant, "other")
    partner = make_customer(tenant, "Partner")
    user = User.objects.create_user("reader@example.com", "pw-Secret-123", authority=Authority.CUSTOMER_USER,
                                    tenant=tenant, customer=partner)
    client = api_as(user)
    assert_error(client.get(f"/api/device/{theirs.pk}"), 404)
    readers = EntityGroup.objects.get(customer=partner, type="USER", name="Customer Users")
    role = Role.objects.get(tenant=tenant, name="Entity Group Read-only User")
    GroupPermission.objects.create(tenant=tenant, user_group=readers, role=role, entity_group=all_of(tenant, customer))
    assert client.get(f"/api/device/{theirs.pk}").json()["name"] == "theirs"
    assert_error(client.get(f"/api/device/{other.pk}"), 404)
    later = make_device(tenant, "later", customer=customer)  # a new device of that customer: seen at once
    assert client.get(f"/api/device/{later.pk}").status_code == 200


def test_join_is_idempotent_and_skips_other_types(tenant):
    device = make_device(tenant, "d")
    assert all_groups.join("DEVICE", [device]) == 0
    assert all_groups.join("DASHBOARD", [device]) == 0
    assert Device.groups.through.objects.filter(device=device).count() == 1


def test_a_package_on_the_all_group_reaches_new_and_moved_in_devices(api, tenant, customer):
    from devices.tests.ota_support import make_package, shared
    from tbproject.testing.factories import default_profile

    profile = default_profile(tenant)
    info = make_package(api, profile, b"\x7fELF" + bytes(range(100)), title="fw-all")
    body = {"groupId": {"id": str(all_of(tenant).pk)}, "otaPackageType": "FIRMWARE",
            "otaPackageId": {"entityType": "OTA_PACKAGE", "id": info["id"]["id"]}}
    assert api.post("/api/deviceGroupOtaPackage", body, format="json").status_code == 200
    existing = make_device(tenant, "existing")
    assert shared(existing).get("fw_title") == "fw-all"  # one at a time
    Provisioner(tenant.pk, allow_create=True).prefetch([EntityUpdate(entity_type="DEVICE", name="bulk", profile=
                                                                     profile.name)])
    assert shared(Device.objects.get(name="bulk")).get("fw_title") == "fw-all"  # in a provisioning batch
    theirs = make_device(tenant, "theirs", customer=customer)
    assert "fw_title" not in shared(theirs)
    theirs.customer = None
    theirs.save()  # moved into the tenant's "All" group
    assert shared(theirs).get("fw_title") == "fw-all"
    existing.customer = customer
    existing.save()  # out of it: told it has none
    assert "fw_title" not in shared(existing)
