"""ThingsBoard's device HTTP API (/api/v1/{accessToken}/telemetry|attributes): what a device posts
is stored as the REST API stores it and read back through the REST API; tokens, bad bodies, the
rule-engine hand-off, and the HTTP integration endpoint beside it."""

import json

import pytest
from django.urls import resolve

from devices import credentials
from devices.api import device_http
from devices.models import DeviceCredentials
from integrations import handoff
from integrations.ingress.requests import split_path
from tbproject.testing.factories import make_device

T0 = 1_700_000_000_000
PLUGINS = "/api/plugins/telemetry/DEVICE"


@pytest.fixture(autouse=True)
def no_cached_tokens():
    device_http._TOKENS.forget()  # tokens a previous test looked up (its rows are rolled back)


@pytest.fixture
def device(tenant):
    return make_device(tenant, "http-dev-1")


@pytest.fixture
def token(device):
    return DeviceCredentials.objects.get(device=device).credentials_id


@pytest.fixture
def rule_engine(monkeypatch):
    """What reaches the rule engine (handoff's connected entry points), as if its root chain acted on all."""
    submitted = []
    monkeypatch.setattr(handoff, "_engine", (lambda tenant_id, kind: True, submitted.extend))
    return submitted


def post(client, tok, what, body, content_type="application/json"):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(f"/api/v1/{tok}/{what}", data, content_type=content_type)


def latest(api, device) -> dict:
    res = api.get(f"{PLUGINS}/{device.pk}/values/timeseries", {"useStrictDataTypes": "true"})
    assert res.status_code == 200
    return {k: [(p["ts"], p["value"]) for p in v] for k, v in res.json().items()}


def history(api, device, keys) -> dict:
    res = api.get(f"{PLUGINS}/{device.pk}/values/timeseries",
                  {"keys": keys, "startTs": T0, "endTs": T0 + 10_000, "orderBy": "ASC", "useStrictDataTypes": "true"})
    return {k: [(p["ts"], p["value"]) for p in v] for k, v in res.json().items()}


def client_attributes(api, device) -> dict:
    res = api.get(f"{PLUGINS}/{device.pk}/values/attributes/CLIENT_SCOPE")
    return {a["key"]: a["value"] for a in res.json()}


# --- telemetry ------------------------------------------------------------------------------------

def test_it_stores_a_flat_object_stamped_with_server_time(client, api, device, token):
    res = post(client, token, "telemetry", {"temperature": 21.5, "on": True, "name": "pump", "n": 7})
    assert (res.status_code, res.content) == (200, b"")
    values = latest(api, device)
    assert {k: v[0][1] for k, v in values.items()} == {"temperature": 21.5, "on": True, "name": "pump", "n": 7}


def test_it_stores_a_timestamped_object_and_a_list_of_both_shapes(client, api, device, token):
    assert post(client, token, "telemetry", {"ts": T0, "values": {"t": 1.5, "obj": {"a": [1, 2]}}}).status_code == 200
    body = [{"ts": T0 + 1000, "values": {"t": 2.5}}, {"ts": str(T0 + 2000), "values": {"t": 3.5}}, {"x": 9}]
    assert post(client, token, "telemetry", body).status_code == 200
    assert history(api, device, "t,obj") == {"t": [(T0, 1.5), (T0 + 1000, 2.5), (T0 + 2000, 3.5)],
                                             "obj": [(T0, {"a": [1, 2]})]}
    assert latest(api, device)["x"][0][1] == 9


def test_it_takes_json_sent_as_text_plain(client, api, device, token):
    assert post(client, token, "telemetry", json.dumps({"ts": T0, "values": {"t": 4}}), "text/plain").status_code == 200
    assert latest(api, device) == {"t": [(T0, 4)]}


