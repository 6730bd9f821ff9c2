"""The dashboard report (older API), blob entities and the scheduled reports list. The renderer is
replaced by a stand-in where a file is needed (the real render: test_render.py)."""

import pytest

from dashboards.models import Dashboard
from reports import rendering
from reports.models import BlobEntity
from reports.tests.helpers import make_blob, make_template
from scheduler.models import SchedulerEvent

PAGE = {"pageSize": 10, "page": 0}


@pytest.fixture
def dashboard(tenant):
    return Dashboard.objects.create(tenant=tenant, title="Plant", configuration_text='{"widgets": {}}')


@pytest.fixture
def opened(monkeypatch):
    """The renderer's stand-in: records the path and user it was asked for, answers a tiny PNG."""
    calls = []

    def fake(path, user, kind):
        calls.append((path, user, kind))
        return b"\x89PNG\r\n\x1a\n" if kind == "PNG" else b"%PDF-1.4"

    monkeypatch.setattr(rendering, "render", fake)
    return calls


def test_it_renders_the_dashboard_of_this_server_never_a_given_host(api, dashboard, tenant_admin, opened):
    body = {"baseUrl": "http://169.254.169.254", "type": "png", "timezone": "Europe/Berlin", "state": "main",
            "namePattern": "plant-%d{yyyy}"}
    res = api.post(f"/api/report/{dashboard.pk}/download", body, format="json")
    assert res.status_code == 200 and res["Content-Type"] == "image/png" and res.content.startswith(b"\x89PNG")
    assert "plant-2" in res["Content-Disposition"] and ".png" in res["Content-Disposition"]
    path, user, kind = opened[0]
    assert path.startswith(f"/reports/view/dashboard/{dashboard.pk}?") and "169.254" not in path
    assert user == tenant_admin and kind == "PNG"
    res = api.post("/api/report/test?reportsServerEndpointUrl=http://evil.example",
                   {**body, "dashboardId": str(dashboard.pk), "type": "PDF"}, format="json")
    assert res.status_code == 200 and res.content.startswith(b"%PDF") and "evil" not in opened[1][0]


def test_render_takes_only_a_path_of_this_server():
    for target in ("http://evil.example/x", "//evil.example/x"):
        with pytest.raises(ValueError):
            rendering.render(target, None, "PDF")


@pytest.mark.parametrize("body, status", [
    ({"type": "GIF"}, 400), ({"timezone": "Mars/Olympus"}, 400), ({"state": 5}, 400), ([1], 400),
])
def test_bad_dashboard_report_configs_are_400(api, dashboard, opened, body, status):
    assert api.post(f"/api/report/{dashboard.pk}/download", body, format="json").status_code == status
    assert api.post("/api/report/test", {"type": "PDF"}, format="json").status_code == 400
    assert opened == []


def test_a_dashboard_the_user_may_not_see_is_a_404(mallory_api, customer_api, dashboard, opened):
    assert mallory_api.post(f"/api/report/{dashboard.pk}/download", {}, format="json").status_code == 404
    assert customer_api.post(f"/api/report/{dashboard.pk}/download", {}, format="json").status_code == 404
    assert opened == []


def test_without_chromium_the_dashboard_report_is_a_503(api, dashboard, settings):
    settings.REPORTS_CHROMIUM_PATH = "/nonexistent/chromium"
    res = api.post(f"/api/report/{dashboard.pk}/download", {"type": "PDF"}, format="json")
    assert res.status_code == 503 and "report server" in res.json()["message"]


def test_the_renderers_page_shows_the_dashboard_to_its_users_only(api, mallory_api, anon, dashboard):
    dashboard.configuration = {"widgets": {"w1": {"typeFullFqn": "system.cards.value", "config": {"title": "Temp"}}}}
    dashboard.save()
    page = api.get(f"/reports/view/dashboard/{dashboard.pk}?tz=UTC&state=main")
    assert page.status_code == 200 and b"Plant" in page.content and b"Temp" in page.content
    assert mallory_api.get(f"/reports/view/dashboard/{dashboard.pk}").status_code == 404
    assert anon.get(f"/reports/view/dashboard/{dashboard.pk}").status_code == 401


def test_blob_entities_list_read_download_and_delete(api, mallory_api, customer_api, tenant, customer):
    blob = make_blob(tenant)
    theirs = make_blob(tenant, name="customer-report.pdf", customer=customer)
    page = api.get("/api/blobEntities", {**PAGE, "type": "report", "sortProperty": "name"}).json()
    assert [b["name"] for b in page["data"]] == ["customer-report.pdf", "report-1.pdf"]
    assert api.get("/api/blobEntities", {**PAGE, "textSearch": "cust"}).json()["totalElements"] == 1
    assert api.get("/api/blobEntities", {**PAGE, "startTime": blob.created_time + 10**9}).json()["data"] == []
    info = api.get(f"/api/blobEntity/info/{theirs.pk}").json()
    assert info["customerTitle"] == customer.title and info["contentType"] == "application/pdf"
    assert [b["id"]["id"] for b in api.get("/api/blobEntities/list", {"blobEntityIds": str(blob.pk)}).json()] == [
        str(blob.pk)]
    assert api.get(f"/api/blobEntity/{blob.pk}/download").content == b"%PDF-1.4 test"
    # tenancy: another tenant sees nothing; a customer user only its customer's
    assert mallory_api.get(f"/api/blobEntity/info/{blob.pk}").status_code == 404
    assert mallory_api.get(f"/api/blobEntity/{blob.pk}/download").status_code == 404
    assert mallory_api.delete(f"/api/blobEntity/{blob.pk}").status_code == 404
    assert [b["name"] for b in customer_api.get("/api/blobEntities", PAGE).json()["data"]] == ["customer-report.pdf"]
    assert customer_api.get(f"/api/blobEntity/{blob.pk}/download").status_code == 404
    assert api.get("/api/blobEntities", {**PAGE, "startTime": "soon"}).status_code == 400
    assert api.delete(f"/api/blobEntity/{blob.pk}").status_code == 200
    assert list(BlobEntity.objects.values_list("name", flat=True)) == ["customer-report.pdf"]


def test_scheduled_reports_are_the_generate_report_events(api, mallory_api, tenant, tenant_admin):
    template = make_template(tenant)
    body = {"reportTemplateId": {"entityType": "REPORT_TEMPLATE", "id": str(template.pk)},
            "userId": {"entityType": "USER", "id": str(tenant_admin.pk)}, "timezone": "UTC"}
    SchedulerEvent.objects.create(tenant=tenant, name="Monthly", type="generateReport",
                                  schedule={"timezone": "UTC", "startTime": 1},
                                  configuration={"msgType": "generateReport", "msgBody": body})
    SchedulerEvent.objects.create(tenant=tenant, name="Other", type="sendRpcRequest", schedule={})
    page = api.get("/api/scheduledReports", PAGE).json()
    assert [e["name"] for e in page["data"]] == ["Monthly"]
    row = page["data"][0]
    assert row["templateInfo"]["name"] == "Energy" and row["userName"] == tenant_admin.email
    assert api.get("/api/scheduledReports", {**PAGE, "reportTemplateId": str(template.pk)}).json()["totalElements"] == 1
    other = {**PAGE, "userId": "7c0a7a4e-64a4-4e35-8d64-1c1d27e3c0a1"}
    assert api.get("/api/scheduledReports", other).json()["totalElements"] == 0
    assert mallory_api.get("/api/scheduledReports", PAGE).json()["totalElements"] == 0
