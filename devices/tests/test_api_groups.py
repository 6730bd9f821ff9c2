import pytest
from tb_pe_client.models import EntityGroupInfo, PageDataEntityGroupInfo, PageDataEntityInfo, PageDataShortEntityView

from devices.models import Device, EntityGroup
from devices.tests.family import BAD_PAGING
from tbproject.testing.api import assert_error, assert_isolated, assert_unchanged, page_names, snapshot
from tbproject.testing.factories import make_asset, make_customer, make_device, make_group
from tbproject.testing.fixtures import api_as


def save(client, body):
    return client.post("/api/entityGroup", body, format="json")


def add(client, group, ids, action="addEntities"):
    return client.post(f"/api/entityGroup/{group.pk}/{action}", [str(i) for i in ids], format="json")


def members(group):
    return sorted(m.name for m in group.members.all())


# --- save -------------------------------------------------------------------------------------
def test_it_creates_a_group_and_answers_entity_group_info(api, tenant):
    res = save(api, {"name": "Meters", "type": "DEVICE", "additionalInfo": {"description": "all meters"}})
    assert res.status_code == 200, res.content
    body = res.json()
    info = EntityGroupInfo.from_dict(body)
    assert (info.name, info.type, info.group_all) == ("Meters", "DEVICE", False)
    tenant_id = {"entityType": "TENANT", "id": str(tenant.pk)}
    assert body["ownerId"] == tenant_id and body["ownerIds"] == [tenant_id]
    assert body["id"]["entityType"] == "ENTITY_GROUP"
    assert EntityGroup.objects.exclude(type="USER").get(group_all=False).description == "all meters"


def test_it_round_trips_a_fetched_group_and_refuses_a_type_change(api, tenant):
    group = make_group(tenant, "Meters")
    fetched = api.get(f"/api/entityGroup/{group.pk}").json()
    posted = EntityGroupInfo.from_dict(fetched).to_dict()
    posted.update(name="Water meters", version=40, createdTime=0)
    body = save(api, posted).json()
    assert body["name"] == "Water meters" and body["version"] == fetched["version"] + 1
    before = snapshot(group)
    assert_error(save(api, {**posted, "type": "ASSET"}), 400, "Entity group type can't be changed!")
    assert_unchanged(group, before)


@pytest.mark.parametrize(("body", "message"), [
    ({"type": "DEVICE"}, "Entity group name should be specified!"),
    ({"name": "g"}, "Entity group type should be specified!"),
    ({"name": "g", "type": "ALARM"}, "Unsupported entity group type \"ALARM\""),
    ({"name": "g", "type": "DEVICE", "ownerId": {"entityType": "EDGE", "id": "8c5b4d2c-3e5e-4f5e-9a4b-1c2d3e4f5a6b"}},
     "Unsupported owner type"),
])
def test_it_validates_the_body(api, body, message):
    assert_error(save(api, body), 400, message)
    assert not EntityGroup.objects.exclude(type="USER").filter(group_all=False).exists()


def test_it_accepts_its_own_tenant_as_owner_and_refuses_others(api, tenant, customer, other_tenant):
    own = {"entityType": "TENANT", "id": str(tenant.pk)}
    assert save(api, {"name": "g", "type": "DEVICE", "ownerId": own}).status_code == 200
    theirs = {"entityType": "TENANT", "id": str(other_tenant.pk)}
    assert_error(save(api, {"name": "h", "type": "DEVICE", "ownerId": theirs}), 404)
    their_customer = make_customer(other_tenant, "Theirs")
    assert_error(save(api, {"name": "h", "type": "DEVICE",
                            "ownerId": {"entityType": "CUSTOMER", "id": str(their_customer.pk)}}), 404)
    mine = save(api, {"name": "h", "type": "DEVICE", "ownerId": {"entityType": "CUSTOMER", "id": str(customer.pk)}})
    assert mine.status_code == 200, mine.content
    assert mine.json()["ownerId"] == {"entityType": "CUSTOMER", "id": str(customer.pk)}
    assert EntityGroup.objects.exclude(type="USER").filter(group_all=False).count() == 2


def test_names_are_unique_per_tenant_and_type(api, tenant, other_tenant):
    make_group(tenant, "Shared")
    make_group(other_tenant, "Other")
    assert_error(save(api, {"name": "Shared", "type": "DEVICE"}), 400, "already exists")
    assert save(api, {"name": "Shared", "type": "ASSET"}).status_code == 200
    assert save(api, {"name": "Other", "type": "DEVICE"}).status_code == 200