def test_it_hands_telemetry_to_the_rule_engine_one_message_per_timestamp(client, device, token, rule_engine):
    body = [{"ts": T0, "values": {"t": 1}}, {"ts": T0 + 1, "values": {"t": 2, "h": 50}}]
    assert post(client, token, "telemetry", body).status_code == 200
    assert [(m.msg_type, m.originator_type, m.originator_id, m.tenant_id, m.data, m.metadata, m.stored)
            for m in rule_engine] == [
        ("POST_TELEMETRY_REQUEST", "DEVICE", device.pk, device.tenant_id, {"t": 1},
         {"deviceName": "http-dev-1", "deviceType": "default", "ts": str(T0)}, True),
        ("POST_TELEMETRY_REQUEST", "DEVICE", device.pk, device.tenant_id, {"t": 2, "h": 50},
         {"deviceName": "http-dev-1", "deviceType": "default", "ts": str(T0 + 1)}, True),
    ]


def test_it_stores_through_the_real_rule_engine_hand_off_without_error(client, api, device, token):
    """The connected rule engine (the tenant's default root chain) takes the stored message as well."""
    assert post(client, token, "telemetry", {"ts": T0, "values": {"t": 5}}).status_code == 200
    assert post(client, token, "attributes", {"fw": "1.0"}).status_code == 200
    assert latest(api, device) == {"t": [(T0, 5)]} and client_attributes(api, device) == {"fw": "1.0"}


# --- attributes -----------------------------------------------------------------------------------

def test_it_saves_client_attributes_and_hands_them_to_the_rule_engine(client, api, device, token, rule_engine):
    res = post(client, token, "attributes", {"firmware": "1.2", "rssi": -70, "cfg": {"a": 1}})
    assert (res.status_code, res.content) == (200, b"")
    assert client_attributes(api, device) == {"firmware": "1.2", "rssi": -70, "cfg": {"a": 1}}
    [msg] = rule_engine
    assert (msg.msg_type, msg.originator_id, msg.data, msg.stored) == (
        "POST_ATTRIBUTES_REQUEST", device.pk, {"firmware": "1.2", "rssi": -70, "cfg": {"a": 1}}, True)
    assert msg.metadata == {"deviceName": "http-dev-1", "deviceType": "default", "notifyDevice": "false"}


def test_a_device_reads_its_client_and_shared_attributes(client, api, device, token):
    assert post(client, token, "attributes", {"c1": 1, "c2": "two"}).status_code == 200
    res = api.post(f"{PLUGINS}/{device.pk}/attributes/SHARED_SCOPE", {"s1": True, "s2": 2.5}, format="json")
    assert res.status_code == 200
    api.post(f"{PLUGINS}/{device.pk}/attributes/SERVER_SCOPE", {"secret": 1}, format="json")  # never shown
    everything = client.get(f"/api/v1/{token}/attributes")
    assert everything.status_code == 200
    assert everything.json() == {"client": {"c1": 1, "c2": "two"}, "shared": {"s1": True, "s2": 2.5}}
    some = client.get(f"/api/v1/{token}/attributes", {"clientKeys": "c2,missing", "sharedKeys": "s1"})
    assert some.json() == {"client": {"c2": "two"}, "shared": {"s1": True}}
    # keys of one scope only: the other is not read (ThingsBoard's rule)
    assert client.get(f"/api/v1/{token}/attributes", {"sharedKeys": "s2"}).json() == {"shared": {"s2": 2.5}}
    assert client.get(f"/api/v1/{token}/attributes", {"clientKeys": "nope"}).json() == {}


# --- tokens ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("method, what", [("post", "telemetry"), ("post", "attributes"), ("get", "attributes")])
def test_it_answers_401_with_an_empty_body_for_an_unknown_token(client, device, method, what):
    url = f"/api/v1/no-such-token/{what}"
    res = client.get(url) if method == "get" else post(client, "no-such-token", what, {"t": 1})
    assert (res.status_code, res.content) == (401, b"")


def test_a_token_that_is_not_an_access_token_is_refused(client, device, tenant):
    """A certificate's hash is a credentials id too, but no access token."""
    DeviceCredentials.objects.filter(device=device).update(credentials_type="X509_CERTIFICATE")
    device_http._TOKENS.forget()
    row = DeviceCredentials.objects.get(device=device)
    assert post(client, row.credentials_id, "telemetry", {"t": 1}).status_code == 401


