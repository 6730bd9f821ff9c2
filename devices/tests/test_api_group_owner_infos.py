"""An owner's entity groups as EntityInfo and the hierarchy paths:
`/api/entityGroupInfos/{ownerType}/{ownerId}/{groupType}`, `/api/entityGroupsHierarchy/...`,
`/api/entityGroupInfosHierarchy/...` (the tenant's hierarchy holds its customers' groups)."""

import pytest
from tb_pe_client.models import PageDataEntityGroupInfo, PageDataEntityInfo

from devices.choices import GroupType
from devices.models import EntityGroup
from tbproject.testing.api import assert_error
from tbproject.testing.factories import make_customer, make_group

PAGE = {"pageSize": 10, "page": 0}
PATHS = ("entityGroupInfos", "entityGroupsHierarchy", "entityGroupInfosHierarchy")


@pytest.fixture
def groups(tenant, other_tenant):
    make_group(tenant, "Meters"), make_group(tenant, "Gateways"), make_group(tenant, "Sites", GroupType.ASSET)
    make_group(other_tenant, "Theirs")


def group_id(tenant, name) -> str:
    return str(EntityGroup.objects.get(tenant=tenant, name=name).pk)


def url(path, owner_type, owner_id, group_type="DEVICE"):
    return f"/api/{path}/{owner_type}/{owner_id}/{group_type}"


def test_it_lists_the_tenants_groups_as_entity_infos(api, tenant, groups):
    res = api.get(url("entityGroupInfos", "TENANT", tenant.pk), PAGE)
    assert res.status_code == 200
    page = PageDataEntityInfo.from_dict(res.json())
    assert [i.name for i in page.data] == ["All", "Gateways", "Meters"] and page.total_elements == 3
    assert set(res.json()["data"][0]) == {"id", "name"}
    assert res.json()["data"][0]["id"]["entityType"] == "ENTITY_GROUP"
    everything = EntityGroup.objects.get(tenant=tenant, customer=None, type="ASSET", group_all=True)
    assert api.get(url("entityGroupInfosHierarchy", "TENANT", tenant.pk, "ASSET"), PAGE).json()["data"] == [
        {"id": {"entityType": "ENTITY_GROUP", "id": str(everything.pk)}, "name": "All"},
        {"id": {"entityType": "ENTITY_GROUP", "id": group_id(tenant, "Sites")}, "name": "Sites"}]


def test_the_hierarchy_lists_entity_group_infos(api, tenant, groups):
    res = api.get(url("entityGroupsHierarchy", "TENANT", tenant.pk), {**PAGE, "textSearch": "me"})
    page = PageDataEntityGroupInfo.from_dict(res.json())
    assert [g.name for g in page.data] == ["Meters"]
    assert res.json()["data"][0]["ownerIds"] == [{"entityType": "TENANT", "id": str(tenant.pk)}]


def test_a_customer_owns_its_all_group_only_here(api, customer, groups):
    for path in PATHS:
        res = api.get(url(path, "CUSTOMER", customer.pk), PAGE)
        assert res.status_code == 200 and res.json()["totalElements"] == 1
        assert res.json()["data"][0]["name"] == "All"  # devices/all_groups.py


def test_another_tenant_or_its_customer_is_a_404(api, other_tenant, groups):
    theirs = make_customer(other_tenant, "Their customer")
    for path in PATHS:
        assert_error(api.get(url(path, "TENANT", other_tenant.pk), PAGE), 404)
        assert_error(api.get(url(path, "CUSTOMER", theirs.pk), PAGE), 404)


def test_bad_input_is_a_400(api, tenant, groups):
    for path in PATHS:
        assert_error(api.get(url(path, "TENANT", "nope"), PAGE), 400, "Invalid UUID")
        assert_error(api.get(url(path, "EDGE", tenant.pk), PAGE), 400)
        assert_error(api.get(url(path, "TENANT", tenant.pk, "WIDGET"), PAGE), 400)
        assert_error(api.get(url(path, "TENANT", tenant.pk), {"page": 0}), 400)


def test_customer_users_list_their_customers_groups_only(customer_api, tenant, customer, groups):
    mine = make_group(tenant, "Mine")
    EntityGroup.objects.filter(pk=mine.pk).update(customer=customer)
    for path in PATHS:
        assert [g["name"] for g in customer_api.get(url(path, "CUSTOMER", customer.pk), PAGE).json()["data"]] == [
            "All", "Mine"]
        assert customer_api.get(url(path, "TENANT", tenant.pk), PAGE).json()["data"] == []  # none shared
