"""ThingPark, ThingPark Enterprise, ChirpStack v4 and LORIOT: uplinks through the real ingress, their
downlinks through each cloud's REST API.

The clouds' APIs cannot run here: the downlink tests use a mocked third-party cloud, a small local
HTTP server (integrations/tests/fake_cloud.py) that records each request so that the test can check
it is exactly what the cloud's documentation specifies.
"""

import base64
import hashlib
import json
import re
import urllib.parse

import pytest

from integrations import queue
from integrations.downlinks import submit
from integrations.ingress import downlinks, routes
from integrations.models import DownlinkStatus, OutgoingDownlink
from integrations.tests.downlinks import attributes_msg, with_downlink
from integrations.tests.factories import make_integration, make_uplink_converter
from integrations.tests.fake_cloud import FakeCloud
from integrations.tests.test_http_ingress import TRANSPORTS, call
from integrations.types import get_type
from integrations.types.base import MASK, IntegrationError

S = DownlinkStatus
EUI = "a84041000181c3d1"
#: BINARY bytes 01 fe, addressed by the device's EUI and port 2 in the encoder's metadata
ENCODER = ("return {contentType: 'BINARY', data: btoa('\\x01\\xfe'), "
           "metadata: {DevEUI: metadata.deviceName, fPort: '2', confirmed: String(!!msg.confirm)}};")

#: one sample uplink per type, in its network server's envelope, and a decoder that reads it
UPLINKS = {
    "CHIRPSTACK": ({"deviceInfo": {"devEui": EUI, "deviceName": "dev"}, "fPort": 2, "data": "AQI=",
                    "object": {"temperature": 21.5}},
                   "return {deviceName: d.deviceInfo.devEui, deviceType: 'lora', "
                   "telemetry: {t: d.object.temperature}};"),
    "THINGPARK": ({"DevEUI_uplink": {"DevEUI": EUI.upper(), "FPort": 2, "payload_hex": "0d70", "Time":
                                     "2026-01-01T00:00:00.000+00:00"}},
                  "var u = d.DevEUI_uplink; return {deviceName: u.DevEUI.toLowerCase(), deviceType: 'lora', "
                  "telemetry: {t: parseInt(u.payload_hex, 16) / 160}};"),
    "TPE": ({"DevEUI_uplink": {"DevEUI": EUI.upper(), "FPort": 2, "payload_hex": "0d70"}},
            "var u = d.DevEUI_uplink; return {deviceName: u.DevEUI.toLowerCase(), deviceType: 'lora', "
            "telemetry: {t: parseInt(u.payload_hex, 16) / 160}};"),
    "LORIOT": ({"cmd": "rx", "EUI": EUI.upper(), "port": 2, "data": "0d70", "ts": 1767225600000},
               "return {deviceName: d.EUI.toLowerCase(), deviceType: 'lora', "
               "telemetry: {t: parseInt(d.data, 16) / 160}};"),
}
DECODE = "var d = JSON.parse(String.fromCharCode.apply(null, payload)); "


@pytest.fixture(autouse=True)
def _fresh_caches():
    routes.CACHE.clear()
    downlinks.PENDING.clear()
    yield
    routes.CACHE.clear()
    downlinks.PENDING.clear()


@pytest.fixture
def queued(monkeypatch) -> list:
    """What the ingress queues (the pipeline's side is tested end to end below)."""
    got = []

    async def accept(u):
        got.append(u)

    monkeypatch.setattr(queue, "accept", accept)
    return got


def post(transport, endpoint, key, body, query="", **headers):
    path = f"/api/v1/integrations/{endpoint}/{key}" + (f"?{query}" if query else "")
    return call(transport, "POST", path, json.dumps(body).encode(),
                {"content-type": "application/json", **{k.replace("_", "-"): v for k, v in headers.items()}})


def integration(tenant, kind, key, configuration=None, encoder=ENCODER):
    return with_downlink(tenant, encoder, name=f"{kind} {key}", kind=kind, routing_key=key,
                         configuration=configuration or {})


@pytest.fixture
def send(tenant, django_capture_on_commit_callbacks):
    """Submit a downlink as the rule node does; encoding and the API delivery run eagerly."""
    def run(target, device=EUI, **data):
        with django_capture_on_commit_callbacks(execute=True):
            submit(tenant.pk, target.pk, attributes_msg(tenant, device, data))
        return OutgoingDownlink.objects.filter(integration=target).order_by("-created_ts").first()

    return run


