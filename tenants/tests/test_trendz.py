"""Trendz (tenants/trendz.py, /api/trendz/...): the configuration per tenant, the answers of a Trendz this
server cannot reach (no Trendz runs in the tests, nor is any contacted), who may call what, bad input."""

from django.test import override_settings
from tb_pe_client.models import TrendzConfiguration, TrendzHealthcheckResult, TrendzSynchronizationResult

from tbproject.testing.fixtures import api_as


def test_an_unconfigured_trendz_is_not_available(api, customer_api):
    assert api.get("/api/trendz/config").json() == {"trendzUrl": None, "tbUrl": None}
    sync = TrendzSynchronizationResult.from_dict(customer_api.get("/api/trendz/sync").json())
    assert sync.type == "SYNC_NOT_INITIALIZED" and sync.status == "NOT_AVAILABLE"
    health = TrendzHealthcheckResult.from_dict(customer_api.get("/api/trendz/healthcheck").json())
    assert health.status == "NOT_AVAILABLE" and health.message == "Trendz is not configured"
    refused = api.post("/api/trendz/connect")
    assert refused.status_code == 400 and "not configured" in refused.json()["message"]
    assert customer_api.post("/api/trendz/public/connect").status_code == 200  # nothing to connect to
    with override_settings(TRENDZ_URL="http://trendz.env:8888"):
        assert api.get("/api/trendz/config").json()["trendzUrl"] == "http://trendz.env:8888"


def test_a_tenants_configuration_is_its_own_and_connecting_finds_trendz_unreachable(api, mallory_api, customer_api,
                                                                                   sysadmin):
    body = {"trendzUrl": "https://trendz.example.com/", "tbUrl": "https://tb.example.com"}
    saved = TrendzConfiguration.from_dict(api.post("/api/trendz/config", body, format="json").json())
    assert saved.trendz_url == "https://trendz.example.com" and saved.tb_url == "https://tb.example.com"
    assert api.get("/api/trendz/config").json()["trendzUrl"] == "https://trendz.example.com"
    assert mallory_api.get("/api/trendz/config").json()["trendzUrl"] is None  # another tenant: not its

    result = TrendzSynchronizationResult.from_dict(api.post("/api/trendz/connect").json())
    assert result.type == "TRENDZ_URL_UNREACHABLE" and result.status == "NOT_AVAILABLE" and result.updated_ts
    assert customer_api.get("/api/trendz/sync").json()["type"] == "TRENDZ_URL_UNREACHABLE"
    health = customer_api.get("/api/trendz/healthcheck").json()
    assert health["status"] == "NOT_AVAILABLE" and "trendz.example.com" in health["message"]
    assert mallory_api.get("/api/trendz/sync").json()["type"] == "SYNC_NOT_INITIALIZED"

    root = api_as(sysadmin)
    root.post("/api/trendz/config", {"trendzUrl": "http://trendz.system"}, format="json")
    assert mallory_api.get("/api/trendz/config").json()["trendzUrl"] == "http://trendz.system"  # the system's
    assert api.get("/api/trendz/config").json()["trendzUrl"] == "https://trendz.example.com"


def test_customer_users_cannot_configure_and_bad_urls_are_a_400(api, customer_api):
    assert customer_api.get("/api/trendz/config").status_code == 403
    assert customer_api.post("/api/trendz/connect").status_code == 403
    for body in ([], {"trendzUrl": "ftp://x"}, {"trendzUrl": "http://"}, {"trendzUrl": 5},
                 {"trendzUrl": "https://ok.example", "tbUrl": "javascript:alert(1)"},
                 {"trendzUrl": "http://" + "a" * 1100 + ".com"}):
        answer = api.post("/api/trendz/config", body, format="json")
        assert answer.status_code == 400 and answer.json()["errorCode"] == 31, body
    assert api.get("/api/trendz/config").json()["trendzUrl"] is None  # nothing saved


def test_connecting_keeps_the_sync_state_only_and_writes_only_what_changed(api, customer_api, sysadmin, tenant,
                                                                           monkeypatch):
    from tenants import trendz
    from tenants.system import store

    api_as(sysadmin).post("/api/trendz/config", {"trendzUrl": "http://trendz.system"}, format="json")
    writes = []
    real_write = store.write
    monkeypatch.setattr(store, "write", lambda key, value: (writes.append(key), real_write(key, value))[1])
    first = api.post("/api/trendz/connect").json()
    assert first["type"] == "TRENDZ_URL_UNREACHABLE" and writes == [trendz._key(tenant.pk)]
    assert "config" not in store.read(writes[0])  # the system's configuration is not copied: it may change
    for _ in range(2):
        assert api.post("/api/trendz/connect").json() == first  # nothing new: no write on every call
        assert customer_api.post("/api/trendz/public/connect").status_code == 200
    assert len(writes) == 1
    api_as(sysadmin).post("/api/trendz/config", {"trendzUrl": "http://trendz.moved"}, format="json")
    assert api.get("/api/trendz/config").json()["trendzUrl"] == "http://trendz.moved"  # still the fallback
