"""SigFox, OceanConnect, Particle, T-Mobile IoT CDP and KPN Things through the real ingress (the
Django view and the lean ASGI app): uplinks to telemetry, each type's own endpoint, the KPN
signature and header-filter checks, and SigFox's synchronous BIDIR downlink reply."""

import hashlib
import json

import pytest

from integrations import queue
from integrations.downlinks import submit
from integrations.ingress import downlinks, routes
from integrations.models import DownlinkStatus, OutgoingDownlink
from integrations.tests.downlinks import attributes_msg, make_encoder
from integrations.tests.factories import make_integration, make_uplink_converter
from integrations.tests.test_http_ingress import TRANSPORTS, call
from integrations.types import get_type
from integrations.types.base import MASK

S = DownlinkStatus
SECRET = "Kpn-Shared-Secret-0123456789-abcdef!"
DECODE = "var d = JSON.parse(String.fromCharCode.apply(null, payload)); "

#: one sample uplink per type, in its platform's shape, and a decoder that reads it
UPLINKS = {
    "SIGFOX": ({"device": "2BEE81", "time": 1767225600, "data": "0d70", "seqNumber": 7, "ack": False},
               "return {deviceName: 'Sigfox-' + d.device, deviceType: 'sigfox', "
               "telemetry: {t: parseInt(d.data, 16) / 160}};"),
    "OCEANCONNECT": ({"notifyType": "deviceDataChanged", "deviceId": "oc-1",
                      "service": {"data": {"temperature": 21.5}}},
                     "return {deviceName: d.deviceId, deviceType: 'oc', telemetry: {t: d.service.data.temperature}};"),
    "PARTICLE": ({"event": "temp", "data": "21.5", "coreid": "e00fce68", "published_at": "2026-01-01T00:00:00Z"},
                 "return {deviceName: d.coreid, deviceType: 'particle', telemetry: {t: parseFloat(d.data)}};"),
    "TMOBILE_IOT_CDP": ({"reports": [{"serialNumber": "IMEI:3569", "resourcePath": "uplinkMsg/0/data",
                                      "value": "0d70"}]},
                        "var r = d.reports[0]; return {deviceName: r.serialNumber, deviceType: 'nbiot', "
                        "telemetry: {t: parseInt(r.value, 16) / 160}};"),
    "KPN": ([{"bn": "urn:dev:DEVEUI:0123456789ABCDEF:", "bt": 1767225600}, {"n": "temperature", "v": 21.5}],
            "return {deviceName: d[0].bn.split(':')[3], deviceType: 'kpn', telemetry: {t: d[1].v}};"),
}
NAMES = {"SIGFOX": "Sigfox-2BEE81", "OCEANCONNECT": "oc-1", "PARTICLE": "e00fce68",
         "TMOBILE_IOT_CDP": "IMEI:3569", "KPN": "0123456789ABCDEF"}


@pytest.fixture(autouse=True)
def _fresh_caches():
    routes.CACHE.clear()
    downlinks.PENDING.clear()
    yield
    routes.CACHE.clear()
    downlinks.PENDING.clear()


@pytest.fixture
def queued(monkeypatch) -> list:
    got = []

    async def accept(u):
        got.append(u)

    monkeypatch.setattr(queue, "accept", accept)
    return got


def raw_post(transport, endpoint, key, body: bytes, **headers):
    return call(transport, "POST", f"/api/v1/integrations/{endpoint}/{key}", body,
                {"content-type": "application/json", **{k.replace("_", "-"): v for k, v in headers.items()}})


def post(transport, endpoint, key, body, **headers):
    return raw_post(transport, endpoint, key, json.dumps(body).encode(), **headers)


def kpn_token(body: bytes, secret: str = SECRET) -> str:
    """KPN Things' documented Things-Message-Token: sha256(body + shared secret), hex."""
    return hashlib.sha256(body + secret.encode()).hexdigest()