# --- uplinks --------------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)  # the queue runs the pipeline in its own thread and connection
@pytest.mark.parametrize("kind", sorted(UPLINKS))
def test_an_uplink_through_the_asgi_ingress_becomes_telemetry(kind, tenant, settings):
    from devices.models import Device
    from devices.telemetry import latest

    settings.CELERY_TASK_ALWAYS_EAGER = True
    body, decoder = UPLINKS[kind]
    converter = make_uplink_converter(tenant, f"{kind} decoder", DECODE + decoder)
    make_integration(tenant, kind, kind=kind, converter=converter, routing_key=f"e2e-{kind}", configuration={})
    endpoint = get_type(kind).endpoint
    answer = post("asgi", endpoint, f"e2e-{kind}", body, query="event=up" if kind == "CHIRPSTACK" else "")
    assert answer.status == 204, answer.body
    device = Device.objects.get(tenant=tenant, name=EUI)
    assert {k: v for k, (_, v) in latest(device.pk, ["t"]).items()} == {"t": 21.5}


def test_each_type_has_thingsboards_endpoint():
    assert {k: get_type(k).endpoint for k in UPLINKS} == {
        "CHIRPSTACK": "chirpstack", "THINGPARK": "thingpark", "TPE": "tpe", "LORIOT": "loriot"}


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_routing_key_answers_only_on_its_types_endpoint(transport, tenant, queued):
    make_integration(tenant, "cs", kind="CHIRPSTACK", routing_key="cs-key", configuration={})
    for endpoint in ("http", "thingpark", "loriot", "sigfox"):
        post(transport, endpoint, "cs-key", {}).error(404, "routing key")
    assert queued == []
    assert post(transport, "chirpstack", "cs-key", UPLINKS["CHIRPSTACK"][0], query="event=up").status == 204


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_chirpstack_queues_up_events_and_acknowledges_the_others(transport, tenant, queued):
    make_integration(tenant, "cs", kind="CHIRPSTACK", routing_key="cs-key", configuration={})
    for event in ("join", "status", "ack", "txack", "log", "location", "integration"):
        answer = post(transport, "chirpstack", "cs-key", {"deviceInfo": {"devEui": EUI}}, query=f"event={event}")
        assert answer.status == 204
    assert queued == []
    assert post(transport, "chirpstack", "cs-key", UPLINKS["CHIRPSTACK"][0], query="event=up").status == 204
    [uplink] = queued
    assert uplink.metadata["event"] == "up" and uplink.metadata["integrationName"] == "cs"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_loriots_header_filter_refuses_other_requests(transport, tenant, queued):
    make_integration(tenant, "lo", kind="LORIOT", routing_key="lo-key",
                     configuration={"enableSecurity": True, "headersFilter": {"Authorization": "Secret s3"}})
    post(transport, "loriot", "lo-key", UPLINKS["LORIOT"][0]).error(403, "header filter")
    post(transport, "loriot", "lo-key", UPLINKS["LORIOT"][0], Authorization="wrong").error(403)
    assert queued == []
    assert post(transport, "loriot", "lo-key", UPLINKS["LORIOT"][0], Authorization="Secret s3").status == 204


# --- downlinks through the clouds' APIs (mocked third-party clouds) ---------------------------------

def test_chirpstack_v4_enqueues_the_downlink_through_its_rest_api(tenant, send, queued):
    with FakeCloud() as cloud:
        target = integration(tenant, "CHIRPSTACK", "cs-dl", {"clientConfiguration": {
            "applicationServerUrl": cloud.url + "/", "applicationServerAPIToken": "tok-1", "useAPI4Plus": True}})
        row = send(target, confirm=True)
    assert row.status == S.DELIVERED and row.error == "" and row.attempts == 1
    [request] = cloud.requests
    assert (request.method, request.path, request.raw_query) == ("POST", f"/api/devices/{EUI}/queue", "")
    assert request.headers["grpc-metadata-authorization"] == "Bearer tok-1"
    assert request.headers["content-type"] == "application/json"
    data = base64.b64encode(b"\x01\xfe").decode()
    assert request.json() == {"queueItem": {"confirmed": True, "fPort": 2, "data": data}}
    # an API downlink is never the answer to an uplink
    assert post("django", "chirpstack", "cs-dl", UPLINKS["CHIRPSTACK"][0], query="event=up").status == 204


