"""Dashboard entity groups (ThingsBoard PE, group type DASHBOARD): the generic group endpoints of
devices/ serve them, dashboards/ adds its own paths; answers read with tb-pe-client's models."""

import json
import uuid
from pathlib import Path

import pytest
from django.urls import resolve
from tb_pe_client.models import Dashboard as TbDashboard
from tb_pe_client.models import DashboardInfo, EntityGroupInfo, PageDataDashboardInfo, PageDataShortEntityView

from dashboards.models import Dashboard
from devices.choices import GroupType
from devices.group_types import member_model
from tbproject.testing.api import assert_error, assert_unchanged, snapshot
from tbproject.testing.factories import make_device, make_group

EXPORT = json.loads((Path(__file__).parent / "data" / "thermostats.json").read_text())
PAGE = {"pageSize": 10, "page": 0}


def make(tenant, title, **extra) -> Dashboard:
    return Dashboard.objects.create(tenant=tenant, title=title, configuration_text='{"widgets":{}}', **extra)


@pytest.fixture
def boards(tenant):
    return make_group(tenant, "Boards", GroupType.DASHBOARD)


def test_dashboards_register_as_group_members():
    assert member_model("DASHBOARD") is Dashboard
    assert member_model("DEVICE").__name__ == "Device" and member_model("WIDGET") is None


def test_the_group_paths_are_not_taken_for_a_member_id():
    group_id = uuid.uuid4()
    for suffix, name in (("", "dashboard-group-list"), ("/export", "dashboard-group-export"),
                         ("/import", "dashboard-group-import")):
        assert resolve(f"/api/entityGroup/{group_id}/dashboards{suffix}").url_name == name
    assert resolve(f"/api/entityGroup/{group_id}/{uuid.uuid4()}").url_name == "group-member"


def test_a_dashboard_group_is_created_listed_and_filled(api, tenant):
    res = api.post("/api/entityGroup", {"name": "Plant boards", "type": "DASHBOARD"}, format="json")
    assert res.status_code == 200, res.content
    group = EntityGroupInfo.from_dict(res.json())
    assert group.type == "DASHBOARD" and group.name == "Plant boards"
    assert [g["name"] for g in api.get("/api/entityGroups/DASHBOARD", PAGE).json()["data"]] == ["Plant boards"]
    a, b = make(tenant, "Boiler"), make(tenant, "Alpha")
    url = f"/api/entityGroup/{group.id.id}"
    assert api.post(f"{url}/addEntities", [str(a.pk), str(b.pk)], format="json").status_code == 200
    page = PageDataShortEntityView.from_dict(api.get(f"{url}/entities", {**PAGE, "sortProperty": "name"}).json())
    assert [(e.id.entity_type, e.name) for e in page.data] == [("DASHBOARD", "Alpha"), ("DASHBOARD", "Boiler")]
    assert api.get(f"{url}/entities", {**PAGE, "textSearch": "boi"}).json()["data"][0]["name"] == "Boiler"
    assert api.get(f"{url}/{a.pk}").json() == {"id": {"entityType": "DASHBOARD", "id": str(a.pk)}, "name": "Boiler"}
    assert api.get(f"/api/entityGroups/DASHBOARD/{a.pk}").json() == [{"entityType": "ENTITY_GROUP",
                                                                        "id": str(group.id.id)}]
    assert api.post(f"{url}/deleteEntities", [str(b.pk)], format="json").status_code == 200
    assert [d.title for d in Dashboard.objects.filter(groups=group.id.id)] == ["Boiler"]


def test_the_groups_dashboards_page_is_dashboard_info(api, tenant, boards):
    a, b = make(tenant, "Boiler"), make(tenant, "Alpha")
    make(tenant, "Not in the group")
    boards.dashboards.add(a, b)
    res = api.get(f"/api/entityGroup/{boards.pk}/dashboards", {**PAGE, "sortProperty": "title"})
    assert res.status_code == 200, res.content
    page = PageDataDashboardInfo.from_dict(res.json())
    assert [d.title for d in page.data] == ["Alpha", "Boiler"] and page.total_elements == 2
    assert [(g.id.entity_type, g.name) for g in page.data[0].groups] == [("ENTITY_GROUP", "Boards")]
    assert "configuration" not in res.json()["data"][0]


