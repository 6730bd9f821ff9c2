"""Entity group sharing (ShareGroupRequest) and what GROUP roles grant: a customer user reads (or writes)
the entities of a tenant group shared with its user group, nothing else; unsharing takes it back at once;
bad bodies are 400, another tenant's ids 404. Bodies are built with tb-pe-client's models."""

import json

import pytest
from tb_pe_client.models import EntityGroupId, EntityGroupInfo, EntityId, RoleId, ShareGroupRequest

from devices.choices import GroupType
from devices.models import Attribute, EntityGroup
from roles.models import GroupPermission, Role
from tbproject.testing.api import assert_error
from tbproject.testing.factories import make_customer, make_device, make_group
from tbproject.testing.fixtures import api_as
from tenants.choices import Authority
from tenants.models import User

PAGE = {"pageSize": 20, "page": 0}
TELEMETRY = "/api/plugins/telemetry/DEVICE"


@pytest.fixture
def shared(tenant):
    return make_device(tenant, "shared-1")


@pytest.fixture
def meters(tenant, shared):
    return make_group(tenant, "Meters", GroupType.DEVICE, [shared])


def users_of(customer) -> EntityGroup:
    return EntityGroup.objects.get(customer=customer, type="USER", name="Customer Users")


def share_body(user_group=None, *, read=None, roles=(), owner=None) -> dict:
    request = ShareGroupRequest(
        all_user_group=user_group is None,
        user_group_id=EntityGroupId(id=str(user_group.pk), entity_type="ENTITY_GROUP") if user_group else None,
        owner_id=EntityId(id=str(owner[1]), entity_type=owner[0]) if owner else None,
        read_else_write=read, role_ids=[RoleId(id=str(r.pk), entity_type="ROLE") for r in roles] or None)
    return request.to_dict()


def share(api, group, body, version=""):
    return api.post(f"/api/{version}entityGroup/{group.pk}/share", body, format="json")


def test_a_customer_user_reads_a_shared_group_and_nothing_else(api, customer_api, tenant, customer, meters, shared):
    other = make_device(tenant, "not-shared")
    assert_error(customer_api.get(f"/api/device/{shared.pk}"), 404)
    assert_error(customer_api.get(f"/api/entityGroup/{meters.pk}/entities", PAGE), 404)
    res = share(api, meters, share_body(users_of(customer), read=True))
    assert res.status_code == 200, res.content
    assert customer_api.get(f"/api/device/{shared.pk}").json()["name"] == "shared-1"
    listed = customer_api.get(f"/api/entityGroup/{meters.pk}/entities", PAGE).json()["data"]
    assert [e["name"] for e in listed] == ["shared-1"]
    assert customer_api.get(f"{TELEMETRY}/{shared.pk}/values/attributes").status_code == 200
    assert_error(customer_api.post(f"{TELEMETRY}/{shared.pk}/attributes/SERVER_SCOPE", {"a": 1}, format="json"), 403)
    assert_error(customer_api.post(f"{TELEMETRY}/{shared.pk}/timeseries/ANY", {"t": 1}, format="json"), 403)
    assert not Attribute.objects.filter(entity_id=shared.pk).exists()
    assert_error(customer_api.get(f"/api/device/{other.pk}"), 404)
    infos = customer_api.get("/api/entityGroups/DEVICE/shared", PAGE).json()["data"]
    assert [EntityGroupInfo.from_dict(g).name for g in infos] == ["Meters"]
    assert customer_api.get("/api/entityGroupInfos/DEVICE/shared", PAGE).json()["data"] == [
        {"id": {"entityType": "ENTITY_GROUP", "id": str(meters.pk)}, "name": "Meters"}]
    assert customer_api.get("/api/entityGroups/DEVICE/shared/all").json()[0]["name"] == "Meters"
    mine = customer_api.get("/api/entityGroups/DEVICE", PAGE).json()["data"]  # its owner's: its "All" group only
    assert [(g["name"], g["groupAll"]) for g in mine] == [("All", True)]
    assert api.get("/api/entityGroups/DEVICE/shared", PAGE).json()["data"] == []


def test_a_write_share_lets_it_save_attributes_and_telemetry(api, customer_api, customer, meters, shared):
    assert share(api, meters, share_body(users_of(customer), read=False)).status_code == 200
    role = Role.objects.get(tenant=meters.tenant, name="Entity Group Write User")
    assert (role.type, role.permissions) == ("GROUP", ["ALL"])
    res = customer_api.post(f"{TELEMETRY}/{shared.pk}/attributes/SERVER_SCOPE", {"a": 1}, format="json")
    assert res.status_code == 200, res.content
    assert customer_api.post(f"{TELEMETRY}/{shared.pk}/timeseries/ANY", {"t": 1}, format="json").status_code == 200
    assert Attribute.objects.filter(entity_id=shared.pk, key="a").exists()


