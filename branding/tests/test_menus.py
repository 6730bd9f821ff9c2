"""Custom menus: CRUD, assignment, the menu a user gets."""

import pytest
from tb_pe_client.models import CustomMenu, CustomMenuConfig, CustomMenuDeleteResult, CustomMenuInfo, EntityInfo

from tbproject.testing.api import assert_error
from tbproject.testing.factories import make_customer
from tbproject.testing.fixtures import api_as

pytestmark = pytest.mark.django_db

CONFIG = {"items": [
    {"type": "HOME", "visible": True, "homeType": "DEFAULT"},
    {"type": "DEFAULT", "id": "devices", "name": "Meters", "visible": True},
    {"type": "CUSTOM", "name": "Docs", "icon": "menu_book", "menuItemType": "LINK", "linkType": "URL",
     "url": "https://docs.example.com", "visible": True},
    {"type": "CUSTOM", "name": "More", "menuItemType": "SECTION", "visible": True, "pages": [
        {"type": "CUSTOM", "name": "Status", "menuItemType": "LINK", "linkType": "URL",
         "url": "https://status.example.com"}]},
]}


def _create(client, name="Ops menu", scope="TENANT", assignee_type="NO_ASSIGN", query=""):
    body = CustomMenuInfo.from_dict({"name": name, "scope": scope, "assigneeType": assignee_type}).to_dict()
    return client.post(f"/api/customMenu{query}", body, format="json")


def test_it_round_trips_a_menu_in_thingsboards_json(api):
    res = _create(api)
    assert res.status_code == 200, res.content
    menu = CustomMenu.from_dict(res.json())
    menu_id = menu.id.id
    assert menu.scope == "TENANT" and menu.assignee_type == "NO_ASSIGN"
    body = CustomMenuConfig.from_dict(CONFIG).to_dict()
    saved = api.put(f"/api/customMenu/{menu_id}/config", body, format="json")
    assert saved.status_code == 200, saved.content
    assert len(CustomMenu.from_dict(saved.json()).config.items) == 4
    assert api.get(f"/api/customMenu/{menu_id}/config").json()["items"][2]["url"] == "https://docs.example.com"
    assert api.put(f"/api/customMenu/{menu_id}/name", "Renamed", format="json").status_code == 200
    assert CustomMenuInfo.from_dict(api.get(f"/api/customMenu/{menu_id}/info").json()).name == "Renamed"
    page = api.get("/api/customMenu/infos?pageSize=10&page=0&scope=TENANT").json()
    assert [row["name"] for row in page["data"]] == ["Renamed"] and page["hasNext"] is False
    assert api.get("/api/customMenu/infos?pageSize=10&page=0&scope=CUSTOMER").json()["totalElements"] == 0
    result = CustomMenuDeleteResult.from_dict(api.delete(f"/api/customMenu/{menu_id}").json())
    assert result.success is True
    assert_error(api.get(f"/api/customMenu/{menu_id}/info"), 404)


def test_it_applies_the_most_specific_menu(api, sysadmin, tenant_admin, customer_user, customer):
    sys_menu = _create(api_as(sysadmin), "System customers", scope="CUSTOMER", assignee_type="ALL").json()
    api_as(sysadmin).put(f"/api/customMenu/{sys_menu['id']['id']}/config",
                         {"items": [{"type": "DEFAULT", "id": "home"}]}, format="json")
    client = api_as(customer_user)
    assert client.get("/api/customMenu").json() == {"items": [{"type": "DEFAULT", "id": "home"}]}
    assert api.get("/api/customMenu").json() is None  # no TENANT-scope menu: the UI's default
    for_all = _create(api, "All customers", scope="CUSTOMER", assignee_type="ALL").json()["id"]["id"]
    api.put(f"/api/customMenu/{for_all}/config", {"items": [{"type": "DEFAULT", "id": "all"}]}, format="json")
    assert client.get("/api/customMenu").json()["items"][0]["id"] == "all"
    for_a = _create(api, "Customer A", scope="CUSTOMER", assignee_type="CUSTOMERS",
                    query=f"?assignToList={customer.pk}").json()["id"]["id"]
    api.put(f"/api/customMenu/{for_a}/config", {"items": [{"type": "DEFAULT", "id": "a"}]}, format="json")
    assert client.get("/api/customMenu").json()["items"][0]["id"] == "a"
    assert client.get("/api/customMenu/currentCustomMenu").json()["items"][0]["id"] == "a"
    assignees = [EntityInfo.from_dict(row) for row in api.get(f"/api/customMenu/{for_a}/assigneeList").json()]
    assert [(a.id.entity_type, a.name) for a in assignees] == [("CUSTOMER", "Customer A")]
    for_carol = _create(api, "Carol", scope="CUSTOMER", assignee_type="USERS",
                        query=f"?assignToList={customer_user.pk}").json()["id"]["id"]
    api.put(f"/api/customMenu/{for_carol}/config", {"items": [{"type": "DEFAULT", "id": "c"}]}, format="json")
    res = client.get("/api/customMenu")
    assert res.json()["items"][0]["id"] == "c"
    assert client.get("/api/customMenu", HTTP_IF_NONE_MATCH=res["ETag"]).status_code == 304