def test_members_of_another_type_are_refused(api, tenant, boards):
    devices = make_group(tenant, "Meters")
    board, device = make(tenant, "Boiler"), make_device(tenant, "meter-1")
    assert_error(api.get(f"/api/entityGroup/{devices.pk}/dashboards", PAGE), 400,
                 "Entity group [Meters] holds DEVICE entities, not DASHBOARD")
    assert_error(api.post(f"/api/entityGroup/{boards.pk}/addEntities", [str(device.pk)], format="json"), 400,
                 "is not a DASHBOARD")
    assert_error(api.post(f"/api/entityGroup/{devices.pk}/addEntities", [str(board.pk)], format="json"), 400,
                 "is not a DEVICE")
    assert not boards.dashboards.exists() and not devices.devices.exists()


def test_another_tenants_group_or_dashboard_is_not_found(api, tenant, other_tenant, boards):
    theirs, their_board = make_group(other_tenant, "Theirs", GroupType.DASHBOARD), make(other_tenant, "theirs")
    for suffix in ("dashboards", "dashboards/export?limit=5", "entities?pageSize=5&page=0"):
        assert_error(api.get(f"/api/entityGroup/{theirs.pk}/{suffix}"), 404)
    assert_error(api.post(f"/api/entityGroup/{theirs.pk}/dashboards/import", [{"title": "x"}], format="json"), 404)
    assert_error(api.post(f"/api/entityGroup/{boards.pk}/addEntities", [str(their_board.pk)], format="json"), 404)
    assert not Dashboard.objects.filter(title="x").exists() and not boards.dashboards.exists()


def test_customer_users_reach_no_group(customer_api, boards):
    for url in (f"/api/entityGroup/{boards.pk}/dashboards?pageSize=5&page=0",
                f"/api/entityGroup/{boards.pk}/dashboards/export?limit=5"):
        assert customer_api.get(url).status_code == 403
    assert customer_api.post(f"/api/entityGroup/{boards.pk}/dashboards/import", [], format="json").status_code == 403


def test_a_save_joins_the_groups_it_names(api, tenant, boards):
    more = make_group(tenant, "More boards", GroupType.DASHBOARD)
    res = api.post(f"/api/dashboard?entityGroupId={boards.pk}", {"title": "One"}, format="json")
    assert res.status_code == 200, res.content
    one = Dashboard.objects.get(pk=res.json()["id"]["id"])
    assert list(one.groups.all()) == [boards]
    res = api.post(f"/api/dashboard?entityGroupIds={boards.pk},{more.pk}", {"title": "Two"}, format="json")
    info = DashboardInfo.from_dict(api.get(f"/api/dashboard/info/{res.json()['id']['id']}").json())
    assert [g.name for g in info.groups] == ["Boards", "More boards"]
    assert all(g.id.entity_type == "ENTITY_GROUP" for g in info.groups)
    # an update names one more group: it joins it and stays in the others
    res = api.post(f"/api/dashboard?entityGroupId={more.pk}", {**res.json(), "title": "Two v2"}, format="json")
    assert res.status_code == 200 and res.json()["version"] == 2
    assert {g.name for g in Dashboard.objects.get(title="Two v2").groups.all()} == {"Boards", "More boards"}


def test_a_save_naming_a_wrong_group_saves_nothing(api, tenant, other_tenant, boards):
    devices, theirs = make_group(tenant, "Meters"), make_group(other_tenant, "Theirs", GroupType.DASHBOARD)
    assert_error(api.post(f"/api/dashboard?entityGroupId={theirs.pk}", {"title": "A"}, format="json"), 404)
    assert_error(api.post(f"/api/dashboard?entityGroupId={uuid.uuid4()}", {"title": "A"}, format="json"), 404)
    assert_error(api.post(f"/api/dashboard?entityGroupIds={boards.pk},{devices.pk}", {"title": "A"}, format="json"),
                 400, "holds DEVICE entities, not DASHBOARD")
    assert_error(api.post("/api/dashboard?entityGroupIds=nope", {"title": "A"}, format="json"), 400, "Invalid UUID")
    assert not Dashboard.objects.exists()
    board = make(tenant, "Kept")
    board.groups.add(boards)
    before = snapshot(board)
    body = {"id": {"entityType": "DASHBOARD", "id": str(board.pk)}, "title": "Renamed"}
    assert_error(api.post(f"/api/dashboard?entityGroupId={devices.pk}", body, format="json"), 400)
    assert_unchanged(board, before)


def test_a_dashboard_info_names_no_group_to_a_customer_user(customer_api, tenant, customer, boards):
    board = make(tenant, "Shared")
    board.assigned_customers.add(customer)
    board.groups.add(boards)
    info = customer_api.get(f"/api/dashboard/info/{board.pk}").json()
    assert info["title"] == "Shared" and info["groups"] == []


