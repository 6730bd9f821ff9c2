"""Users' API keys: made (the value shown once), listed (never the value), described, disabled, deleted;
``X-Authorization: ApiKey <value>`` acting as the key's user with its rights; wrong, disabled, expired and
deleted keys 401; another tenant's keys and users 404; bad input 400."""

import json

import pytest
from rest_framework.test import APIClient
from tb_pe_client.models import ApiKey, ApiKeyInfo, PageDataApiKeyInfo

from tbproject.clock import now_ms
from tbproject.testing.api import assert_error
from tbproject.testing.fixtures import api_as
from tenants.models import ApiKey as Row


def _new(client, user, **extra) -> dict:
    body = {"userId": {"entityType": "USER", "id": str(user.pk)}, "description": "CI server", **extra}
    res = client.post("/api/apiKey", body, format="json")
    assert res.status_code == 200, res.content
    return res.json()


def _as_key(value: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_AUTHORIZATION=f"ApiKey {value}")
    return client


def test_the_life_cycle_of_a_key(api, tenant_admin):
    made = ApiKey.from_dict(_new(api, tenant_admin))
    assert made.value.startswith("tb_") and made.enabled is True and made.expired is False
    assert made.expiration_time == 0 and str(made.user_id.id) == str(tenant_admin.pk)
    row = Row.objects.get(pk=str(made.id.id))
    assert made.value not in (row.key_hash, row.description) and len(row.key_hash) == 64

    res = api.get(f"/api/apiKeys/{tenant_admin.pk}?pageSize=10&page=0")
    page = PageDataApiKeyInfo.from_dict(res.json())
    assert page.total_elements == 1 and page.data[0].description == "CI server"
    assert made.value not in res.content.decode() and "value" not in res.json()["data"][0]

    res = api.put(f"/api/apiKey/{made.id.id}/description", json.dumps("Build farm"), content_type="application/json")
    assert ApiKeyInfo.from_dict(res.json()).description == "Build farm"
    res = api.put(f"/api/apiKey/{made.id.id}/description", "Plain text", content_type="text/plain")
    assert res.json()["description"] == "Plain text"

    key = _as_key(made.value)
    assert key.get("/api/auth/user").json()["email"] == tenant_admin.email
    assert ApiKeyInfo.from_dict(api.put(f"/api/apiKey/{made.id.id}/enabled/false").json()).enabled is False
    assert_error(key.get("/api/auth/user"), 401, "disabled")
    assert api.put(f"/api/apiKey/{made.id.id}/enabled/true").json()["enabled"] is True
    assert key.get("/api/auth/user").status_code == 200

    assert api.delete(f"/api/apiKey/{made.id.id}").status_code == 200
    assert_error(key.get("/api/auth/user"), 401, "Invalid API key")
    assert_error(api.delete(f"/api/apiKey/{made.id.id}"), 404)


def test_wrong_and_expired_keys_are_refused(api, tenant_admin):
    assert_error(_as_key("tb_not-a-key").get("/api/auth/user"), 401, "Invalid API key")
    assert_error(_as_key("x" * 300).get("/api/auth/user"), 401)
    expired = _new(api, tenant_admin, expirationTime=now_ms() - 1000)
    assert expired["expired"] is True
    assert_error(_as_key(expired["value"]).get("/api/auth/user"), 401, "expired")
    later = _new(api, tenant_admin, expirationTime=now_ms() + 3_600_000)
    assert _as_key(later["value"]).get("/api/auth/user").status_code == 200


def test_a_key_has_its_users_rights_and_no_more(api, customer_user, customer_api, sysadmin):
    own = _new(customer_api, customer_user)
    key = _as_key(own["value"])
    assert key.get("/api/auth/user").json()["authority"] == "CUSTOMER_USER"
    assert_error(key.get("/api/admin/securitySettings"), 403)
    assert_error(key.get("/api/tenant/devices?pageSize=10&page=0"), 403)
    root_key = _as_key(_new(api_as(sysadmin), sysadmin)["value"])
    assert root_key.get("/api/admin/securitySettings").status_code == 200


