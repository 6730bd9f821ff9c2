"""ENTITY_VIEW entity groups: members listed at `entityGroup/{id}/entityViews`, added and removed through
the generic group endpoints, joined on save (?entityGroupId(s)=), and found by the `entityGroup` query filter."""

import uuid

import pytest
from tb_pe_client.models import EntityGroupInfo, EntityViewInfo, PageDataEntityView, PageDataShortEntityView

from devices.choices import GroupType
from devices.models import EntityGroup, EntityView
from devices.tests.entity_queries_support import find, names, query
from tbproject.testing.api import assert_error
from tbproject.testing.factories import make_device, make_group

PAGE = {"pageSize": 10, "page": 0}


def make_view(tenant, device, name, kind="panel") -> EntityView:
    return EntityView.objects.create(tenant=tenant, name=name, type=kind, entity_type="DEVICE", entity_id=device.pk)


@pytest.fixture
def views(tenant):
    device = make_device(tenant, "thermo")
    return {name: make_view(tenant, device, name, kind) for name, kind in
            (("lobby", "kiosk"), ("office", "panel"), ("roof", "panel"))}


def members(api, group, **params) -> PageDataEntityView:
    res = api.get(f"/api/entityGroup/{group.pk}/entityViews", {**PAGE, **params})
    assert res.status_code == 200, res.content[:500]
    return PageDataEntityView.from_dict(res.json())


def test_it_creates_an_entity_view_group(api):
    res = api.post("/api/entityGroup", {"name": "Screens", "type": "ENTITY_VIEW"}, format="json")
    assert res.status_code == 200, res.content
    assert EntityGroupInfo.from_dict(res.json()).type == "ENTITY_VIEW"
    listed = api.get("/api/entityGroups/ENTITY_VIEW", PAGE).json()
    assert [g["name"] for g in listed["data"]] == ["All", "Screens"]  # the owner's "All" group first


def test_it_lists_adds_and_removes_members(api, tenant, views):
    group = make_group(tenant, "Screens", GroupType.ENTITY_VIEW, members=[views["lobby"]])
    page = members(api, group)
    assert [v.name for v in page.data] == ["lobby"] and page.total_elements == 1
    assert page.data[0].id.entity_type == "ENTITY_VIEW" and page.data[0].type == "kiosk"

    ids = [str(views["office"].pk), str(views["roof"].pk)]
    assert api.post(f"/api/entityGroup/{group.pk}/addEntities", ids, format="json").status_code == 200
    assert [v.name for v in members(api, group).data] == ["lobby", "office", "roof"]
    assert [v.name for v in members(api, group, type="panel").data] == ["office", "roof"]
    assert [v.name for v in members(api, group, textSearch="FFI").data] == ["office"]
    desc = members(api, group, sortProperty="name", sortOrder="DESC")
    assert [v.name for v in desc.data] == ["roof", "office", "lobby"]
    short = PageDataShortEntityView.from_dict(api.get(f"/api/entityGroup/{group.pk}/entities", PAGE).json())
    assert [e.name for e in short.data] == ["lobby", "office", "roof"]
    in_groups = api.get(f"/api/entityGroups/ENTITY_VIEW/{views['roof'].pk}").json()
    everything = EntityGroup.objects.get(tenant_id=group.tenant_id, customer=None, type="ENTITY_VIEW", group_all=True)
    assert in_groups == [{"entityType": "ENTITY_GROUP", "id": str(g.pk)} for g in (everything, group)]

    assert api.post(f"/api/entityGroup/{group.pk}/deleteEntities", ids[:1], format="json").status_code == 200
    assert [v.name for v in members(api, group).data] == ["lobby", "roof"]
    info = EntityViewInfo.from_dict(api.get(f"/api/entityView/info/{views['roof'].pk}").json())
    assert [g.name for g in info.groups] == ["All", "Screens"]


def test_a_device_is_not_an_entity_view_member(api, tenant, views):
    group = make_group(tenant, "Screens", GroupType.ENTITY_VIEW)
    device = make_device(tenant, "meter")
    assert_error(api.post(f"/api/entityGroup/{group.pk}/addEntities", [str(device.pk)], format="json"), 400,
                 "is not a ENTITY_VIEW")
    device_group = make_group(tenant, "Meters")
    assert_error(api.post(f"/api/entityGroup/{device_group.pk}/addEntities", [str(views["roof"].pk)],
                          format="json"), 400, "is not a DEVICE")
    assert members(api, group).data == [] and not device_group.devices.exists()