# --- read -------------------------------------------------------------------------------------
def test_it_pages_and_lists_groups_by_type(api, tenant, other_tenant):
    for name in ("b", "a", "c"):
        make_group(tenant, name)
    make_group(tenant, "asset-group", "ASSET")
    make_group(other_tenant, "a-theirs")
    page = PageDataEntityGroupInfo.from_dict(api.get("/api/entityGroups/DEVICE?pageSize=2&page=0").json())
    # the owner's "All" group first (devices/all_groups.py)
    assert [g.name for g in page.data] == ["All", "a"] and page.has_next and page.total_elements == 4
    assert [g["name"] for g in api.get("/api/entityGroups/DEVICE/all").json()] == ["All", "a", "b", "c"]
    assert [g["name"] for g in api.get("/api/entityGroups/ASSET/all").json()] == ["All", "asset-group"]
    infos = PageDataEntityInfo.from_dict(api.get("/api/entityGroupInfos/DEVICE?pageSize=10&page=0").json())
    assert [i.name for i in infos.data] == ["All", "a", "b", "c"]
    assert page_names(api.get("/api/entityGroups/DEVICE?pageSize=10&page=0&textSearch=B")) == ["b"]
    assert page_names(api.get("/api/entityGroups/CUSTOMER?pageSize=10&page=0")) == []
    assert_error(api.get("/api/entityGroups/FOO?pageSize=10&page=0"), 400, "Unsupported entity group type")


@pytest.mark.parametrize(("query", "message"), BAD_PAGING)
def test_it_answers_400_for_bad_paging(api, query, message):
    assert_error(api.get("/api/entityGroups/DEVICE?" + query), 400, message)


def test_it_lists_groups_by_owner(api, tenant, customer, other_tenant):
    make_group(tenant, "mine")
    assert page_names(api.get(f"/api/entityGroups/TENANT/{tenant.pk}/DEVICE?pageSize=10&page=0")) == ["All", "mine"]
    assert [g["name"] for g in api.get(f"/api/entityGroups/TENANT/{tenant.pk}/DEVICE/all").json()] == ["All", "mine"]
    assert page_names(api.get(f"/api/entityGroups/CUSTOMER/{customer.pk}/DEVICE?pageSize=10&page=0")) == ["All"]
    assert_error(api.get(f"/api/entityGroups/TENANT/{other_tenant.pk}/DEVICE?pageSize=10&page=0"), 404)
    assert_error(api.get(f"/api/entityGroups/EDGE/{tenant.pk}/DEVICE?pageSize=10&page=0"), 400, "owner type")


def test_it_finds_a_group_by_owner_type_and_name(api, tenant, other_tenant):
    group = make_group(tenant, "Water meters")
    theirs = make_group(other_tenant, "Theirs")
    found = api.get(f"/api/entityGroup/TENANT/{tenant.pk}/DEVICE/Water meters")
    assert EntityGroupInfo.from_dict(found.json()).id.id == group.pk
    assert_error(api.get(f"/api/entityGroup/TENANT/{tenant.pk}/ASSET/Water meters"), 404)
    assert_error(api.get(f"/api/entityGroup/TENANT/{other_tenant.pk}/DEVICE/Theirs"), 404)
    assert_error(api.get(f"/api/entityGroup/TENANT/{tenant.pk}/DEVICE/{theirs.name}"), 404)


def test_it_lists_groups_by_ids_and_serves_entity_infos(api, tenant, other_tenant):
    group, theirs = make_group(tenant, "mine"), make_group(other_tenant, "theirs")
    ids = {"entityGroupIds": f"{group.pk},{theirs.pk}"}
    assert [g["name"] for g in api.get("/api/entityGroups/list", ids).json()] == ["mine"]
    assert api.get("/api/entityGroupInfos", ids).json() == [
        {"id": {"entityType": "ENTITY_GROUP", "id": str(group.pk)}, "name": "mine"}]
    assert api.get(f"/api/entityGroupInfo/{group.pk}").json()["name"] == "mine"
    assert_error(api.get(f"/api/entityGroupInfo/{theirs.pk}"), 404)


# --- membership -------------------------------------------------------------------------------
def test_it_adds_lists_and_removes_entities(api, tenant):
    group = make_group(tenant, "g")
    a, b, c = (make_device(tenant, n) for n in ("a", "b", "c"))
    assert add(api, group, [a.pk, b.pk]).status_code == 200
    assert add(api, group, [b.pk, c.pk]).status_code == 200  # idempotent for b
    page = PageDataShortEntityView.from_dict(api.get(f"/api/entityGroup/{group.pk}/entities?pageSize=2&page=0").json())
    assert [(e.name, e.id.entity_type) for e in page.data] == [("a", "DEVICE"), ("b", "DEVICE")] and page.has_next
    one = api.get(f"/api/entityGroup/{group.pk}/{a.pk}").json()
    assert one == {"id": {"entityType": "DEVICE", "id": str(a.pk)}, "name": "a"}
    everything = EntityGroup.objects.get(tenant=tenant, customer=None, type="DEVICE", group_all=True)
    assert api.get(f"/api/entityGroups/DEVICE/{a.pk}").json() == [
        {"entityType": "ENTITY_GROUP", "id": str(g.pk)} for g in (everything, group)]
    assert add(api, group, [a.pk, c.pk], "deleteEntities").status_code == 200
    assert members(group) == ["b"]
    assert_error(api.get(f"/api/entityGroup/{group.pk}/{a.pk}"), 404)


