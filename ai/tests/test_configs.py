"""Saving an AI model: a kept credential never follows a changed endpoint, malformed and numeric-IPv4 URLs are
clear 400s, another tenant's model is a 404 for a chat, and the audit log records models with their keys masked."""

import json

import pytest

from ai.configs import MASK
from ai.tests.conftest import anthropic_config, openai_config
from ai.tests.fakecloud import KEYS
from audit.models import AuditLog

pytestmark = pytest.mark.django_db


def save(api, configuration, name="M", **extra):
    return api.post("/api/ai/model", {"name": name, "configuration": configuration, **extra}, format="json")


def _resend(api, saved, change):
    body = json.loads(json.dumps(saved))
    change(body["configuration"]["providerConfig"])
    return api.post("/api/ai/model", body, format="json")


@pytest.mark.parametrize("configuration, change", [
    (lambda c: openai_config(c), lambda p: p.update(baseUrl="https://attacker.example.com/v1")),
    (lambda c: {"provider": "AZURE_OPENAI", "modelId": "d", "providerConfig": {
        "endpoint": c.url("/azure"), "apiKey": KEYS["azure"]}}, lambda p: p.update(endpoint="https://evil.example.com")),
    (lambda c: {"provider": "OLLAMA", "modelId": "m", "providerConfig": {
        "baseUrl": c.url("/ollama"), "auth": {"type": "TOKEN", "token": KEYS["ollama"]}}},
     lambda p: p.update(baseUrl="https://evil.example.com")),
    (lambda c: {"provider": "OLLAMA", "modelId": "m", "providerConfig": {
        "baseUrl": c.url("/ollama"), "auth": {"type": "BASIC", "username": "u", "password": "pw-mocked"}}},
     lambda p: p["auth"].update(username="someone-else")),
])
def test_the_mask_does_not_keep_a_credential_for_a_changed_endpoint(api, mocked_cloud, configuration, change):
    saved = save(api, configuration(mocked_cloud))
    assert saved.status_code == 200, saved.content
    moved = _resend(api, saved.json(), change)
    assert moved.status_code == 400 and "enter the credential again: the endpoint changed" in moved.json()["message"]
    assert _resend(api, saved.json(), lambda p: None).status_code == 200  # the same endpoint: kept


@pytest.mark.parametrize("url", ["http://[::1", "http://[fe80::1%eth0", "https://host.example.com:99999",
                                 "https://host.example.com:port"])
def test_a_malformed_url_is_a_400(api, url):
    res = save(api, {"provider": "OLLAMA", "modelId": "m", "providerConfig": {"baseUrl": url}})
    assert res.status_code == 400 and "providerConfig.baseUrl" in res.json()["message"], res.content


@pytest.mark.parametrize("host", ["0x7f000001", "2130706433", "127.1", "0177.0.0.1", "0xa9.254.169.254"])
def test_a_numeric_ipv4_form_is_judged_as_the_address_it_names(api, settings, host):
    settings.AI_ALLOW_PRIVATE_URLS = False
    res = save(api, {"provider": "OLLAMA", "modelId": "m", "providerConfig": {"baseUrl": f"http://{host}:11434"}})
    assert res.status_code == 400 and "not a public address" in res.json()["message"], host


def test_a_chat_on_another_tenants_or_an_unknown_model_is_a_404(api, mallory_api, mocked_cloud):
    theirs = save(mallory_api, anthropic_config()).json()["id"]
    for model_id in (theirs, {"entityType": "AI_MODEL", "id": "0d4f7c4e-1111-4a4a-9c9c-000000000000"}):
        res = api.post("/api/ai/chats", {"aiModelId": model_id}, format="json")
        assert res.status_code == 404 and res.json()["errorCode"] == 32, res.content
    assert api.post("/api/ai/chats", {"aiModelId": "nope"}, format="json").status_code == 400


def test_the_audit_log_records_ai_models_with_their_keys_masked(api, mocked_cloud):
    saved = save(api, anthropic_config()).json()
    rotated = {**saved, "name": "Renamed", "configuration": {**saved["configuration"], "providerConfig": {
        "apiKey": "sk-ant-rotated-secret"}}}
    assert api.post("/api/ai/model", rotated, format="json").status_code == 200
    api.delete(f"/api/ai/model/{saved['id']['id']}")
    rows = AuditLog.objects.filter(entity_type="AI_MODEL").order_by("created_time")
    assert [r.action_type for r in rows] == ["ADDED", "UPDATED", "DELETED"]
    assert rows[0].action_data["entity"]["configuration"]["providerConfig"]["apiKey"] == MASK
    diff = {d["path"]: d for d in rows[1].action_data["diff"]}
    assert diff["configuration.providerConfig.apiKey"] == {"path": "configuration.providerConfig.apiKey",
                                                           "old": MASK, "new": MASK}
    stored = json.dumps(list(AuditLog.objects.values_list("action_data", flat=True)))
    assert KEYS["anthropic"] not in stored and "sk-ant-rotated-secret" not in stored
