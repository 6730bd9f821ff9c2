"""The customer's home dashboard setting, a tenant's dashboards for the system administrator, and a
user's last visited and starred dashboards; answers read with tb-pe-client's models."""

import uuid

import pytest
from django.urls import resolve
from tb_pe_client.models import HomeDashboardInfo, PageDataDashboardInfo, UserDashboardsInfo

from dashboards import visits
from dashboards.models import Dashboard
from tbproject.testing.api import assert_error
from tbproject.testing.fixtures import api_as
from tenants.models import UserSettings

PAGE = {"pageSize": 10, "page": 0}


def make(tenant, title, *customers) -> Dashboard:
    board = Dashboard.objects.create(tenant=tenant, title=title)
    board.assigned_customers.add(*customers)
    return board


@pytest.mark.parametrize(("url", "name"), [
    ("/api/customer/dashboard/home/info", "dashboard-customer-home-info"),
    (f"/api/tenant/{uuid.uuid4()}/dashboards", "dashboard-tenant-list"),
    ("/api/user/lastVisitedDashboards", "dashboard-last-visited"),
    (f"/api/user/dashboards/{uuid.uuid4()}/star", "dashboard-user-action"),
])
def test_each_path_is_its_own(url, name):
    assert resolve(url).url_name == name


# --- the customer's home dashboard -------------------------------------------------------------------


def test_a_customer_user_sets_its_customers_home_dashboard(customer_api, tenant, customer, customer_user):
    board = make(tenant, "Customer home", customer)
    url = "/api/customer/dashboard/home/info"
    empty = HomeDashboardInfo.from_dict(customer_api.get(url).json())
    assert empty.dashboard_id is None and empty.hide_dashboard_toolbar is True
    body = {"dashboardId": {"entityType": "DASHBOARD", "id": str(board.pk)}, "hideDashboardToolbar": False}
    assert customer_api.post(url, body, format="json").status_code == 200
    info = HomeDashboardInfo.from_dict(customer_api.get(url).json())
    assert str(info.dashboard_id.id) == str(board.pk) and info.hide_dashboard_toolbar is False
    customer.refresh_from_db()
    assert customer.additional_info["homeDashboardId"] == str(board.pk)
    # the customer's setting is where its users land
    assert customer_api.get("/api/dashboard/home/info").json()["dashboardId"]["id"] == str(board.pk)
    assert customer_api.post(url, {"dashboardId": None}, format="json").status_code == 200
    customer.refresh_from_db()
    assert "homeDashboardId" not in customer.additional_info


def test_the_customer_setting_is_checked(customer_api, api, tenant, customer):
    url = "/api/customer/dashboard/home/info"
    not_assigned = make(tenant, "Tenant only")
    body = {"dashboardId": {"entityType": "DASHBOARD", "id": str(not_assigned.pk)}}
    assert_error(customer_api.post(url, body, format="json"), 404)
    assert_error(customer_api.post(url, {**body, "dashboardId": str(uuid.uuid4())}, format="json"), 404)
    assert_error(customer_api.post(url, [1], format="json"), 400, "JSON object")
    assert_error(customer_api.post(url, {"dashboardId": 5}, format="json"), 400, "dashboardId")
    assert_error(customer_api.post(url, {"dashboardId": None, "hideDashboardToolbar": "no"}, format="json"), 400,
                 "hideDashboardToolbar")
    customer.refresh_from_db()
    assert "homeDashboardId" not in customer.additional_info
    # the tenant's own setting is the tenant admin's; the customer's is its users'
    assert api.get(url).status_code == 403 and api.post(url, {}, format="json").status_code == 403


def test_the_tenant_setting_shares_the_rules(api, tenant):
    url = "/api/tenant/dashboard/home/info"
    assert_error(api.post(url, {"dashboardId": None, "hideDashboardToolbar": 1}, format="json"), 400,
                 "hideDashboardToolbar")
    assert_error(api.post(url, "x", format="json"), 400, "JSON object")
    tenant.additional_info = {"homeDashboardId": {"entityType": "DASHBOARD", "id": str(uuid.uuid4())}}
    tenant.save()
    assert api.get(url).json()["dashboardId"]["entityType"] == "DASHBOARD"


# --- a tenant's dashboards, for the system administrator --------------------------------------------


def test_the_system_administrator_pages_a_tenants_dashboards(sysadmin, api, tenant, other_tenant):
    make(tenant, "Beta"), make(tenant, "Alpha"), make(other_tenant, "Theirs")
    root = api_as(sysadmin)
    res = root.get(f"/api/tenant/{tenant.pk}/dashboards", {**PAGE, "sortProperty": "title", "textSearch": "a"})
    assert res.status_code == 200, res.content
    page = PageDataDashboardInfo.from_dict(res.json())
    assert [d.title for d in page.data] == ["Alpha", "Beta"] and page.total_elements == 2
    assert all(str(d.tenant_id.id) == str(tenant.pk) for d in page.data)
    assert_error(root.get(f"/api/tenant/{uuid.uuid4()}/dashboards", PAGE), 404)
    assert_error(root.get(f"/api/tenant/{tenant.pk}/dashboards", {"page": 0}), 400, "pageSize")
    # a tenant admin: its own tenant is a 403, another a 404 (as ThingsBoard's)
    assert_error(api.get(f"/api/tenant/{tenant.pk}/dashboards", PAGE), 403)
    assert_error(api.get(f"/api/tenant/{other_tenant.pk}/dashboards", PAGE), 404)
    assert_error(api.get("/api/tenant/nope/dashboards", PAGE), 400, "Invalid UUID")