def test_it_holds_assets_in_asset_groups(api, tenant):
    group = make_group(tenant, "buildings", "ASSET")
    asset = make_asset(tenant, "hq")
    assert add(api, group, [asset.pk]).status_code == 200
    assert page_names(api.get(f"/api/entityGroup/{group.pk}/entities?pageSize=10&page=0")) == ["hq"]
    assert api.get(f"/api/entityGroup/{group.pk}/entities?pageSize=10&page=0").json()["data"][0]["id"][
        "entityType"] == "ASSET"


@pytest.mark.parametrize("action", ["addEntities", "deleteEntities"])
def test_it_applies_nothing_when_one_id_is_wrong(api, tenant, other_tenant, action):
    group = make_group(tenant, "g")
    kept, fresh = make_device(tenant, "kept"), make_device(tenant, "fresh")
    group.members.add(kept)
    theirs, asset = make_device(other_tenant, "theirs"), make_asset(tenant, "asset")
    target = fresh if action == "addEntities" else kept
    assert_error(add(api, group, [target.pk, theirs.pk], action), 404, f"[{theirs.pk}] is not found")
    assert_error(add(api, group, [target.pk, asset.pk], action), 400, "is not a DEVICE")
    assert_error(add(api, group, [str(target.pk), "bogus"], action), 400, "Invalid UUID string: bogus")
    assert_error(api.post(f"/api/entityGroup/{group.pk}/{action}", {"ids": []}, format="json"), 400, "JSON list")
    assert members(group) == ["kept"]
    assert not theirs.groups.filter(group_all=False).exists()


def test_it_answers_404_for_another_tenants_group(api, tenant, other_tenant):
    theirs = make_group(other_tenant, "theirs")
    victim = make_device(other_tenant, "victim")
    theirs.members.add(victim)
    mine = make_device(tenant, "mine")
    assert_isolated(api, theirs, single="entityGroup", update={"name": "stolen", "type": "DEVICE"})
    assert_error(add(api, theirs, [mine.pk]), 404)
    assert_error(add(api, theirs, [victim.pk], "deleteEntities"), 404)
    assert_error(api.get(f"/api/entityGroup/{theirs.pk}/entities?pageSize=10&page=0"), 404)
    assert_error(api.get(f"/api/entityGroup/{theirs.pk}/{victim.pk}"), 404)
    assert_error(api.get(f"/api/entityGroups/DEVICE/{victim.pk}"), 404)
    assert members(theirs) == ["victim"]


def test_it_answers_400_for_malformed_ids(api):
    assert_error(api.get("/api/entityGroup/oops"), 400, "Invalid UUID string: oops")
    assert_error(api.post("/api/entityGroup/oops/addEntities", [], format="json"), 400, "Invalid UUID string")
    assert_error(api.get("/api/entityGroups/list?entityGroupIds=oops"), 400, "Invalid UUID string")


def test_deleting_a_group_keeps_its_members(api, tenant):
    device = make_device(tenant, "d")
    group = make_group(tenant, "g", members=[device])
    assert api.delete(f"/api/entityGroup/{group.pk}").status_code == 200
    assert not EntityGroup.objects.exclude(type="USER").filter(group_all=False).exists()
    assert Device.objects.filter(pk=device.pk).exists()


# --- who may do what --------------------------------------------------------------------------
def test_a_customer_user_sees_no_tenant_group_and_writes_none(customer_api, tenant, customer):
    device = make_device(tenant, "d", customer=customer)
    group = make_group(tenant, "g")
    before = snapshot(group)
    assert_error(customer_api.get(f"/api/entityGroup/{group.pk}"), 404)  # not shared with it (roles/)
    assert page_names(customer_api.get("/api/entityGroups/DEVICE?pageSize=10&page=0")) == ["All"]  # its customer's
    assert_error(save(customer_api, {"name": "mine", "type": "DEVICE"}), 403)  # "Customer User": no CREATE
    assert_error(add(customer_api, group, [device.pk]), 404)  # the tenant's group: not found (roles/)
    assert_error(customer_api.delete(f"/api/entityGroup/{group.pk}"), 404)
    assert_unchanged(group, before)
    assert members(group) == []


def test_a_sysadmin_gets_403_on_groups(sysadmin, tenant):
    group = make_group(tenant, "g")
    client = api_as(sysadmin)
    assert_error(client.get(f"/api/entityGroup/{group.pk}"), 403)
    assert_error(client.get("/api/entityGroups/DEVICE/all"), 403)
