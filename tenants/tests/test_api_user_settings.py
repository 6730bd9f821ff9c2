"""The current user's settings (ThingsBoard's UserSettings): merge on PUT, dotted paths, delete, types."""

import pytest

from tbproject.testing.api import assert_error
from tbproject.testing.fixtures import api_as
from tenants.models import UserSettings


def test_put_merges_and_dotted_keys_set_nested_values(api, tenant_admin):
    assert api.get("/api/user/settings/general").json() == {}
    assert api.put("/api/user/settings/general", {"A": 5, "B": {"C": 10, "D": 20}}, format="json").status_code == 200
    assert api.put("/api/user/settings/general", {"B.D": 30, "E.F.G": True}, format="json").status_code == 200
    assert api.get("/api/user/settings/general").json() == {"A": 5, "B": {"C": 10, "D": 30}, "E": {"F": {"G": True}}}
    api.put("/api/user/settings/general", {"B": {"C": 1}}, format="json")  # a top-level key is replaced whole
    assert api.get("/api/user/settings/general").json()["B"] == {"C": 1}
    assert UserSettings.objects.get(user=tenant_admin, type="GENERAL").settings["A"] == 5


def test_delete_removes_comma_separated_paths(api):
    api.put("/api/user/settings/general", {"A": {"B": 5, "X": 1}, "C": 15, "D": 1}, format="json")
    assert api.delete("/api/user/settings/A.B,C,missing.path").status_code == 200
    assert api.get("/api/user/settings/general").json() == {"A": {"X": 1}, "D": 1}
    api.put("/api/user/settings/QUICK_LINKS", {"links": ["devices", "assets"], "x": 1}, format="json")
    assert api.delete("/api/user/settings/quick_links/x").status_code == 200
    assert api.get("/api/user/settings/quick_links").json() == {"links": ["devices", "assets"]}
    assert api.get("/api/user/settings/general").json() == {"A": {"X": 1}, "D": 1}  # types are apart


def test_post_replaces_the_general_settings(api):
    api.put("/api/user/settings/general", {"old": 1}, format="json")
    res = api.post("/api/user/settings", {"new": {"x": 1}}, format="json")
    assert res.status_code == 200 and res.json() == {"new": {"x": 1}}
    assert api.get("/api/user/settings/general").json() == {"new": {"x": 1}}


def test_each_user_has_its_own(api, customer_api, sysadmin, tenant_admin, customer_user):
    api.put("/api/user/settings/general", {"mine": "alice"}, format="json")
    customer_api.put("/api/user/settings/general", {"mine": "carol"}, format="json")
    root = api_as(sysadmin)
    root.put("/api/user/settings/dashboards", {"mine": "root"}, format="json")
    assert api.get("/api/user/settings/general").json() == {"mine": "alice"}
    assert customer_api.get("/api/user/settings/general").json() == {"mine": "carol"}
    assert root.get("/api/user/settings/general").json() == {}
    assert root.get("/api/user/settings/dashboards").json() == {"mine": "root"}
    customer_api.delete("/api/user/settings/mine")
    assert api.get("/api/user/settings/general").json() == {"mine": "alice"}
    assert_error(api_as(None).get("/api/user/settings/general"), 401)


@pytest.mark.parametrize("method, url, body, message", [
    ("get", "/api/user/settings/visited_dashboards", None, "Unsupported user settings type"),
    ("put", "/api/user/settings/nope", {"a": 1}, "Unsupported user settings type"),
    ("delete", "/api/user/settings/nope/a", None, "Unsupported user settings type"),
    ("put", "/api/user/settings/general", [1, 2], "must be a JSON object"),
    ("put", "/api/user/settings/general", {"a..b": 1}, "Invalid settings path"),
    ("put", "/api/user/settings/general", {"a": "x\u0000"}, "NUL"),
    ("put", "/api/user/settings/general", {"a": "x" * 100_001}, "limited to"),
    ("post", "/api/user/settings", "text", "must be a JSON object"),
    ("delete", "/api/user/settings/a.,b", None, "Invalid settings path"),
])
def test_bad_input_is_a_400(api, method, url, body, message):
    call = getattr(api, method)
    res = call(url, body, format="json") if body is not None else call(url)
    assert_error(res, 400, message)
    assert not UserSettings.objects.exclude(settings={}).exists()