def test_it_leaves_every_other_device_alone(client, api, device, token, tenant, other_tenant):
    neighbour = make_device(tenant, "http-dev-2")
    foreign = make_device(other_tenant, "http-foreign")
    assert post(client, token, "telemetry", {"t": 1}).status_code == 200
    assert post(client, token, "attributes", {"a": 1}).status_code == 200
    assert latest(api, neighbour) == {} and client_attributes(api, neighbour) == {}
    from devices.attributes import get_attributes
    from devices.telemetry import latest as stored_latest
    assert stored_latest(foreign.pk) == {} and get_attributes(foreign.pk) == []
    foreign_token = DeviceCredentials.objects.get(device=foreign).credentials_id
    assert client.get(f"/api/v1/{foreign_token}/attributes").json() == {}


def test_a_replaced_token_stops_working_and_the_new_one_works(client, api, device, token):
    assert post(client, token, "telemetry", {"t": 1}).status_code == 200  # cached now
    current = api.get(f"/api/device/{device.pk}/credentials").json()
    res = api.post("/api/device/credentials", {**current, "credentialsId": "my-new-token"}, format="json")
    assert res.status_code == 200, res.content
    assert post(client, token, "telemetry", {"t": 2}).status_code == 401
    assert post(client, "my-new-token", "telemetry", {"t": 3}).status_code == 200
    assert latest(api, device)["t"][0][1] == 3


def test_a_deleted_device_token_stops_working(client, api, device, token):
    assert post(client, token, "telemetry", {"t": 1}).status_code == 200
    assert api.delete(f"/api/device/{device.pk}").status_code == 200
    assert post(client, token, "telemetry", {"t": 2}).status_code == 401


def test_a_token_replaced_by_another_process_is_trusted_for_a_few_seconds_at_most(client, device, token,
                                                                                  monkeypatch):
    """A change this process did not see (another web process's, here an UPDATE without signals)."""
    import time

    from tbproject import process_cache

    assert post(client, token, "telemetry", {"t": 1}).status_code == 200  # looked up and cached
    DeviceCredentials.objects.filter(device=device).update(credentials_id="changed-elsewhere")
    assert post(client, token, "telemetry", {"t": 2}).status_code == 200  # still cached
    assert 0 < device_http.TOKEN_TTL <= 5
    later = time.monotonic() + device_http.TOKEN_TTL + 0.1
    monkeypatch.setattr(process_cache.time, "monotonic", lambda: later)
    assert post(client, token, "telemetry", {"t": 3}).status_code == 401
    assert post(client, "changed-elsewhere", "telemetry", {"t": 4}).status_code == 200


# --- bad input ------------------------------------------------------------------------------------

@pytest.mark.parametrize("what, body, fragment", [
    ("telemetry", "{not json", "Invalid JSON"),
    ("telemetry", b"\xff\xfe{}", "Invalid JSON"),
    ("telemetry", "[" * 100_000 + "]" * 100_000, ""),
    ("telemetry", '"text"', "JSON object or array"),
    ("telemetry", "[1, 2]", "JSON object"),
    ("telemetry", "{}", "No timeseries data"),
    ("telemetry", '{"k": null}', "must not be null"),
    ("telemetry", '{"ts": "yesterday", "values": {"t": 1}}', "Invalid 'ts'"),
    ("telemetry", '{"ts": 1, "values": [1]}', "'values' must be a JSON object"),
    ("telemetry", '{"k\\u0000": 1}', "NUL"),
    ("telemetry", '{"k": "a\\u0000b"}', "NUL"),
    ("telemetry", '{"k": 1%s}' % ("0" * 400), "Big integer"),
    ("attributes", '[{"a": 1}]', "JSON object"),
    ("attributes", "{}", "No attributes data"),
    ("attributes", '{"a": "\\u0000"}', "NUL"),
])
def test_it_refuses_bad_bodies_with_400_and_stores_nothing(client, api, device, token, rule_engine, what, body,
                                                           fragment):
    res = post(client, token, what, body)
    assert res.status_code == 400, res.content
    assert fragment in res.json()["message"]
    assert latest(api, device) == {} and client_attributes(api, device) == {} and rule_engine == []


