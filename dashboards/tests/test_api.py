"""Dashboards through ThingsBoard's REST paths: save, read, list, delete, and what is refused."""

import json
from pathlib import Path

import pytest

from audit.models import AuditLog
from dashboards.models import Dashboard
from tbproject.testing.api import assert_error, assert_isolated, assert_unchanged, page_names, snapshot

EXPORT = json.loads((Path(__file__).parent / "data" / "thermostats.json").read_text())


def compact(value) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def save(api, body, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return api.post(f"/api/dashboard{'?' + query if query else ''}", body, format="json")


def make(tenant, title, **extra) -> Dashboard:
    return Dashboard.objects.create(tenant=tenant, title=title, **extra)


@pytest.fixture
def saved(api):
    res = save(api, EXPORT)
    assert res.status_code == 200, res.content
    return res.json()


def test_a_thingsboard_export_is_saved_and_served_back_unchanged(api, tenant, saved):
    assert saved["id"]["entityType"] == "DASHBOARD"
    assert saved["tenantId"] == {"entityType": "TENANT", "id": str(tenant.pk)}
    assert saved["ownerId"] == saved["tenantId"]
    assert saved["title"] == saved["name"] == "Thermostats"
    assert saved["version"] == 1 and isinstance(saved["createdTime"], int)
    assert saved["assignedCustomers"] == [] and saved["externalId"] is None
    assert saved["mobileHide"] is False and saved["mobileOrder"] is None and saved["image"] is None
    # widgets, states and aliases kept as sent: same keys in the same order, same numbers, same text
    res = api.get(f"/api/dashboard/{saved['id']['id']}")
    assert res.status_code == 200
    assert compact(EXPORT["configuration"]) in res.content.decode()
    assert list(res.json()["configuration"]) == list(EXPORT["configuration"])
    row = Dashboard.objects.get(pk=saved["id"]["id"])
    assert json.loads(row.configuration_text) == EXPORT["configuration"]


def test_the_info_leaves_the_configuration_out(api, tenant, saved):
    info = api.get(f"/api/dashboard/info/{saved['id']['id']}").json()
    assert "configuration" not in info
    assert info["title"] == "Thermostats" and info["ownerName"] == tenant.title and info["groups"] == []
    assert info["assignedCustomers"] == [] and info["version"] == 1


def test_an_update_names_the_version_it_read(api, saved):
    body = {**saved, "title": "Thermostats v2", "mobileOrder": 3}
    res = save(api, body)
    assert res.status_code == 200, res.content
    assert res.json()["version"] == 2 and res.json()["mobileOrder"] == 3
    assert res.json()["configuration"] == EXPORT["configuration"]
    # the first reader posts again with version 1: refused, nothing saved
    stale = Dashboard.objects.get(pk=saved["id"]["id"])
    before = snapshot(stale)
    assert_error(save(api, {**saved, "title": "lost update"}), 409, "already changed by someone else")
    assert_unchanged(stale, before)
    # without a version the save overwrites, as ThingsBoard's does
    body = {k: v for k, v in saved.items() if k != "version"}
    assert save(api, {**body, "title": "forced"}).json()["version"] == 3


def test_an_update_may_replace_the_configuration(api, saved):
    res = save(api, {**saved, "configuration": {"widgets": {}, "states": {"default": {"root": True}}}})
    assert res.json()["configuration"] == {"widgets": {}, "states": {"default": {"root": True}}}
    res = save(api, {**res.json(), "configuration": None})
    assert res.json()["configuration"] is None


def test_delete_and_the_audit_log(api, saved):
    pk = saved["id"]["id"]
    save(api, {**saved, "title": "renamed"})
    assert api.delete(f"/api/dashboard/{pk}").status_code == 200
    assert_error(api.get(f"/api/dashboard/{pk}"), 404)
    rows = AuditLog.objects.filter(entity_type="DASHBOARD", entity_id=pk).order_by("created_time", "action_type")
    assert sorted(r.action_type for r in rows) == ["ADDED", "DELETED", "UPDATED"]
    updated = rows.get(action_type="UPDATED")
    assert {"path": "title", "old": "Thermostats", "new": "renamed"} in updated.action_data["diff"]


def test_the_tenant_page_pages_sorts_and_searches(api, tenant, other_tenant):
    for i, title in enumerate(["Boiler room", "alpha site", "Cellar", "Alpine hut", "zone B"]):
        make(tenant, title, created_time=1000 + i)
    make(other_tenant, "Alpha of another tenant")
    url = "/api/tenant/dashboards?pageSize=2&page={}&sortProperty=title&sortOrder=ASC"
    first, second = api.get(url.format(0)).json(), api.get(url.format(1)).json()
    assert first["totalElements"] == 5 and first["totalPages"] == 3 and first["hasNext"] is True
    assert [r["title"] for r in first["data"] + second["data"]] == ["Alpine hut", "Boiler room", "Cellar", "alpha site"]
    assert "configuration" not in first["data"][0]
    found = api.get("/api/tenant/dashboards?pageSize=10&page=0&textSearch=ALP&sortProperty=createdTime&sortOrder=DESC")
    assert page_names(found, "title") == ["Alpine hut", "alpha site"]  # case-insensitive substring, newest first
    assert page_names(api.get("/api/tenant/dashboards?pageSize=10&page=0&textSearch=room"), "title") == ["Boiler room"]


def test_mobile_leaves_out_hidden_ones_and_puts_mobile_order_first(api, tenant):
    make(tenant, "c", mobile_order=None)
    make(tenant, "a", mobile_order=None)
    make(tenant, "hidden", mobile_hide=True, mobile_order=1)
    make(tenant, "z", mobile_order=1)
    make(tenant, "b", mobile_order=2)
    res = api.get("/api/tenant/dashboards?pageSize=10&page=0&mobile=true&sortProperty=title&sortOrder=ASC")
    assert page_names(res, "title") == ["z", "b", "a", "c"]
    assert res.json()["totalElements"] == 4
    assert len(api.get("/api/tenant/dashboards?pageSize=10&page=0").json()["data"]) == 5


def test_by_ids_answers_the_visible_infos_in_request_order(api, tenant, other_tenant):
    a, b, foreign = make(tenant, "a"), make(tenant, "b"), make(other_tenant, "x")
    res = api.get(f"/api/dashboards?dashboardIds={b.pk},{foreign.pk},{a.pk}")
    assert [r["title"] for r in res.json()] == ["b", "a"]
    assert_error(api.get("/api/dashboards?dashboardIds=nope"), 400, "Invalid UUID")


def test_another_tenants_dashboard_is_not_found(api, other_tenant):
    foreign = make(other_tenant, "theirs", configuration_text='{"widgets":{}}')
    assert_isolated(api, foreign, single="dashboard", update={"title": "mine now"})
    assert_error(api.get(f"/api/dashboard/info/{foreign.pk}"), 404)


@pytest.mark.parametrize(("body", "message"), [
    ({"title": "x", "configuration": [1, 2]}, "must be a JSON object"),
    ({"title": "x", "configuration": "{\"widgets\": {}}"}, "must be a JSON object"),
    ({"title": "bad\x00title"}, ""),
    ({"title": "t" * 256}, "255"),
    ({"title": "   "}, "Dashboard title should be specified!"),
    ({"configuration": {}}, "Dashboard title should be specified!"),
    ({"title": "x", "image": {"url": "x"}}, "'image' must be a text"),
    ({"title": "x", "image": "data:image/png;base64,\x00"}, "NUL"),
    ({"title": "x", "mobileOrder": "first"}, "mobileOrder"),
    ({"title": "x", "mobileHide": "yes"}, "mobileHide"),
    ({"title": "x", "version": "1"}, "version"),
    ({"title": "x", "id": {"entityType": "DASHBOARD", "id": "not-a-uuid"}}, "Invalid UUID"),
])
def test_bad_input_is_a_400_and_saves_nothing(api, body, message):
    assert_error(save(api, body), 400, message)
    assert not Dashboard.objects.exists()


def test_a_body_over_the_api_limit_is_refused(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
    big = {"title": "big", "configuration": {"widgets": {"w": {"config": {"html": "x" * 100_000}}}}}
    res = save(api, big)
    assert res.status_code == 413 and res.json()["message"] == "Request body is too large"
    assert not Dashboard.objects.exists()


def test_a_refused_save_is_audited_as_a_failure(api):
    save(api, {"title": "t" * 256})
    row = AuditLog.objects.get(entity_type="DASHBOARD")
    assert row.action_type == "ADDED" and row.action_status == "FAILURE"


def test_sort_and_page_parameters_are_checked(api):
    assert_error(api.get("/api/tenant/dashboards?pageSize=10&page=0&sortProperty=configuration"), 400, "sortProperty")
    assert_error(api.get("/api/tenant/dashboards?page=0"), 400, "pageSize")
    assert_error(api.get("/api/tenant/dashboards?pageSize=10&page=0&mobile=maybe"), 400, "mobile")
