"""Customer assignment, what customer users see, the home dashboard and the small read-only endpoints."""

import pytest

from audit.models import AuditLog
from dashboards.models import Dashboard
from tbproject.testing.api import assert_error, page_names
from tbproject.testing.factories import make_customer


@pytest.fixture
def board(tenant):
    return Dashboard.objects.create(tenant=tenant, title="Plant overview", configuration_text='{"widgets":{}}')


def test_assign_and_unassign(api, board, customer):
    url = f"/api/customer/{customer.pk}/dashboard/{board.pk}"
    res = api.post(url)
    assert res.status_code == 200, res.content
    assert res.json()["assignedCustomers"] == [
        {"customerId": {"entityType": "CUSTOMER", "id": str(customer.pk)}, "title": "Customer A", "public": False}]
    assert res.json()["version"] == 2 and res.json()["configuration"] == {"widgets": {}}
    assert api.post(url).json()["version"] == 2  # already assigned: nothing changes
    rows = AuditLog.objects.filter(entity_type="DASHBOARD", entity_id=board.pk)
    assert [(r.action_type, r.action_data["assignedCustomerName"]) for r in rows] == [
        ("ASSIGNED_TO_CUSTOMER", "Customer A")]
    res = api.delete(url)
    assert res.json()["assignedCustomers"] == [] and res.json()["version"] == 3
    assert rows.filter(action_type="UNASSIGNED_FROM_CUSTOMER").count() == 1
    assert not rows.filter(action_type="UPDATED").exists()


def test_a_dashboard_may_be_assigned_to_several_customers(api, tenant, board, customer):
    other = make_customer(tenant, "Customer B")
    api.post(f"/api/customer/{other.pk}/dashboard/{board.pk}")
    res = api.post(f"/api/customer/{customer.pk}/dashboard/{board.pk}")
    assert [c["title"] for c in res.json()["assignedCustomers"]] == ["Customer A", "Customer B"]
    page = api.get(f"/api/customer/{other.pk}/dashboards?pageSize=10&page=0")
    assert page_names(page, "title") == ["Plant overview"]
    assert page.json()["data"][0]["assignedCustomers"] == res.json()["assignedCustomers"]


def test_the_customer_list_endpoints_set_add_and_remove(api, tenant, board, customer):
    b, c = make_customer(tenant, "Customer B"), make_customer(tenant, "Customer C")
    titles = lambda res: [x["title"] for x in res.json()["assignedCustomers"]]  # noqa: E731
    assert titles(api.post(f"/api/dashboard/{board.pk}/customers", [str(customer.pk), str(b.pk)],
                           format="json")) == ["Customer A", "Customer B"]
    assert titles(api.post(f"/api/dashboard/{board.pk}/customers/add", [str(c.pk)], format="json")) == [
        "Customer A", "Customer B", "Customer C"]
    assert titles(api.post(f"/api/dashboard/{board.pk}/customers/remove", [str(customer.pk)], format="json")) == [
        "Customer B", "Customer C"]
    assert titles(api.post(f"/api/dashboard/{board.pk}/customers", format="json")) == []
    assert_error(api.post(f"/api/dashboard/{board.pk}/customers/add", {"id": "x"}, format="json"), 400, "array")


def test_another_tenants_customer_or_dashboard_is_not_found(api, board, other_tenant):
    theirs = make_customer(other_tenant, "Theirs")
    foreign = Dashboard.objects.create(tenant=other_tenant, title="theirs")
    assert_error(api.post(f"/api/customer/{theirs.pk}/dashboard/{board.pk}"), 404)
    assert_error(api.post(f"/api/dashboard/{board.pk}/customers/add", [str(theirs.pk)], format="json"), 404)
    assert_error(api.get(f"/api/customer/{theirs.pk}/dashboards?pageSize=10&page=0"), 404)
    assert_error(api.post(f"/api/customer/public/dashboard/{foreign.pk}"), 404)
    assert not board.assigned_customers.exists()


def test_there_is_no_public_customer(api, board):
    assert_error(api.post(f"/api/customer/public/dashboard/{board.pk}"), 501, "no public customer")