def test_a_disabled_user_cannot_use_its_keys(api, customer_user, customer_api):
    own = _new(customer_api, customer_user)
    assert api.post(f"/api/user/{customer_user.pk}/userCredentialsEnabled?userCredentialsEnabled=false"
                    ).status_code == 200
    from tenants.system import api_keys

    api_keys._cache.forget()  # another process's cache: it sees the disable within CACHE_TTL
    assert_error(_as_key(own["value"]).get("/api/auth/user"), 401, "disabled")


def test_who_manages_whose_keys(api, tenant_admin, customer_user, customer_api, mallory, mallory_api, sysadmin):
    # a tenant administrator manages its tenant's users' keys
    theirs = _new(api, customer_user)
    assert customer_api.get(f"/api/apiKeys/{customer_user.pk}?pageSize=10&page=0").json()["totalElements"] == 1
    # a customer user only its own: not its administrator's
    assert_error(customer_api.get(f"/api/apiKeys/{tenant_admin.pk}?pageSize=10&page=0"), 404)
    assert_error(customer_api.post("/api/apiKey", {"userId": {"id": str(tenant_admin.pk)}, "description": "x"},
                                   format="json"), 404)
    # another tenant: neither its users nor its keys exist
    assert_error(mallory_api.get(f"/api/apiKeys/{customer_user.pk}?pageSize=10&page=0"), 404)
    for call in (lambda: mallory_api.delete(f"/api/apiKey/{theirs['id']['id']}"),
                 lambda: mallory_api.put(f"/api/apiKey/{theirs['id']['id']}/enabled/false"),
                 lambda: mallory_api.put(f"/api/apiKey/{theirs['id']['id']}/description", json.dumps("x"),
                                         content_type="application/json")):
        assert_error(call(), 404)
    assert Row.objects.get(pk=theirs["id"]["id"]).enabled is True
    # a system administrator manages its own keys and every tenant's users'
    root = api_as(sysadmin)
    assert root.get(f"/api/apiKeys/{customer_user.pk}?pageSize=10&page=0").json()["totalElements"] == 1
    assert _new(root, mallory)["userId"]["id"] == str(mallory.pk)
    assert root.put(f"/api/apiKey/{theirs['id']['id']}/enabled/false").status_code == 200
    assert root.delete(f"/api/apiKey/{theirs['id']['id']}").status_code == 200
    root_key = _new(root, sysadmin)
    assert root_key["tenantId"]["id"] == "13814000-1dd2-11b2-8080-808080808080"
    assert mallory_api.get(f"/api/apiKeys/{mallory.pk}?pageSize=10&page=0").json()["totalElements"] == 1
    # ... and nobody else manages the system administrator's
    assert_error(mallory_api.get(f"/api/apiKeys/{sysadmin.pk}?pageSize=10&page=0"), 404)
    assert_error(mallory_api.delete(f"/api/apiKey/{root_key['id']['id']}"), 404)


def test_a_tenant_admin_does_not_manage_another_tenant_admins_keys(api, tenant, tenant_admin):
    from tenants.choices import Authority
    from tenants.models import User

    other = User.objects.create_user("bob@example.com", "Secret-123", authority=Authority.TENANT_ADMIN, tenant=tenant)
    bobs = _new(api_as(other), other)
    assert_error(api.post("/api/apiKey", {"userId": {"id": str(other.pk)}, "description": "x"}, format="json"), 404)
    assert_error(api.get(f"/api/apiKeys/{other.pk}?pageSize=10&page=0"), 404)
    for call in (lambda: api.delete(f"/api/apiKey/{bobs['id']['id']}"),
                 lambda: api.put(f"/api/apiKey/{bobs['id']['id']}/enabled/false")):
        assert_error(call(), 404)
    assert Row.objects.get(pk=bobs["id"]["id"]).enabled is True


