"""Answers without a body carry no Content-Type, as ThingsBoard's HTTP transport and controllers send
them (Spring's body-less ``ResponseEntity``), not Django's default text/html; answers with a body
keep theirs. The device HTTP API (telemetry, attributes, claim) and the claim's REST DELETE."""

import json

import pytest

from devices.api import device_http
from devices.models import DeviceCredentials
from tbproject.testing.factories import make_device


@pytest.fixture(autouse=True)
def no_cached_tokens():
    device_http._TOKENS.forget()


@pytest.fixture
def device(tenant):
    return make_device(tenant, "typed-dev")


@pytest.fixture
def token(device):
    return DeviceCredentials.objects.get(device=device).credentials_id


def post(client, path, body):
    return client.post(path, body, content_type="application/json")


def empty(res, status: int) -> bool:
    return (res.status_code, res.content, res.get("Content-Type")) == (status, b"", None)


def test_stored_posts_and_unknown_tokens_are_answered_with_no_body_and_no_content_type(client, token):
    assert empty(post(client, f"/api/v1/{token}/telemetry", '{"t": 1}'), 200)
    assert empty(post(client, f"/api/v1/{token}/attributes", '{"a": 1}'), 200)
    assert empty(post(client, "/api/v1/nobody/telemetry", '{"t": 1}'), 401)
    assert empty(client.get("/api/v1/nobody/attributes"), 401)


def test_a_device_claim_and_a_reclaim_are_answered_with_no_body_and_no_content_type(client, api, token, device,
                                                                                      customer):
    assert empty(post(client, f"/api/v1/{token}/claim", ""), 200)
    assert empty(post(client, f"/api/v1/{token}/claim", '{"secretKey": "k"}'), 200)
    assert empty(post(client, "/api/v1/nobody/claim", ""), 401)
    device.customer = customer
    device.save()
    assert empty(api.delete("/api/customer/device/typed-dev/claim"), 200)


def test_answers_with_a_body_keep_their_json_content_type(client, token):
    res = post(client, f"/api/v1/{token}/telemetry", "{not json")
    assert res.status_code == 400 and res["Content-Type"] == "application/json"
    assert json.loads(res.content)["message"].startswith("Invalid JSON body")
    res = client.get(f"/api/v1/{token}/attributes")
    assert res.status_code == 200 and res["Content-Type"] == "application/json"
    res = post(client, "/api/v1/provision", '{"provisionDeviceKey": "k", "provisionDeviceSecret": "s"}')
    assert res.status_code == 200 and res["Content-Type"] == "application/json"
