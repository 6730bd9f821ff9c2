"""A customer's administrators manage their customer's entity groups and user groups (ThingsBoard PE: a
customer user whose generic role grants CREATE / WRITE / ADD_TO_GROUP / REMOVE_FROM_GROUP / DELETE on
{TYPE}_GROUP; the group owner's operations: the tenant's and other customers' groups are a 404 to it), and
what ``addEntities`` takes: entities of the group's type, of the group's tenant, and for a customer's group of
that customer (400 for another type or owner, 404 for an unseen id; nothing added)."""

import json
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from django.test import Client

from devices.models import EntityGroup
from tbproject.api.tokens import issue_pair
from tbproject.testing.api import assert_error, snapshot
from tbproject.testing.factories import make_asset, make_customer, make_device, make_group
from tenants.choices import Authority
from tenants.models import User

PAGE = {"pageSize": 20, "page": 0}


def ref(kind, obj) -> dict:
    return {"entityType": kind, "id": str(obj.pk)}


def add(client, group, ids, action="addEntities"):
    return client.post(f"/api/entityGroup/{group.pk}/{action}", [str(i) for i in ids], format="json")


@pytest.fixture
def admin_api(customer_api, customer, customer_user):
    EntityGroup.objects.get(customer=customer, type="USER", name="Customer Administrators").users.add(customer_user)
    return customer_api


def test_a_customer_administrator_manages_its_customers_groups(admin_api, tenant, customer, customer_user):
    own = make_device(tenant, "own-1", customer=customer)
    res = admin_api.post("/api/entityGroup", {"name": "Pumps", "type": "DEVICE",
                                              "ownerId": ref("CUSTOMER", customer)}, format="json")
    assert res.status_code == 200, res.content
    pumps = EntityGroup.objects.get(pk=res.json()["id"]["id"])
    assert pumps.customer_id == customer.pk and res.json()["ownerId"] == ref("CUSTOMER", customer)
    res = admin_api.post("/api/entityGroup", {"name": "Operators", "type": "USER"}, format="json")
    assert res.status_code == 200, res.content
    assert res.json()["ownerId"] == ref("CUSTOMER", customer)  # no ownerId: the caller's owner, its customer
    operators = EntityGroup.objects.get(pk=res.json()["id"]["id"])
    res = admin_api.post("/api/entityGroup", {**admin_api.get(f"/api/entityGroup/{pumps.pk}").json(),
                                              "name": "Water pumps"}, format="json")
    assert res.status_code == 200, res.content
    assert add(admin_api, pumps, [own.pk]).status_code == 200
    assert add(admin_api, operators, [customer_user.pk]).status_code == 200
    assert list(pumps.devices.all()) == [own] and list(operators.users.all()) == [customer_user]
    mine = admin_api.get(f"/api/entityGroups/CUSTOMER/{customer.pk}/DEVICE", PAGE).json()["data"]
    assert [g["name"] for g in mine] == ["All", "Water pumps"]  # its "All" group first (devices/all_groups.py)
    assert add(admin_api, pumps, [own.pk], "deleteEntities").status_code == 200
    assert not pumps.devices.exists()
    for group in (pumps, operators):
        assert admin_api.delete(f"/api/entityGroup/{group.pk}").status_code == 200
    assert not EntityGroup.objects.filter(pk__in=[pumps.pk, operators.pk]).exists()


def test_a_customer_administrator_touches_no_other_owners_group(api, admin_api, tenant, customer):
    other = make_customer(tenant, "Customer B")
    device = make_device(tenant, "tenants-1")
    tenants = make_group(tenant, "Tenant's", members=[device])
    shared = make_group(tenant, "Shared", members=[device])
    users = EntityGroup.objects.get(customer=customer, type="USER", name="Customer Users")
    body = {"allUserGroup": False, "userGroupId": ref("ENTITY_GROUP", users), "roleIds": []}
    assert api.post(f"/api/entityGroup/{shared.pk}/share", {**body, "readElseWrite": False},
                    format="json").status_code == 200
    theirs = EntityGroup.objects.create(tenant=tenant, customer=other, type="DEVICE", name="Theirs")
    for owner in (ref("TENANT", tenant), ref("CUSTOMER", other)):
        assert_error(admin_api.post("/api/entityGroup", {"name": "x", "type": "DEVICE", "ownerId": owner},
                                    format="json"), 404)
    assert admin_api.get(f"/api/entityGroup/{shared.pk}").status_code == 200  # shared with it: readable
    for group in (tenants, shared, theirs):
        before = snapshot(group)
        body = {"id": ref("ENTITY_GROUP", group), "name": "Renamed", "type": "DEVICE"}
        assert_error(admin_api.post("/api/entityGroup", body, format="json"), 404)
        assert_error(add(admin_api, group, [device.pk], "deleteEntities"), 404)
        assert_error(add(admin_api, group, [device.pk]), 404)
        assert_error(admin_api.delete(f"/api/entityGroup/{group.pk}"), 404)
        assert snapshot(group) == before
    assert list(shared.devices.all()) == [device] and not EntityGroup.objects.filter(name="x").exists()


