"""The entity-group paths of ThingsBoard PE for members this server keeps no groups of, and for
sharing: each answers for itself instead of being taken for `entityGroup/{groupId}/{entityId}` or
`entityGroups/{entityType}/{entityId}` (which answered 400 "Invalid UUID string: users")."""

import uuid

import pytest
from tb_pe_client.models import PageDataEntityGroupInfo

from devices.api.group_extras import OTHER_MEMBERS
from devices.choices import GroupType
from tbproject.testing.api import assert_error
from tbproject.testing.factories import make_group

PAGE = {"pageSize": 10, "page": 0}


@pytest.mark.parametrize("segment", sorted(OTHER_MEMBERS))
def test_a_device_group_asked_for_other_members_says_what_it_holds(api, tenant, segment):
    group = make_group(tenant, "Meters")
    assert_error(api.get(f"/api/entityGroup/{group.pk}/{segment}", PAGE), 400,
                 f"Entity group [Meters] holds DEVICE entities, not {OTHER_MEMBERS[segment]}")
    asset_group = make_group(tenant, "Sites", GroupType.ASSET)
    assert_error(api.get(f"/api/entityGroup/{asset_group.pk}/{segment}", PAGE), 400, "holds ASSET entities")


@pytest.mark.parametrize("segment", [*sorted(OTHER_MEMBERS), "groupPermissions"])
def test_another_tenants_or_an_unknown_group_is_not_found(api, other_tenant, segment):
    theirs = make_group(other_tenant, "Theirs")
    assert_error(api.get(f"/api/entityGroup/{theirs.pk}/{segment}", PAGE), 404)
    assert_error(api.get(f"/api/entityGroup/{uuid.uuid4()}/{segment}", PAGE), 404)
    assert_error(api.get(f"/api/entityGroup/not-an-id/{segment}", PAGE), 400)


@pytest.mark.parametrize("segment", ["devices", "assets", "entityViews", "dashboards"])
def test_each_member_list_names_the_type_a_group_holds(api, tenant, segment):
    group = make_group(tenant, "Rooms", GroupType.ENTITY_VIEW if segment != "entityViews" else GroupType.ASSET)
    assert_error(api.get(f"/api/entityGroup/{group.pk}/{segment}", PAGE), 400,
                 f"Entity group [Rooms] holds {group.type}")


def test_no_permission_is_granted_on_a_group(api, tenant):
    group = make_group(tenant, "Meters")
    res = api.get(f"/api/entityGroup/{group.pk}/groupPermissions")
    assert res.status_code == 200 and res.json() == []


def test_nothing_is_shared(api, tenant):
    make_group(tenant, "Meters")
    res = api.get("/api/entityGroups/DEVICE/shared", PAGE)
    assert res.status_code == 200
    page = PageDataEntityGroupInfo.from_dict(res.json())
    assert page.data == [] and page.total_elements == 0 and page.has_next is False
    res = api.get("/api/entityGroups/ASSET/shared/all")
    assert res.status_code == 200 and res.json() == []
    assert api.get("/api/entityGroups/USER/shared", PAGE).json()["data"] == []  # a type this server keeps none of
    assert_error(api.get("/api/entityGroups/WIDGET/shared", PAGE), 400, "Unsupported entity group type")
    assert_error(api.get("/api/entityGroups/DEVICE/shared", {"page": 0}), 400, "pageSize")


def test_customer_users_may_not(customer_api, tenant):
    group = make_group(tenant, "Meters")
    assert customer_api.get(f"/api/entityGroup/{group.pk}/users", PAGE).status_code == 404  # not shared with it
    assert customer_api.get("/api/entityGroups/DEVICE/shared", PAGE).json()["data"] == []