def test_unsharing_takes_access_back_at_once(api, customer_api, customer, meters, shared):
    reader = Role.objects.get(tenant=meters.tenant, name="Entity Group Read-only User")
    user_group = users_of(customer)
    path = f"/api/entityGroup/{meters.pk}/{user_group.pk}/{reader.pk}/share"
    assert api.post(path).status_code == 200
    assert api.post(path).status_code == 200  # twice: one permission
    assert GroupPermission.objects.filter(entity_group=meters).count() == 1
    assert customer_api.get(f"/api/device/{shared.pk}").status_code == 200
    assert api.delete(path).status_code == 200
    assert_error(customer_api.get(f"/api/device/{shared.pk}"), 404)
    assert_error(customer_api.get(f"/api/entityGroup/{meters.pk}"), 404)
    assert_error(api.delete(path), 404, "is not shared")


def test_sharing_with_another_customers_user_group(api, customer_api, tenant, meters, shared):
    other = make_customer(tenant, "Customer B")
    dave = User.objects.create_user("dave@example.com", "secret-pass-1", authority=Authority.CUSTOMER_USER,
                                    tenant=tenant, customer=other)
    assert share(api, meters, share_body(users_of(other), read=True), "v2/").status_code == 200
    assert api_as(dave).get(f"/api/device/{shared.pk}").status_code == 200
    assert_error(customer_api.get(f"/api/device/{shared.pk}"), 404)
    info = api.get(f"/api/entityGroup/{meters.pk}/groupPermissions").json()
    assert [(p["userGroupName"], p["userGroupOwnerId"]["entityType"]) for p in info] == [("Customer Users",
                                                                                         "CUSTOMER")]


def test_sharing_with_an_owners_all_group_and_chosen_roles(api, customer_api, customer, meters, shared):
    custom = Role.objects.create(tenant=meters.tenant, name="Readers", type="GROUP", permissions=["READ"])
    body = share_body(read=None, roles=[custom], owner=("CUSTOMER", customer.pk))
    assert share(api, meters, body).status_code == 200
    permission = GroupPermission.objects.get(entity_group=meters)
    assert (permission.user_group.name, permission.user_group.customer_id, permission.role) == (
        "All", customer.pk, custom)
    assert customer_api.get(f"/api/device/{meters.devices.get().pk}").status_code == 200
    assert_error(customer_api.get(f"{TELEMETRY}/{shared.pk}/values/attributes"), 403)  # READ only, not attributes


@pytest.mark.parametrize("body, message", [
    ([], "JSON object"),
    ({"allUserGroup": "yes", "readElseWrite": True}, "allUserGroup"),
    ({"allUserGroup": False, "readElseWrite": True}, "userGroupId should be specified"),
    ({"allUserGroup": False, "userGroupId": {"id": "nope"}, "readElseWrite": True}, "Invalid UUID"),
    ({"allUserGroup": True, "readElseWrite": True}, "ownerId"),
    ({"allUserGroup": True, "ownerId": {"entityType": "DEVICE", "id": "x"}, "readElseWrite": True}, "ownerId"),
    ({"allUserGroup": True, "ownerId": "TENANT", "readElseWrite": True}, "ownerId"),
    ({"allUserGroup": True, "ownerId": {"entityType": "TENANT", "id": "{tenant}"}}, "readElseWrite"),
    ({"allUserGroup": True, "ownerId": {"entityType": "TENANT", "id": "{tenant}"}, "readElseWrite": "no"},
     "readElseWrite"),
    ({"allUserGroup": True, "ownerId": {"entityType": "TENANT", "id": "{tenant}"}, "roleIds": "x"}, "roleIds"),
    ({"allUserGroup": True, "ownerId": {"entityType": "TENANT", "id": "{tenant}"}, "roleIds": [{"id": "{generic}"}]},
     "not a group role"),
    ({"allUserGroup": False, "userGroupId": {"id": "{meters}"}, "readElseWrite": True}, "not a user group"),
    ({"allUserGroup": True, "readElseWrite": True, "surprise": 1}, "Unknown ShareGroupRequest field"),
])
def test_bad_share_bodies_are_400_and_share_nothing(api, tenant, meters, body, message):
    generic = Role.objects.get(tenant=tenant, name="Tenant User")
    text = json.dumps(body)
    body = json.loads(text.replace("{tenant}", str(tenant.pk)).replace("{generic}", str(generic.pk))
                      .replace("{meters}", str(meters.pk)))
    assert_error(share(api, meters, body), 400, message)
    assert not GroupPermission.objects.filter(entity_group=meters).exists()