def test_a_customer_user_without_the_rights_manages_no_group(customer_api, tenant, customer, customer_user):
    own = make_device(tenant, "own-1", customer=customer)
    group = EntityGroup.objects.create(tenant=tenant, customer=customer, type="DEVICE", name="Pumps")
    assert_error(customer_api.post("/api/entityGroup", {"name": "Mine", "type": "DEVICE"}, format="json"), 403)
    body = {"id": ref("ENTITY_GROUP", group), "name": "Renamed", "type": "DEVICE"}
    assert_error(customer_api.post("/api/entityGroup", body, format="json"), 403)
    assert_error(add(customer_api, group, [own.pk]), 403)
    assert_error(customer_api.delete(f"/api/entityGroup/{group.pk}"), 403)
    assert customer_api.get(f"/api/entityGroup/{group.pk}").json()["name"] == "Pumps"  # reading stays
    assert EntityGroup.objects.filter(customer=customer, type="DEVICE", group_all=False).count() == 1
    assert not group.devices.exists()


def test_a_customers_group_takes_its_customers_entities_of_its_type_only(api, admin_api, tenant, other_tenant,
                                                                         customer):
    group = EntityGroup.objects.create(tenant=tenant, customer=customer, type="DEVICE", name="Pumps")
    own, own_asset = make_device(tenant, "own-1", customer=customer), make_asset(tenant, "own-a", customer=customer)
    theirs = make_device(tenant, "theirs-1", customer=make_customer(tenant, "Customer B"))
    tenants, foreign = make_device(tenant, "tenants-1"), make_device(other_tenant, "foreign-1")
    shared = make_group(tenant, "Shared", members=[tenants])
    users = EntityGroup.objects.get(customer=customer, type="USER", name="Customer Users")
    assert api.post(f"/api/entityGroup/{shared.pk}/share", {"userGroupId": ref("ENTITY_GROUP", users),
                                                            "readElseWrite": True}, format="json").status_code == 200
    for client in (admin_api, api):
        assert_error(add(client, group, [own.pk, own_asset.pk]), 400, "is not a DEVICE")
        assert_error(add(client, group, [own.pk, foreign.pk]), 404)
    assert_error(add(admin_api, group, [own.pk, theirs.pk]), 404)  # another customer's: unseen by its user
    assert_error(add(api, group, [own.pk, theirs.pk]), 400, "not owned")
    assert_error(add(admin_api, group, [own.pk, tenants.pk]), 400, "not owned")  # seen through a share only
    assert_error(add(admin_api, group, ["not-a-uuid"]), 400)
    assert_error(admin_api.post(f"/api/entityGroup/{group.pk}/addEntities", {"ids": [str(own.pk)]}, format="json"),
                 400)
    assert not group.devices.exists()


def test_a_tenants_group_takes_its_tenants_entities_of_its_type_only(api, tenant, other_tenant, customer,
                                                                     tenant_admin):
    from dashboards.models import Dashboard

    group = make_group(tenant, "Meters")
    own, customers = make_device(tenant, "own-1"), make_device(tenant, "cust-1", customer=customer)
    asset, foreign = make_asset(tenant, "asset-1"), make_device(other_tenant, "foreign-1")
    board = Dashboard.objects.create(tenant=tenant, title="Board")
    for wrong in (asset.pk, tenant_admin.pk, board.pk):
        assert_error(add(api, group, [own.pk, wrong]), 400, "is not a DEVICE")
    assert_error(add(api, group, [own.pk, foreign.pk]), 404)
    assert not group.devices.exists()
    # its tenant's only: a customer's device joins its customer's groups (ThingsBoard PE, devices/group_owners.py)
    assert_error(add(api, group, [own.pk, customers.pk]), 400, f"Entity [{customers.pk}] is not owned")
    assert not group.devices.exists()
    assert add(api, group, [own.pk]).status_code == 200
    boards = EntityGroup.objects.create(tenant=tenant, customer=customer, type="DASHBOARD", name="Boards")
    assert_error(add(api, boards, [board.pk]), 400, "not owned")  # not assigned to the group's customer
    board.assigned_customers.add(customer)
    assert add(api, boards, [board.pk]).status_code == 200