def test_chirpstack_v3_uses_its_device_queue_item(tenant, send):
    with FakeCloud() as cloud:
        target = integration(tenant, "CHIRPSTACK", "cs3", {"clientConfiguration": {
            "applicationServerUrl": cloud.url, "applicationServerAPIToken": "t3", "useAPI4Plus": False}})
        assert send(target).status == S.DELIVERED
    assert cloud.requests[0].json() == {"deviceQueueItem": {"confirmed": False, "fPort": 2, "data": "Af4=",
                                                            "devEUI": EUI}}


def test_every_api_downlink_is_sent_none_supersedes_another(tenant, send):
    with FakeCloud() as cloud:
        target = integration(tenant, "CHIRPSTACK", "cs-many", {"clientConfiguration": {
            "applicationServerUrl": cloud.url, "applicationServerAPIToken": "t"}})
        send(target)
        send(target)
    assert len(cloud.requests) == 2
    assert list(OutgoingDownlink.objects.values_list("status", flat=True)) == [S.DELIVERED, S.DELIVERED]


def test_thingpark_posts_the_signed_downlink_query(tenant, send):
    with FakeCloud() as cloud:
        target = integration(tenant, "THINGPARK", "tp-dl", {
            "downlinkUrl": cloud.url + "/thingpark/lrc/rest/downlink", "asId": "TWA_1.AS", "asKey": "k3y"})
        assert send(target).status == S.DELIVERED
    [request] = cloud.requests
    assert (request.method, request.path, request.body) == ("POST", "/thingpark/lrc/rest/downlink", b"")
    q = request.query
    assert (q["DevEUI"], q["FPort"], q["Payload"], q["AS_ID"]) == (EUI.upper(), "2", "01fe", "TWA_1.AS")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", q["Time"])
    # Actility's application-server token: SHA-256 of the query before &Token= followed by the AS key
    signed, _, token = request.raw_query.rpartition("&Token=")
    assert signed.startswith(f"DevEUI={EUI.upper()}&FPort=2&Payload=01fe&AS_ID=TWA_1.AS&Time=")
    assert token == hashlib.sha256((signed + "k3y").encode()).hexdigest()
    assert urllib.parse.unquote(signed).endswith(q["Time"])


def test_tpe_fetches_an_oauth_token_and_sends_it(tenant, send):
    with FakeCloud() as cloud:
        cloud.answer(200, b'{"access_token": "acc-9", "token_type": "bearer"}').answer(200)
        target = integration(tenant, "TPE", "tpe-dl", {
            "downlinkUrl": cloud.url + "/downlink", "enableSecurityNew": True, "asIdNew": "TPE.AS", "asKey": "kk",
            "clientIdNew": "tb-client", "clientSecret": "s3cr3t"})
        assert send(target).status == S.DELIVERED
    token_request, downlink = cloud.requests
    assert (token_request.method, token_request.path) == ("POST", "/users-auth/protocol/openid-connect/token")
    assert token_request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert urllib.parse.parse_qs(token_request.body.decode()) == {
        "grant_type": ["client_credentials"], "client_id": ["tb-client"], "client_secret": ["s3cr3t"]}
    assert downlink.path == "/downlink" and downlink.headers["authorization"] == "Bearer acc-9"
    assert downlink.query["AS_ID"] == "TPE.AS" and downlink.query["Payload"] == "01fe"


def test_loriot_sends_a_tx_command_when_send_downlink_is_on(tenant, send):
    with FakeCloud() as cloud:
        target = integration(tenant, "LORIOT", "lo-dl", {
            "sendDownlink": True, "appId": "BE7A0123", "credentials": {"type": "token", "token": "lt"},
            "loriotDownlinkUrl": cloud.url + "/1/rest"})
        assert send(target).status == S.DELIVERED
    [request] = cloud.requests
    assert (request.method, request.path) == ("POST", "/1/rest")
    assert request.headers["authorization"] == "Bearer lt"
    assert request.json() == {"cmd": "tx", "EUI": EUI.upper(), "port": 2, "confirmed": False, "data": "01fe",
                              "appid": "BE7A0123"}


def test_loriot_without_send_downlink_fails_the_downlink_clearly(tenant, send):
    target = integration(tenant, "LORIOT", "lo-off", {"sendDownlink": False})
    row = send(target)
    assert row.status == S.FAILED and "sendDownlink is off" in row.error