def test_a_customer_user_sees_only_its_customers_dashboards(api, customer_api, tenant, board, customer):
    hidden = Dashboard.objects.create(tenant=tenant, title="Tenant only")
    api.post(f"/api/customer/{customer.pk}/dashboard/{board.pk}")
    assert customer_api.get(f"/api/dashboard/{board.pk}").json()["configuration"] == {"widgets": {}}
    assert customer_api.get(f"/api/dashboard/info/{board.pk}").status_code == 200
    for url in (f"/api/dashboard/{hidden.pk}", f"/api/dashboard/info/{hidden.pk}"):
        assert_error(customer_api.get(url), 404)
    assert page_names(customer_api.get(f"/api/customer/{customer.pk}/dashboards?pageSize=10&page=0"),
                      "title") == ["Plant overview"]
    assert page_names(customer_api.get("/api/user/dashboards?pageSize=10&page=0"), "title") == ["Plant overview"]
    assert [d["title"] for d in customer_api.get(f"/api/dashboards?dashboardIds={hidden.pk},{board.pk}").json()] \
        == ["Plant overview"]
    other = make_customer(tenant, "Customer B")
    assert_error(customer_api.get(f"/api/customer/{other.pk}/dashboards?pageSize=10&page=0"), 404)
    # reading is all: no saves, deletes, assignments or tenant pages
    assert_error(customer_api.post("/api/dashboard", {"title": "mine"}, format="json"), 403)
    assert_error(customer_api.delete(f"/api/dashboard/{board.pk}"), 403)
    assert_error(customer_api.delete(f"/api/customer/{customer.pk}/dashboard/{board.pk}"), 403)
    assert_error(customer_api.get("/api/tenant/dashboards?pageSize=10&page=0"), 403)
    assert Dashboard.objects.count() == 2 and board.assigned_customers.count() == 1


def test_no_home_dashboard_answers_an_empty_200(api, customer_api, sysadmin):
    from tbproject.testing.fixtures import api_as

    for client in (api, customer_api, api_as(sysadmin)):
        for url in ("/api/dashboard/home", "/api/dashboard/home/info"):
            res = client.get(url)
            assert res.status_code == 200 and res.content == b"", url


def test_the_home_dashboard_comes_from_the_user_then_the_customer_then_the_tenant(
        api, customer_api, tenant, board, customer, customer_user):
    assert api.get("/api/tenant/dashboard/home/info").json() == {"dashboardId": None, "hideDashboardToolbar": True}
    res = api.post("/api/tenant/dashboard/home/info",
                   {"dashboardId": {"entityType": "DASHBOARD", "id": str(board.pk)}, "hideDashboardToolbar": False},
                   format="json")
    assert res.status_code == 200
    expected = {"dashboardId": {"entityType": "DASHBOARD", "id": str(board.pk)}, "hideDashboardToolbar": False}
    assert api.get("/api/tenant/dashboard/home/info").json() == expected
    assert api.get("/api/dashboard/home/info").json() == expected
    home = api.get("/api/dashboard/home").json()
    assert home["title"] == "Plant overview" and home["hideDashboardToolbar"] is False and "configuration" in home
    # the customer user may not read the tenant's home dashboard until it is assigned to its customer
    assert customer_api.get("/api/dashboard/home/info").content == b""
    mine = Dashboard.objects.create(tenant=tenant, title="Customer home")
    mine.assigned_customers.add(customer)
    customer.additional_info = {"homeDashboardId": str(mine.pk)}
    customer.save()
    assert customer_api.get("/api/dashboard/home/info").json() == {
        "dashboardId": {"entityType": "DASHBOARD", "id": str(mine.pk)}, "hideDashboardToolbar": True}
    customer_user.additional_info = {"homeDashboardId": "not-a-uuid"}  # ignored, as ThingsBoard does
    customer_user.save()
    assert customer_api.get("/api/dashboard/home").json()["title"] == "Customer home"
    api.post("/api/tenant/dashboard/home/info", {"dashboardId": None}, format="json")
    assert api.get("/api/dashboard/home/info").content == b""


def test_the_tenant_home_must_be_the_tenants_dashboard(api, other_tenant):
    foreign = Dashboard.objects.create(tenant=other_tenant, title="theirs")
    assert_error(api.post("/api/tenant/dashboard/home/info", {"dashboardId": str(foreign.pk)}, format="json"), 404)
    assert_error(api.post("/api/tenant/dashboard/home/info", [1], format="json"), 400)


def test_server_time_and_datapoints_limit(api):
    assert isinstance(api.get("/api/dashboard/serverTime").json(), int)
    assert api.get("/api/dashboard/maxDatapointsLimit").json() == 50000


def test_deleting_a_customer_drops_its_assignments(api, tenant, board):
    other = make_customer(tenant, "Customer B")
    api.post(f"/api/customer/{other.pk}/dashboard/{board.pk}")
    other.delete()
    assert api.get(f"/api/dashboard/{board.pk}").json()["assignedCustomers"] == []