def test_a_save_or_owner_change_names_only_groups_of_the_entitys_owner(api, tenant, customer):
    theirs = EntityGroup.objects.create(tenant=tenant, customer=customer, type="DEVICE", name="Pumps")
    body = {"name": "pump-1", "type": "pump"}
    assert_error(api.post(f"/api/device?entityGroupId={theirs.pk}", body, format="json"), 400, "not owned")
    res = api.post(f"/api/device?entityGroupId={theirs.pk}", {**body, "customerId": ref("CUSTOMER", customer)},
                   format="json")
    assert res.status_code == 200, res.content
    device = make_device(tenant, "tenants-1")
    other = make_customer(tenant, "Customer B")
    assert_error(api.post(f"/api/owner/CUSTOMER/{other.pk}/DEVICE/{device.pk}", [str(theirs.pk)], format="json"),
                 400, "not owned")
    device.refresh_from_db()
    assert device.customer_id is None and [d.name for d in theirs.devices.all()] == ["pump-1"]


class _DjangoPool:
    """urllib3's PoolManager for tb-pe-client's own RESTClientObject, answered by Django's test client in
    process (no server): the generated client builds every request and reads every answer itself."""

    def __init__(self):
        self.client = Client()

    def request(self, method, url, body=None, headers=None, fields=None, **kwargs):
        parts = urlsplit(url)
        headers = dict(headers or {})
        content_type = headers.pop("Content-Type", "application/json")
        extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
        res = self.client.generic(method, parts.path + (f"?{parts.query}" if parts.query else ""),
                                  data=body or "", content_type=content_type, **extra)
        return SimpleNamespace(status=res.status_code, reason=res.reason_phrase, data=res.content,
                               headers=dict(res.items()))


def tb_client(user):
    from tb_pe_client.client import ThingsboardClient

    tb = ThingsboardClient("http://testserver", token=issue_pair(user)["token"], retry_on_rate_limit=False)
    tb.api_client.rest_client.pool_manager = _DjangoPool()
    return tb


def test_a_customer_administrator_manages_groups_through_the_tb_client(admin_api, tenant, customer, customer_user):
    from tb_pe_client.exceptions import ApiException
    from tb_pe_client.models import EntityId
    from tb_pe_client.models.entity_group import EntityGroup as TbEntityGroup

    own = make_device(tenant, "own-1", customer=customer)
    tenants = make_group(tenant, "Tenant's")
    tb = tb_client(customer_user)
    owner = EntityId(entity_type="CUSTOMER", id=str(customer.pk))
    saved = tb.save_entity_group(TbEntityGroup(name="Client pumps", type="DEVICE", owner_id=owner))
    assert saved.name == "Client pumps" and str(saved.owner_id.id) == str(customer.pk)
    tb.add_entities_to_entity_group(str(saved.id.id), [str(own.pk)])
    page = tb.get_entities(str(saved.id.id), page_size="10", page="0")
    assert [e.name for e in page.data] == ["own-1"]
    with pytest.raises(ApiException) as refused:
        tb.add_entities_to_entity_group(str(tenants.id), [str(own.pk)])
    assert refused.value.status == 404 and json.loads(refused.value.body)["status"] == 404
    tb.delete_entity_group(str(saved.id.id))
    assert not EntityGroup.objects.filter(name="Client pumps").exists()


def test_a_customers_default_groups_are_protected_so_no_administrator_locks_it_out(api, admin_api, tenant, customer,
                                                                                   customer_user):
    """"Customer Administrators" and "Customer Users" are not deleted nor renamed (the rename swap that would
    make every new customer user an administrator is refused); "Customer Administrators" keeps a member."""
    admins = EntityGroup.objects.get(customer=customer, type="USER", name="Customer Administrators")
    users = EntityGroup.objects.get(customer=customer, type="USER", name="Customer Users")
    for client in (admin_api, api):
        for group, new_name in ((users, "Old users"), (admins, "Customer Users"), (admins, "Admins")):
            body = {**client.get(f"/api/entityGroup/{group.pk}").json(), "name": new_name}
            assert_error(client.post("/api/entityGroup", body, format="json"), 400, "can't be renamed")
        for group in (admins, users):
            assert_error(client.delete(f"/api/entityGroup/{group.pk}"), 400, "can't be deleted")
        assert_error(add(client, admins, [customer_user.pk], "deleteEntities"), 400, "last member")
    assert [g.name for g in EntityGroup.objects.filter(pk__in=[admins.pk, users.pk]).order_by("name")] == [
        "Customer Administrators", "Customer Users"]
    assert list(admins.users.all()) == [customer_user]
    new = User.objects.create_user("dave@example.com", authority=Authority.CUSTOMER_USER, tenant=tenant,
                                   customer=customer)
    assert set(new.entity_groups.values_list("name", flat=True)) == {"All", "Customer Users"}
    assert add(admin_api, users, [new.pk], "deleteEntities").status_code == 200  # "Customer Users" may lose all
    assert add(admin_api, admins, [new.pk]).status_code == 200
    assert add(admin_api, admins, [customer_user.pk], "deleteEntities").status_code == 200  # another one stays
    assert list(admins.users.all()) == [new] and not users.users.filter(pk=new.pk).exists()