def test_loriots_default_url_is_its_server_and_domain(tenant):
    target = make_integration(tenant, "lo", kind="LORIOT", configuration={"server": "us1", "domain": "loriot.io"})
    assert target.type_class(target).downlink_url() == "https://us1.loriot.io/1/rest"


def test_a_failing_cloud_is_retried_and_then_delivered(tenant, send):
    from integrations import api_downlinks

    with FakeCloud() as cloud:
        cloud.answer(500, b'{"message": "database is busy"}')
        target = integration(tenant, "CHIRPSTACK", "cs-500", {"clientConfiguration": {
            "applicationServerUrl": cloud.url, "applicationServerAPIToken": "t"}})
        row = send(target)
        assert row.status == S.PENDING and row.attempts == 1
        assert "ChirpStack answered 500" in row.error and "database is busy" in row.error
        assert api_downlinks.run_due() == 0  # not due before its back-off
        OutgoingDownlink.objects.filter(pk=row.pk).update(next_attempt_ts=0)
        assert api_downlinks.run_due() == 1
    row.refresh_from_db()
    assert row.status == S.DELIVERED and row.attempts == 2 and len(cloud.requests) == 2


def test_a_refused_token_fails_the_downlink_at_once(tenant, send):
    with FakeCloud() as cloud:
        cloud.answer(401, b'{"error": "authentication failed: invalid token", "code": 16}')
        target = integration(tenant, "CHIRPSTACK", "cs-401", {"clientConfiguration": {
            "applicationServerUrl": cloud.url, "applicationServerAPIToken": "bad"}})
        row = send(target)
    assert row.status == S.FAILED and row.attempts == 1
    assert row.error == "ChirpStack answered 401 Unauthorized: authentication failed: invalid token"


def test_an_unreachable_cloud_is_retried(tenant, send):
    with FakeCloud() as cloud:
        url = cloud.url
    target = integration(tenant, "THINGPARK", "tp-down", {"downlinkUrl": url + "/dl"})
    row = send(target)
    assert row.status == S.PENDING and "cannot be reached" in row.error


def test_a_downlink_without_a_deveui_fails_with_a_clear_message(tenant, send):
    target = integration(tenant, "CHIRPSTACK", "cs-noeui", {"clientConfiguration": {
        "applicationServerUrl": "http://127.0.0.1:9", "applicationServerAPIToken": "t"}},
        encoder="return {contentType: 'TEXT', data: 'x', metadata: {}};")
    row = send(target, device="thermostat-1")
    assert row.status == S.FAILED and "names no DevEUI" in row.error


# --- check, secrets ------------------------------------------------------------------------------

def test_chirpstack_check_reaches_the_api_with_the_token(tenant):
    with FakeCloud() as cloud:
        target = make_integration(tenant, "cs", kind="CHIRPSTACK", configuration={"clientConfiguration": {
            "applicationServerUrl": cloud.url, "applicationServerAPIToken": "tok"}})
        target.type_class(target).check()
        cloud.answer(401, b'{"error": "invalid token"}')
        with pytest.raises(IntegrationError, match="refused the API token"):
            target.type_class(target).check()
    first = cloud.requests[0]
    assert first.path == "/api/tenants" and first.headers["grpc-metadata-authorization"] == "Bearer tok"


def test_secrets_are_masked():
    cs = get_type("CHIRPSTACK").masked({"clientConfiguration": {"applicationServerAPIToken": "t", "baseUrl": "b"}})
    assert cs == {"clientConfiguration": {"applicationServerAPIToken": MASK, "baseUrl": "b"}}
    tp = get_type("THINGPARK").masked({"asKey": "k", "clientSecret": "c", "asId": "i"})
    assert tp == {"asKey": MASK, "clientSecret": MASK, "asId": "i"}
    lo = get_type("LORIOT").masked({"token": "t", "credentials": {"type": "token", "token": "u"}})
    assert lo == {"token": MASK, "credentials": {"type": "token", "token": MASK}}


def test_another_tenants_integration_takes_no_downlink(tenant, other_tenant, django_capture_on_commit_callbacks):
    from integrations.downlinks import DownlinkRefused

    with FakeCloud() as cloud:
        target = integration(tenant, "CHIRPSTACK", "cs-t", {"clientConfiguration": {
            "applicationServerUrl": cloud.url, "applicationServerAPIToken": "t"}})
        with pytest.raises(DownlinkRefused, match="is not found"), django_capture_on_commit_callbacks(execute=True):
            submit(other_tenant.pk, target.pk, attributes_msg(other_tenant, EUI, {}))
    assert cloud.requests == [] and not OutgoingDownlink.objects.exists()