def test_it_needs_force_to_take_an_assignee_from_another_menu(api, customer):
    first = _create(api, "First", scope="CUSTOMER", assignee_type="CUSTOMERS", query=f"?assignToList={customer.pk}")
    second = _create(api, "Second", scope="CUSTOMER").json()["id"]["id"]
    url = f"/api/customMenu/{second}/assign/CUSTOMERS"
    assert_error(api.put(url, [str(customer.pk)], format="json"), 400, "already assigned")
    assert api.put(f"{url}?force=true", [str(customer.pk)], format="json").status_code == 200
    assert api.get(f"/api/customMenu/{first.json()['id']['id']}/assigneeList").json() == []
    res = api.delete(f"/api/customMenu/{second}")
    assert_error(res, 400, "force=true")
    assert res.json()["success"] is False and len(res.json()["assigneeList"]) == 1
    assert api.delete(f"/api/customMenu/{second}?force=true").json()["success"] is True
    _create(api, "All 1", scope="TENANT", assignee_type="ALL")
    assert_error(_create(api, "All 2", scope="TENANT", assignee_type="ALL"), 400, "force=true")
    assert _create(api, "All 2", scope="TENANT", assignee_type="ALL", query="?force=true").status_code == 200


def test_it_keeps_menus_to_their_tenant(api, mallory_api, mallory, customer, other_tenant):
    menu_id = _create(api).json()["id"]["id"]
    for url in (f"/api/customMenu/{menu_id}/info", f"/api/customMenu/{menu_id}/config",
                f"/api/customMenu/{menu_id}/assigneeList"):
        assert_error(mallory_api.get(url), 404)
    assert_error(mallory_api.put(f"/api/customMenu/{menu_id}/name", "x", format="json"), 404)
    assert_error(mallory_api.delete(f"/api/customMenu/{menu_id}?force=true"), 404)
    assert mallory_api.get("/api/customMenu/infos?pageSize=10&page=0").json()["totalElements"] == 0
    theirs = _create(mallory_api, scope="CUSTOMER").json()["id"]["id"]
    # another tenant's customer as an assignee: 404, and nothing assigned
    assert_error(mallory_api.put(f"/api/customMenu/{theirs}/assign/CUSTOMERS", [str(customer.pk)], format="json"),
                 404)
    assert mallory_api.get(f"/api/customMenu/{theirs}/assigneeList").json() == []
    other_customer = make_customer(other_tenant, "Mallory's customer")
    assert mallory_api.put(f"/api/customMenu/{theirs}/assign/CUSTOMERS", [str(other_customer.pk)],
                           format="json").status_code == 200


def test_it_lets_customer_users_read_only(customer_api, api):
    assert_error(_create(customer_api, scope="CUSTOMER"), 403)
    menu_id = _create(api).json()["id"]["id"]
    assert_error(customer_api.get(f"/api/customMenu/{menu_id}/info"), 404)
    assert customer_api.get("/api/customMenu").status_code == 200


@pytest.mark.parametrize("config, message", [
    ({"items": [{"type": "CUSTOM", "name": "x", "menuItemType": "LINK", "url": "javascript:alert(1)"}]}, "url"),
    ({"items": [{"type": "CUSTOM", "menuItemType": "LINK", "url": "https://x.example.com"}]}, "name"),
    ({"items": [{"type": "SOMETHING"}]}, "type"),
    ({"items": [{"type": "CUSTOM", "name": "d", "menuItemType": "LINK", "linkType": "DASHBOARD",
                 "dashboardId": "784f394c-42b6-435a-983c-b7beff2784f9"}]}, "dashboard"),
    ({"items": [{"type": "DEFAULT", "id": "x", "icon": "<img src=x onerror=alert(1)>"}]}, "icon"),
    ({"items": "nope"}, "items"),
    ([], "JSON object"),
])
def test_it_refuses_a_bad_config_and_keeps_the_saved_one(api, config, message):
    menu_id = _create(api).json()["id"]["id"]
    api.put(f"/api/customMenu/{menu_id}/config", CONFIG, format="json")
    assert_error(api.put(f"/api/customMenu/{menu_id}/config", config, format="json"), 400, message)
    assert api.get(f"/api/customMenu/{menu_id}/config").json() == CONFIG


@pytest.mark.parametrize("body, message", [
    ({"name": "", "scope": "TENANT", "assigneeType": "ALL"}, "name"),
    ({"name": "x", "scope": "SYSTEM", "assigneeType": "ALL"}, "scope"),
    ({"name": "x", "scope": "TENANT", "assigneeType": "CUSTOMERS"}, "CUSTOMERS"),
    ({"name": "x", "scope": "TENANT", "assigneeType": "EVERYONE"}, "assigneeType"),
])
def test_it_refuses_a_bad_menu_info(api, body, message):
    assert_error(api.post("/api/customMenu", body, format="json"), 400, message)
    assert api.get("/api/customMenu/infos?pageSize=10&page=0").json()["totalElements"] == 0