def typed(tenant, kind, key, configuration=None, **extra):
    body, decoder = UPLINKS[kind]
    converter = make_uplink_converter(tenant, f"{kind} {key} decoder", DECODE + decoder)
    return make_integration(tenant, f"{kind} {key}", kind=kind, converter=converter, routing_key=key,
                            configuration=configuration or {}, **extra)


# --- uplinks --------------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)  # the queue runs the pipeline in its own thread and connection
@pytest.mark.parametrize("kind", sorted(UPLINKS))
def test_an_uplink_through_the_asgi_ingress_becomes_telemetry(kind, tenant, settings):
    from devices.models import Device
    from devices.telemetry import latest

    settings.CELERY_TASK_ALWAYS_EAGER = True
    configuration = {"destinationSharedSecret": SECRET} if kind == "KPN" else {}
    typed(tenant, kind, f"e2e-{kind}", configuration)
    body = json.dumps(UPLINKS[kind][0]).encode()
    headers = {"Things_Message_Token": kpn_token(body)} if kind == "KPN" else {}
    answer = raw_post("asgi", get_type(kind).endpoint, f"e2e-{kind}", body, **headers)
    assert answer.status == 204, answer.body
    device = Device.objects.get(tenant=tenant, name=NAMES[kind])
    assert {k: v for k, (_, v) in latest(device.pk, ["t"]).items()} == {"t": 21.5}


def test_each_type_has_thingsboards_endpoint():
    assert {k: get_type(k).endpoint for k in UPLINKS} == {
        "SIGFOX": "sigfox", "OCEANCONNECT": "oceanconnect", "PARTICLE": "particle",
        "TMOBILE_IOT_CDP": "tmobile_iot_cdp", "KPN": "kpn"}


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_routing_key_answers_only_on_its_types_endpoint(transport, tenant, queued):
    typed(tenant, "SIGFOX", "sf-key")
    typed(tenant, "PARTICLE", "pa-key")
    for endpoint in ("http", "kpn", "oceanconnect", "chirpstack"):
        post(transport, endpoint, "sf-key", UPLINKS["SIGFOX"][0]).error(404, "routing key")
    post(transport, "sigfox", "pa-key", UPLINKS["PARTICLE"][0]).error(404)
    post(transport, "sigfox", "no-such-key", UPLINKS["SIGFOX"][0]).error(404)
    assert queued == []
    assert post(transport, "sigfox", "sf-key", UPLINKS["SIGFOX"][0]).status == 204
    assert post(transport, "particle", "pa-key", UPLINKS["PARTICLE"][0]).status == 204


# --- security -------------------------------------------------------------------------------------

@pytest.mark.parametrize("transport", TRANSPORTS)
def test_kpn_admits_only_bodies_signed_with_the_shared_secret(transport, tenant, queued):
    typed(tenant, "KPN", "kpn-key", {"destinationSharedSecret": SECRET})
    body = json.dumps(UPLINKS["KPN"][0]).encode()
    raw_post(transport, "kpn", "kpn-key", body).error(403, "Things-Message-Token header is missing")
    raw_post(transport, "kpn", "kpn-key", body, Things_Message_Token=kpn_token(body, "another secret")).error(
        403, "does not match")
    raw_post(transport, "kpn", "kpn-key", body + b" ", Things_Message_Token=kpn_token(body)).error(403)
    assert queued == []
    answer = raw_post(transport, "kpn", "kpn-key", body, Things_Message_Token=kpn_token(body).upper(),
                      Things_Plug_UUID="plug-1")
    assert answer.status == 204
    [uplink] = queued
    assert uplink.payload == body and uplink.metadata["Header:things-plug-uuid"] == "plug-1"


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(("kind", "configuration"), [
    ("SIGFOX", {"enableSecurity": True, "headersFilter": {"X-Sigfox-Auth": "k1"}}),
    ("OCEANCONNECT", {"enableSecurity": True, "headersFilter": {"X-Sigfox-Auth": "k1"}}),
    ("TMOBILE_IOT_CDP", {"enableSecurity": True, "headersFilter": {"X-Sigfox-Auth": "k1"}}),
    ("KPN", {"enableSecurity": True, "headersFilter": {"X-Sigfox-Auth": "k1"}}),
    ("PARTICLE", {"clientConfiguration": {"enableSecurity": True, "headersFilter": {"X-Sigfox-Auth": "k1"}}}),
])
def test_the_header_filter_refuses_other_requests(transport, kind, configuration, tenant, queued):
    typed(tenant, kind, "hf-key", configuration)
    endpoint = get_type(kind).endpoint
    post(transport, endpoint, "hf-key", UPLINKS[kind][0]).error(403, "header filter")
    post(transport, endpoint, "hf-key", UPLINKS[kind][0], X_Sigfox_Auth="k2").error(403)
    assert queued == []
    assert post(transport, endpoint, "hf-key", UPLINKS[kind][0], X_Sigfox_Auth="k1").status == 204