def test_export_answers_full_dashboards(api, tenant, boards):
    for title in ("Charlie", "Alpha", "Bravo"):
        make(tenant, title).groups.add(boards)
    make(tenant, "Outside")
    res = api.get(f"/api/entityGroup/{boards.pk}/dashboards/export", {"limit": 2})
    assert res.status_code == 200, res.content
    exported = [TbDashboard.from_dict(d) for d in res.json()]
    assert [d.title for d in exported] == ["Alpha", "Bravo"] and exported[0].configuration == {"widgets": {}}
    assert len(api.get(f"/api/entityGroup/{boards.pk}/dashboards/export", {"limit": 50}).json()) == 3
    assert_error(api.get(f"/api/entityGroup/{boards.pk}/dashboards/export"), 400, "'limit' is not present")
    assert_error(api.get(f"/api/entityGroup/{boards.pk}/dashboards/export", {"limit": "x"}), 400, "limit")
    assert_error(api.get(f"/api/entityGroup/{boards.pk}/dashboards/export", {"limit": 0}), 400, "limit")


def test_import_creates_the_dashboards_in_the_group(api, tenant, boards):
    body = [EXPORT, {"title": "Second", "mobileOrder": 2}]
    res = api.post(f"/api/entityGroup/{boards.pk}/dashboards/import", body, format="json")
    assert res.status_code == 200 and res.content == b""
    rows = {d.title: d for d in boards.dashboards.all()}
    assert set(rows) == {"Thermostats", "Second"} and rows["Second"].mobile_order == 2
    assert rows["Thermostats"].configuration == EXPORT["configuration"]
    # what the export gives back imports again: without overwrite, as new dashboards
    exported = api.get(f"/api/entityGroup/{boards.pk}/dashboards/export", {"limit": 10}).json()
    assert api.post(f"/api/entityGroup/{boards.pk}/dashboards/import", exported, format="json").status_code == 200
    assert boards.dashboards.count() == 4 and Dashboard.objects.filter(tenant=tenant).count() == 4


def test_import_with_overwrite_updates_the_groups_dashboard_of_that_title(api, tenant, boards):
    mine = make(tenant, "Thermostats")
    mine.groups.add(boards)
    outside = make(tenant, "Thermostats")  # same title, not in the group: left alone
    url = f"/api/entityGroup/{boards.pk}/dashboards/import?overwrite=true"
    assert api.post(url, [EXPORT, {"title": "New one"}], format="json").status_code == 200
    mine.refresh_from_db()
    assert mine.configuration == EXPORT["configuration"] and mine.version == 2
    assert outside.configuration == {"widgets": {}} and not outside.groups.exists()
    assert sorted(d.title for d in boards.dashboards.all()) == ["New one", "Thermostats"]


def test_a_bad_import_saves_nothing(api, tenant, boards):
    url = f"/api/entityGroup/{boards.pk}/dashboards/import"
    assert_error(api.post(url, {"title": "x"}, format="json"), 400, "JSON array")
    assert_error(api.post(url, [{"title": "ok"}, "nope"], format="json"), 400, "Dashboard [1] must be a JSON object")
    assert_error(api.post(url, [{"title": "ok"}, {"title": ""}], format="json"), 400,
                 "Dashboard title should be specified!")
    assert_error(api.post(url, [{"title": "ok", "configuration": [1]}], format="json"), 400, "JSON object")
    assert_error(api.post(f"{url}?overwrite=maybe", [{"title": "ok"}], format="json"), 400, "overwrite")
    devices = make_group(tenant, "Meters")
    assert_error(api.post(f"/api/entityGroup/{devices.pk}/dashboards/import", [{"title": "ok"}], format="json"), 400,
                 "not DASHBOARD")
    assert not Dashboard.objects.exists()


def test_deleting_a_dashboard_or_its_group_keeps_the_other(api, tenant, boards):
    board = make(tenant, "Boiler")
    board.groups.add(boards)
    assert api.delete(f"/api/entityGroup/{boards.pk}").status_code == 200
    assert Dashboard.objects.filter(pk=board.pk).exists()
    other = make_group(tenant, "Other", GroupType.DASHBOARD)
    board.groups.add(other)
    assert api.delete(f"/api/dashboard/{board.pk}").status_code == 200
    assert not other.dashboards.exists()
