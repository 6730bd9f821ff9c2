"""Report templates: CRUD at ThingsBoard's paths, bad input, tenancy and customer ownership."""

import pytest

from reports.models import ReportTemplate
from reports.tests.helpers import CSV_CONFIG, make_template
from tbproject.testing.fixtures import api_as

BODY = {"name": "Energy", "format": "CSV", "type": "REPORT", "description": "monthly", "configuration": CSV_CONFIG}
PAGE = {"pageSize": 10, "page": 0}


def test_it_saves_reads_lists_updates_and_deletes_a_template(api, tenant):
    res = api.post("/api/reportTemplate", BODY, format="json")
    assert res.status_code == 200, res.content
    saved = res.json()
    assert saved["id"]["entityType"] == "REPORT_TEMPLATE" and saved["ownerId"]["entityType"] == "TENANT"
    assert saved["configuration"]["components"][0]["type"] == "HEADING" and saved["format"] == "CSV"
    pk = saved["id"]["id"]
    assert api.get(f"/api/reportTemplate/{pk}").json()["name"] == "Energy"
    info = api.get(f"/api/reportTemplate/info/{pk}").json()
    assert "configuration" not in info and info["ownerName"] is None
    make_template(tenant, name="Pdf one", fmt="PDF")
    page = api.get("/api/reportTemplateInfos/all", {**PAGE, "formatList": "CSV"}).json()
    assert [t["name"] for t in page["data"]] == ["Energy"] and page["totalElements"] == 1
    assert api.get("/api/reportTemplateInfos/all", {**PAGE, "textSearch": "pdf"}).json()["totalElements"] == 1
    assert [t["name"] for t in api.get("/api/reportTemplates", {"reportTemplateIds": pk}).json()] == ["Energy"]
    res = api.post("/api/reportTemplate", {**saved, "name": "Energy v2"}, format="json")
    assert res.status_code == 200 and res.json()["name"] == "Energy v2" and res.json()["version"] == 2
    assert api.delete(f"/api/reportTemplate/{pk}").status_code == 200
    assert api.get(f"/api/reportTemplate/{pk}").status_code == 404


@pytest.mark.parametrize("change, message", [
    ({"name": ""}, "name should be specified"),
    ({"name": "x" * 256}, "less than 255"),
    ({"format": "XLS"}, "format should be one of"),
    ({"type": "CHART"}, "type should be one of"),
    ({"configuration": None}, "configuration should be specified"),
    ({"configuration": {"format": "CSV", "components": "HEADING"}}, "components must be a list"),
    ({"configuration": {"format": "PDF"}}, "must match the template format"),
    ({"configuration": {"format": "CSV", "namePattern": 5}}, "namePattern must be a string"),
])
def test_bad_templates_are_refused_and_nothing_is_stored(api, change, message):
    res = api.post("/api/reportTemplate", {**BODY, **change}, format="json")
    assert res.status_code == 400 and message in res.json()["message"], res.content
    assert not ReportTemplate.objects.exists()


def test_bad_ids_and_bodies(api):
    assert api.post("/api/reportTemplate", [1], format="json").status_code == 400
    assert api.get("/api/reportTemplate/not-a-uuid").status_code == 400
    assert api.get("/api/reportTemplateInfos/all", {"pageSize": 10}).status_code == 400
    assert api.get("/api/reportTemplateInfos/all", {**PAGE, "typeList": "CHART"}).status_code == 400
    assert api.get("/api/reportTemplates", {"reportTemplateIds": "nope"}).status_code == 400


def test_another_tenants_template_is_a_404(api, mallory_api, tenant):
    template = make_template(tenant)
    for path in (f"/api/reportTemplate/{template.pk}", f"/api/reportTemplate/info/{template.pk}"):
        assert mallory_api.get(path).status_code == 404
    assert mallory_api.delete(f"/api/reportTemplate/{template.pk}").status_code == 404
    res = mallory_api.post("/api/reportTemplate", {**BODY, "id": {"entityType": "REPORT_TEMPLATE",
                                                                  "id": str(template.pk)}}, format="json")
    assert res.status_code == 404
    assert mallory_api.get("/api/reportTemplateInfos/all", PAGE).json()["totalElements"] == 0
    assert mallory_api.get("/api/reportTemplates", {"reportTemplateIds": str(template.pk)}).json() == []
    assert ReportTemplate.objects.get(pk=template.pk).name == "Energy"


def test_customer_users_own_their_customers_templates(api, customer_api, customer_user, customer, tenant):
    make_template(tenant, name="Tenant's")
    res = customer_api.post("/api/reportTemplate", BODY, format="json")
    assert res.status_code == 200 and res.json()["ownerId"] == {"entityType": "CUSTOMER", "id": str(customer.pk)}
    assert [t["name"] for t in customer_api.get("/api/reportTemplateInfos/all", PAGE).json()["data"]] == ["Energy"]
    # the tenant administrator: its own templates, and its customers' too with includeCustomers
    assert [t["name"] for t in api.get("/api/reportTemplateInfos/all", PAGE).json()["data"]] == ["Tenant's"]
    everything = api.get("/api/reportTemplateInfos/all", {**PAGE, "includeCustomers": "true"}).json()
    assert everything["totalElements"] == 2
    assert {t["ownerName"] for t in everything["data"]} == {None, customer.title}
    tenants_own = ReportTemplate.objects.get(name="Tenant's")
    assert api_as(customer_user).get(f"/api/reportTemplate/{tenants_own.pk}").status_code == 404