def test_it_refuses_an_oversize_body_with_413(client, api, device, token, settings):
    settings.HTTP_INTEGRATION_MAX_BODY_BYTES = 64
    res = post(client, token, "telemetry", {"k": "x" * 100})
    assert res.status_code == 413 and "larger than 64 bytes" in res.json()["message"]
    assert post(client, token, "attributes", {"k": "x" * 100}).status_code == 413
    assert post(client, token, "telemetry", {"k": "x"}).status_code == 200
    assert list(latest(api, device)) == ["k"]


def test_it_answers_405_for_a_method_it_does_not_serve(client, token):
    assert client.get(f"/api/v1/{token}/telemetry").status_code == 405
    assert client.delete(f"/api/v1/{token}/attributes").status_code == 405


# --- beside the HTTP integration endpoint ---------------------------------------------------------

def test_integrations_is_never_taken_as_a_token(client, device):
    credentials.update(device, "ACCESS_TOKEN", "integrations", None)
    assert post(client, "integrations", "telemetry", {"t": 1}).status_code == 404
    assert client.get("/api/v1/integrations/attributes").status_code == 404
    assert resolve("/api/v1/integrations/http/some-key").url_name == "integration-ingress"
    assert resolve("/api/v1/integrations/telemetry/attributes").url_name == "integration-ingress"
    assert resolve("/api/v1/abc/telemetry").url_name == "device-http-telemetry"
    # under the ASGI server the lean ingress app leaves the device paths to Django
    assert split_path("/api/v1/abc/telemetry") is None and split_path("/api/v1/integrations/telemetry") is None


def test_the_other_device_api_paths_are_not_served(client, token):
    # served elsewhere: rpc (rulechains/tests/test_device_rpc.py), attributes/updates, claim and
    # provision (devices/tests/test_device_http_updates.py, test_device_claiming.py, test_device_provision.py),
    # firmware and software (devices/tests/test_ota_device_http.py)
    assert client.get(f"/api/v1/{token}/bootloader").status_code == 404


def asgi_post(path: str, body: bytes) -> tuple[int, bytes]:
    """(status, body) of a POST through tbproject.asgi's whole HTTP stack, as the web process serves it.

    Django's handlers close the database connection around each request (request_started and
    request_finished): that would end the test's transaction, so it is kept open meanwhile, as the
    test client keeps it."""
    import asyncio

    from asgiref.sync import async_to_sync
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from tbproject.asgi import application

    sent, replies = [{"type": "http.request", "body": body, "more_body": False}], []

    async def receive():
        if sent:
            return sent.pop(0)
        await asyncio.Event().wait()  # the client stays connected (Django drops a request whose client left)

    async def send(message):
        replies.append(message)

    scope = {"type": "http", "method": "POST", "path": path, "raw_path": path.encode(), "query_string": b"",
             "root_path": "", "scheme": "http", "server": ("testserver", 80), "client": ("127.0.0.1", 1),
             "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
             "http_version": "1.1", "asgi": {"version": "3.0"}}
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    try:
        async_to_sync(application)(scope, receive, send)
    finally:
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)
    return replies[0]["status"], b"".join(m.get("body", b"") for m in replies[1:])


def test_the_web_process_routes_a_device_post_past_the_lean_apps_to_this_api(api, device, token):
    """Through the ingress app, the lean attribute saves and the ops app, to Django."""
    assert asgi_post(f"/api/v1/{token}/telemetry", b'{"ts": %d, "values": {"t": 8}}' % T0) == (200, b"")
    assert latest(api, device) == {"t": [(T0, 8)]}
    assert asgi_post("/api/v1/wrong/telemetry", b'{"t": 1}') == (401, b"")
    status, body = asgi_post("/api/v1/integrations/http/no-such-key", b'{"t": 1}')
    assert status == 404 and b"routing key" in body  # still the integration endpoint's own answer