def test_a_waiting_retry_schedules_one_task_only(tenant, send, monkeypatch):
    from django.core.cache import cache

    from integrations import api_downlinks
    from integrations.tasks import deliver_api_downlinks

    with FakeCloud() as cloud:
        cloud.answer(503)
        target = integration(tenant, "CHIRPSTACK", "cs-503", {"clientConfiguration": {
            "applicationServerUrl": cloud.url, "applicationServerAPIToken": "t"}})
        row = send(target)
    assert row.status == S.PENDING
    scheduled = []
    monkeypatch.setattr(deliver_api_downlinks, "apply_async", lambda **kw: scheduled.append(kw))
    cache.delete(api_downlinks.RETRY_KEY)
    api_downlinks.schedule_retry()
    api_downlinks.schedule_retry()  # a failing cloud never multiplies tasks
    cache.delete(api_downlinks.RETRY_KEY)
    assert len(scheduled) == 1 and scheduled[0]["countdown"] >= 1.0


# --- Actility's tokens: the documented examples, and the uplink check through the ingress ------------

AS_KEY = "46ab678cd45df4a4e4b375Eacd096acc"


def test_the_tokens_match_actilitys_documented_examples():
    from integrations.types.lorawan_http import actility_query, uplink_token

    up = {"DevEUI_uplink": {"CustomerID": "100000507", "DevEUI": "000000000F1D8693", "FPort": "2",
                            "FCntUp": "7011", "payload_hex": "0027bd00"}}
    query = ("LrnDevEui=000000000F1D8693&LrnFPort=2&LrnInfos=UPHTTP_LAB_LORA&AS_ID=app1.sample.com"
             "&Time=2016-01-11T14:11:11")
    assert uplink_token(up, query, AS_KEY) == "9bf99ba78791ad7f02c8d24dafe0a47da895ded5a0add99584d48d45c0e750a3"
    assert actility_query("000000000F1D8693", 1, "00", "app1.sample.com", AS_KEY, "2016-01-11T14:28:00") == (
        "DevEUI=000000000F1D8693&FPort=1&Payload=00&AS_ID=app1.sample.com&Time=2016-01-11T14:28:00"
        "&Token=b5a84fe9c8921e9de359e3041a37b76c4b122f6f9b83577b5596c842052f7e62")


def signed_uplink(body: dict, *, key: str = AS_KEY, as_id: str = "app1.sample.com", sent: str | None = None) -> str:
    from integrations.types.lorawan_http import actility_time, uplink_token

    sent = sent or actility_time()
    query = (f"LrnDevEui={EUI.upper()}&LrnFPort=2&LrnInfos=UPHTTP_LAB_LORA&AS_ID={as_id}"
             f"&Time={urllib.parse.quote(sent, safe=':')}")
    return f"{query}&Token={uplink_token(body, query, key)}"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_thingpark_security_admits_only_uplinks_signed_with_the_as_key(transport, tenant, queued):
    make_integration(tenant, "tp", kind="THINGPARK", routing_key="tp-sec", configuration={
        "enableSecurity": True, "asId": "app1.sample.com", "asKey": AS_KEY, "maxTimeDiffInSeconds": 60})
    body = {"DevEUI_uplink": {"CustomerID": "100000507", "DevEUI": EUI.upper(), "FPort": 2, "FCntUp": 7011,
                              "payload_hex": "0d70"}}
    post(transport, "thingpark", "tp-sec", body).error(403, "no Token")
    post(transport, "thingpark", "tp-sec", body, query=signed_uplink(body, key="another key")).error(403, "Token")
    post(transport, "thingpark", "tp-sec", body,
         query=signed_uplink(body, sent="2016-01-11T14:11:11.000+00:00")).error(403, "60 s off")
    post(transport, "thingpark", "tp-sec", body, query=signed_uplink(body, as_id="someone.else")).error(403, "AS_ID")
    tampered = {"DevEUI_uplink": dict(body["DevEUI_uplink"], payload_hex="ffff")}
    post(transport, "thingpark", "tp-sec", tampered, query=signed_uplink(body)).error(403, "does not match")
    assert queued == []
    assert post(transport, "thingpark", "tp-sec", body, query=signed_uplink(body)).status == 204
    assert len(queued) == 1