def test_a_group_of_another_type_is_a_400(api, tenant):
    assert_error(api.get(f"/api/entityGroup/{make_group(tenant, 'Meters').pk}/entityViews", PAGE), 400,
                 "Entity group [Meters] holds DEVICE entities, not ENTITY_VIEW")
    screens = make_group(tenant, "Screens", GroupType.ENTITY_VIEW)
    assert_error(api.get(f"/api/entityGroup/{screens.pk}/devices", PAGE), 400,
                 "holds ENTITY_VIEW entities, not DEVICE")


def test_another_tenants_group_or_view_is_not_found(api, mallory_api, tenant, other_tenant, views):
    theirs = make_group(other_tenant, "Theirs", GroupType.ENTITY_VIEW)
    assert_error(api.get(f"/api/entityGroup/{theirs.pk}/entityViews", PAGE), 404)
    assert_error(api.get(f"/api/entityGroup/{uuid.uuid4()}/entityViews", PAGE), 404)
    assert_error(api.get("/api/entityGroup/not-an-id/entityViews", PAGE), 400)
    mine = make_group(tenant, "Screens", GroupType.ENTITY_VIEW)
    assert_error(mallory_api.post(f"/api/entityGroup/{mine.pk}/addEntities", [str(views["roof"].pk)],
                                  format="json"), 404)
    their_view = make_view(other_tenant, make_device(other_tenant, "their-thermo"), "their-view")
    assert_error(api.post(f"/api/entityGroup/{mine.pk}/addEntities", [str(their_view.pk)], format="json"), 404)
    assert not mine.entity_views.exists()


def test_customer_users_may_not(customer_api, tenant, views):
    group = make_group(tenant, "Screens", GroupType.ENTITY_VIEW, members=[views["roof"]])
    assert customer_api.get(f"/api/entityGroup/{group.pk}/entityViews", PAGE).status_code == 403
    assert customer_api.post(f"/api/entityGroup/{group.pk}/deleteEntities", [str(views["roof"].pk)],
                             format="json").status_code == 404  # the tenant's group: not its to change (roles/)
    assert group.entity_views.count() == 1


def test_saving_a_view_with_group_ids_adds_it(api, tenant):
    device = make_device(tenant, "thermo")
    first = make_group(tenant, "Screens", GroupType.ENTITY_VIEW)
    second = make_group(tenant, "Kiosks", GroupType.ENTITY_VIEW)
    body = {"name": "hall", "type": "panel", "entityId": {"entityType": "DEVICE", "id": str(device.pk)}}
    url = f"/api/entityView?entityGroupId={first.pk}&entityGroupIds={second.pk}"
    res = api.post(url, body, format="json")
    assert res.status_code == 200, res.content
    view = EntityView.objects.get(name="hall")
    assert set(view.groups.filter(group_all=False)) == {first, second}
    device_group = make_group(tenant, "Meters")
    assert_error(api.post(f"/api/entityView?entityGroupId={device_group.pk}", {**body, "name": "stairs"},
                          format="json"), 400, "holds DEVICE entities, not ENTITY_VIEW")
    assert_error(api.post(f"/api/entityView?entityGroupId={uuid.uuid4()}", {**body, "name": "porch"},
                          format="json"), 404)


def test_the_entity_group_query_filter_finds_entity_view_members(api, mallory_api, tenant, views):
    group = make_group(tenant, "Screens", GroupType.ENTITY_VIEW, members=[views["lobby"], views["roof"]])
    entity_filter = {"type": "entityGroup", "groupType": "ENTITY_VIEW", "entityGroup": str(group.pk)}
    page = find(api, query(entity_filter))
    assert sorted(names(page)) == ["lobby", "roof"]
    assert {row["entityId"]["entityType"] for row in page["data"]} == {"ENTITY_VIEW"}
    assert find(mallory_api, query(entity_filter))["data"] == []
    wrong_type = find(api, query({**entity_filter, "groupType": "DEVICE"}))
    assert wrong_type["data"] == []