def test_the_role_check_runs_for_tenant_users(api, tenant_admin, sysadmin, monkeypatch):
    from tbproject.api import role_hook

    seen = []
    # only the request checker is swapped (monkeypatch restores it); the roles app's other hooks stay
    monkeypatch.setattr(role_hook, "_checker", lambda request, view: seen.append(request.user.email) and False)
    assert_error(api.post("/api/apiKey", {"description": "x"}, format="json"), 403)
    assert_error(api.get(f"/api/apiKeys/{tenant_admin.pk}?pageSize=10&page=0"), 403)
    assert _new(api_as(sysadmin), sysadmin)  # no role applies to the system administrator
    monkeypatch.undo()
    assert seen == [tenant_admin.email] * 2 and not Row.objects.filter(user=tenant_admin).exists()


@pytest.mark.parametrize("change", ["disable user", "delete user", "disable key", "delete key row",
                                    "mark tenant"])
def test_a_change_in_this_process_stops_a_cached_key_at_once(api, tenant, tenant_admin, customer_user, change):
    from tenants import accounts, deletion

    made = _new(api, customer_user)
    key = _as_key(made["value"])
    assert key.get("/api/auth/user").status_code == 200  # cached now
    if change == "disable user":
        accounts.set_enabled(tenant_admin, customer_user.pk, False)
    elif change == "delete user":
        customer_user.delete()
    elif change == "disable key":
        row = Row.objects.get(pk=made["id"]["id"])
        row.enabled = False
        row.save()
    elif change == "delete key row":  # what the Django admin's delete does
        Row.objects.get(pk=made["id"]["id"]).delete()
    else:
        deletion.mark(tenant)
    assert_error(key.get("/api/auth/user"), 401)


def test_the_list_pages_searches_and_sorts(api, tenant_admin):
    for name in ("beta", "alpha", "gamma"):
        _new(api, tenant_admin, description=name)
    res = api.get(f"/api/apiKeys/{tenant_admin.pk}?pageSize=2&page=0&sortProperty=description&sortOrder=ASC")
    assert [k["description"] for k in res.json()["data"]] == ["alpha", "beta"] and res.json()["hasNext"] is True
    res = api.get(f"/api/apiKeys/{tenant_admin.pk}?pageSize=10&page=0&textSearch=AMM")
    assert [k["description"] for k in res.json()["data"]] == ["gamma"]
    assert_error(api.get(f"/api/apiKeys/{tenant_admin.pk}?pageSize=10&page=0&sortProperty=value"), 400)


@pytest.mark.parametrize("body, message", [
    ({"description": ""}, "description should be specified"),
    ({"description": "a\x00b"}, "NUL"),
    ({"description": "d" * 300}, "longer than 255"),
    ({"description": "x", "expirationTime": 10**30}, "expirationTime"),
    ({"description": "x", "expirationTime": -5}, "expirationTime"),
    ({"description": "x", "expirationTime": "soon"}, "expirationTime"),
    ({"description": "x", "enabled": "yes"}, "enabled"),
    ({"description": "x", "userId": {"id": "not-a-uuid"}}, "Invalid userId"),
])
def test_bad_keys_are_refused(api, body, message):
    assert_error(api.post("/api/apiKey", body, format="json"), 400, message)
    assert not Row.objects.exists()


def test_bad_paths_and_bodies(api, tenant_admin):
    made = _new(api, tenant_admin)
    assert_error(api.put(f"/api/apiKey/{made['id']['id']}/enabled/maybe"), 400)
    assert_error(api.delete("/api/apiKey/not-a-uuid"), 404)
    assert_error(api.get("/api/apiKeys/not-a-uuid?pageSize=10&page=0"), 400)
    assert_error(api.put(f"/api/apiKey/{made['id']['id']}/description", json.dumps(""),
                         content_type="application/json"), 400)
    assert_error(api.post("/api/apiKey", b'{"description": ', content_type="application/json"), 400)


def test_the_lean_attribute_path_leaves_api_keys_to_django(api, tenant_admin, tenant):
    from tbproject.testing.factories import make_device
    from tbproject.testing.lean import LeanClient

    device = make_device(tenant, "keyed-1")
    value = _new(api, tenant_admin)["value"]
    path = f"/api/plugins/telemetry/DEVICE/{device.pk}/SHARED_SCOPE"
    assert LeanClient(_as_key(value)).asgi_post(path, b'{"a": 1}', "application/json") is None
    assert _as_key(value).post(path, {"a": 1}, format="json").status_code == 200