def test_kpn_secrets_are_masked():
    assert get_type("KPN").masked({"destinationSharedSecret": "s", "apiKey": "k", "apiId": "i"}) == {
        "destinationSharedSecret": MASK, "apiKey": MASK, "apiId": "i"}


# --- SigFox: the downlink is the BIDIR callback's reply --------------------------------------------

@pytest.fixture
def sigfox(tenant):
    encoder = make_encoder(tenant, "return {contentType: msg.kind || 'TEXT', data: msg.data, "
                                   "metadata: msg.sfid ? {device: msg.sfid} : {}};")
    return typed(tenant, "SIGFOX", "sf-dl", downlink_converter=encoder)


@pytest.fixture
def send(tenant, django_capture_on_commit_callbacks):
    def run(target, device="Sigfox-2BEE81", **data):
        with django_capture_on_commit_callbacks(execute=True):
            submit(tenant.pk, target.pk, attributes_msg(tenant, device, data))

    return run


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_sigfox_answers_the_callback_with_the_downlink_in_its_json_shape(transport, sigfox, send, queued):
    send(sigfox, data="0102AABBCCDDEEFF")
    answer = post(transport, "sigfox", "sf-dl", UPLINKS["SIGFOX"][0])
    assert answer.status == 200, answer.body
    assert answer.headers["content-type"] == "application/json"
    assert json.loads(answer.body) == {"2BEE81": {"downlinkData": "0102aabbccddeeff"}}
    assert OutgoingDownlink.objects.get().status == S.DELIVERED and len(queued) == 1
    assert post(transport, "sigfox", "sf-dl", UPLINKS["SIGFOX"][0]).status == 204  # nothing waits any more


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_sigfox_takes_the_device_id_from_the_encoder_and_binary_as_hex(transport, sigfox, send, queued):
    send(sigfox, kind="BINARY", data="AQIDBAUGBwg=", sfid="2bee81")  # base64 of 01..08
    answer = post(transport, "sigfox", "sf-dl", UPLINKS["SIGFOX"][0])
    assert json.loads(answer.body) == {"2bee81": {"downlinkData": "0102030405060708"}}


def test_sigfox_downlinks_wait_for_their_own_device(sigfox, send, queued):
    send(sigfox, data="0102AABBCCDDEEFF")
    other = dict(UPLINKS["SIGFOX"][0], device="1A2B3C")
    assert post("asgi", "sigfox", "sf-dl", other).status == 204
    assert OutgoingDownlink.objects.get().status == S.PENDING


def test_kpn_downlinks_fail_with_a_clear_message(tenant, send):
    target = typed(tenant, "KPN", "kpn-dl", downlink_converter=make_encoder(tenant))
    send(target, device="0123456789ABCDEF", firmware="2")
    row = OutgoingDownlink.objects.get(integration=target)
    assert row.status == S.FAILED and "KPN Things downlinks" in row.error and "not supported" in row.error