# --- last visited and starred ---------------------------------------------------------------------------


def test_visits_and_stars_are_kept_newest_first(api, tenant, tenant_admin):
    a, b = make(tenant, "A"), make(tenant, "B")
    empty = UserDashboardsInfo.from_dict(api.get("/api/user/lastVisitedDashboards").json())
    assert empty.last == [] and empty.starred == []
    api.get(f"/api/user/dashboards/{a.pk}/visit")
    api.get(f"/api/user/dashboards/{b.pk}/VISIT")
    res = api.get(f"/api/user/dashboards/{b.pk}/star")
    assert res.status_code == 200, res.content
    info = UserDashboardsInfo.from_dict(res.json())
    assert [(str(x.id), x.title, x.starred) for x in info.last] == [(str(b.pk), "B", True), (str(a.pk), "A", False)]
    assert [(str(x.id), x.title) for x in info.starred] == [(str(b.pk), "B")]
    assert isinstance(info.last[0].last_visited, int) and isinstance(info.starred[0].starred_at, int)
    info = UserDashboardsInfo.from_dict(api.get(f"/api/user/dashboards/{a.pk}/visit").json())
    assert [x.title for x in info.last] == ["A", "B"] and info.last[1].starred is True
    res = api.get(f"/api/user/dashboards/{b.pk}/unstar")
    info = UserDashboardsInfo.from_dict(res.json())
    assert info.starred == [] and [x.starred for x in info.last] == [False, False]
    assert api.get("/api/user/lastVisitedDashboards").json() == res.json()
    # kept in the user's settings of ThingsBoard's type, which a client cannot write through settings
    row = UserSettings.objects.get(user=tenant_admin, type=visits.KIND)
    assert [e["id"] for e in row.settings["last"]] == [str(a.pk), str(b.pk)]
    assert api.get("/api/user/settings/visited_dashboards").status_code == 400


def test_each_list_keeps_ten(api, tenant):
    boards = [make(tenant, f"Board {i:02}") for i in range(12)]
    for board in boards:
        api.get(f"/api/user/dashboards/{board.pk}/visit")
        api.get(f"/api/user/dashboards/{board.pk}/star")
    info = api.get("/api/user/lastVisitedDashboards").json()
    assert [x["title"] for x in info["last"]] == [f"Board {i:02}" for i in range(11, 1, -1)]
    assert [x["title"] for x in info["starred"]] == [f"Board {i:02}" for i in range(11, 1, -1)]


def test_a_dashboard_the_user_no_longer_sees_drops_out(api, customer_api, tenant, customer):
    board, kept = make(tenant, "Gone", customer), make(tenant, "Kept", customer)
    for target in (board, kept):
        assert customer_api.get(f"/api/user/dashboards/{target.pk}/star").status_code == 200
    board.assigned_customers.remove(customer)
    assert [x["title"] for x in customer_api.get("/api/user/lastVisitedDashboards").json()["starred"]] == ["Kept"]
    api.delete(f"/api/dashboard/{kept.pk}")
    assert customer_api.get("/api/user/lastVisitedDashboards").json() == {"last": [], "starred": []}


def test_a_user_acts_only_on_a_dashboard_it_may_read(api, customer_api, sysadmin, tenant, other_tenant):
    theirs, not_assigned = make(other_tenant, "Theirs"), make(tenant, "Tenant only")
    assert_error(api.get(f"/api/user/dashboards/{theirs.pk}/visit"), 404)
    assert_error(customer_api.get(f"/api/user/dashboards/{not_assigned.pk}/star"), 404)
    assert_error(api.get(f"/api/user/dashboards/{not_assigned.pk}/open"), 400, "Unsupported dashboard action 'open'")
    assert_error(api.get("/api/user/dashboards/nope/visit"), 400, "Invalid UUID")
    root = api_as(sysadmin)
    assert root.get("/api/user/lastVisitedDashboards").status_code == 403
    assert root.get(f"/api/user/dashboards/{not_assigned.pk}/visit").status_code == 403
    assert not UserSettings.objects.filter(type=visits.KIND).exists()


def test_a_damaged_stored_document_is_read_as_far_as_it_goes(api, tenant, tenant_admin):
    board = make(tenant, "Fine")
    UserSettings.objects.create(user=tenant_admin, type=visits.KIND, settings={
        "last": [{"id": str(board.pk), "lastVisited": 5}, {"id": "bad", "lastVisited": 1}, "x"], "starred": {"a": 1}})
    assert api.get("/api/user/lastVisitedDashboards").json() == {
        "last": [{"id": str(board.pk), "title": "Fine", "starred": False, "lastVisited": 5}], "starred": []}
    assert len(api.get(f"/api/user/dashboards/{board.pk}/star").json()["starred"]) == 1