def test_another_tenants_ids_are_404(api, mallory_api, tenant, other_tenant, customer, meters):
    reader = Role.objects.get(tenant=tenant, name="Entity Group Read-only User")
    their_reader = Role.objects.get(tenant=other_tenant, name="Entity Group Read-only User")
    their_users = EntityGroup.objects.get(tenant=other_tenant, customer=None, type="USER", name="All")
    theirs = make_customer(other_tenant, "Theirs")
    assert_error(share(mallory_api, meters, share_body(their_users, read=True)), 404)
    assert_error(mallory_api.post(f"/api/entityGroup/{meters.pk}/{their_users.pk}/{their_reader.pk}/share"), 404)
    assert_error(share(api, meters, share_body(their_users, read=True)), 404)
    assert_error(share(api, meters, share_body(read=True, owner=("CUSTOMER", theirs.pk))), 404)
    assert_error(share(api, meters, share_body(read=True, owner=("TENANT", other_tenant.pk))), 404)
    assert_error(share(api, meters, share_body(users_of(customer), roles=[their_reader])), 404)
    assert_error(api.post(f"/api/entityGroup/{meters.pk}/{users_of(customer).pk}/{their_reader.pk}/share"), 404)
    assert_error(api.delete(f"/api/entityGroup/{meters.pk}/{users_of(customer).pk}/{reader.pk}/share"), 404)
    assert not GroupPermission.objects.filter(entity_group=meters).exists()


def test_customer_users_may_not_share(customer_api, customer, meters):
    assert_error(share(customer_api, meters, share_body(users_of(customer), read=True)), 403)
    assert not GroupPermission.objects.filter(entity_group=meters).exists()


def test_a_restricted_administrator_needs_write_on_the_group(api, tenant, tenant_admin, customer, meters):
    admins = EntityGroup.objects.get(tenant=tenant, customer=None, name="Tenant Administrators")
    limited = EntityGroup.objects.create(tenant=tenant, type="USER", name="Limited")
    role = Role.objects.create(tenant=tenant, name="Readers", type="GENERIC", permissions={"ALL": ["READ"]})
    GroupPermission.objects.create(tenant=tenant, user_group=limited, role=role)
    limited.users.add(tenant_admin)
    admins.users.remove(tenant_admin)
    assert_error(share(api, meters, share_body(users_of(customer), read=True)), 403)


def test_a_group_named_share_is_still_found_by_owner_and_name(api, tenant):
    group = make_group(tenant, "share")
    res = api.get(f"/api/entityGroup/TENANT/{tenant.pk}/DEVICE/share")
    assert res.status_code == 200, res.content
    assert res.json()["id"]["id"] == str(group.pk)


def test_a_shared_dashboard_group_opens_its_dashboards(api, customer_api, tenant, customer):
    from dashboards.models import Dashboard

    board = Dashboard.objects.create(tenant=tenant, title="Plant")
    boards = make_group(tenant, "Boards", GroupType.DASHBOARD)
    board.groups.add(boards)
    assert_error(customer_api.get(f"/api/dashboard/{board.pk}"), 404)
    assert share(api, boards, share_body(users_of(customer), read=True)).status_code == 200
    res = customer_api.get(f"/api/dashboard/{board.pk}")
    assert res.status_code == 200, res.content
    assert res.json()["title"] == "Plant"
    assert_error(customer_api.delete(f"/api/dashboard/{board.pk}"), 403)
    assert Dashboard.objects.filter(pk=board.pk).exists()


def test_a_shared_row_assigned_to_several_customers_is_found_once(api, tenant, customer, customer_user):
    from dashboards.models import Dashboard

    board = Dashboard.objects.create(tenant=tenant, title="Plant")
    board.assigned_customers.add(customer, make_customer(tenant, "Customer B"))
    boards = make_group(tenant, "Boards", GroupType.DASHBOARD)
    board.groups.add(boards)
    assert share(api, boards, share_body(users_of(customer), read=True)).status_code == 200
    assert list(Dashboard.objects.for_user(customer_user).values_list("pk", flat=True)) == [board.pk]


def test_the_lean_saves_apply_the_group_roles(api, customer_user, customer, meters, shared):
    from tbproject.testing.lean import LeanClient

    lean = LeanClient(api_as(customer_user))
    url = f"{TELEMETRY}/{shared.pk}/attributes/SERVER_SCOPE"
    assert share(api, meters, share_body(users_of(customer), read=True)).status_code == 200
    assert_error(lean.post(url, {"a": 1}, format="json"), 403)
    assert share(api, meters, share_body(users_of(customer), read=False)).status_code == 200
    assert lean.post(url, {"a": 2}, format="json").status_code == 200
    GroupPermission.objects.filter(entity_group=meters).delete()  # unshared: at once, whatever was cached
    assert_error(lean.post(url, {"a": 3}, format="json"), 404)
    assert lean.served == 3
    assert Attribute.objects.get(entity_id=shared.pk, key="a").long_v == 2
