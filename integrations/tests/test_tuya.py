"""The TUYA integration against a mocked cloud (Tuya's cloud cannot run here): a local HTTP
server speaking Tuya's OpenAPI and checking its signatures, and a fake of the message service at
the adapter boundary (integrations/tests/tuya_fake.py) carrying messages encrypted as Tuya does.

Decryption (AES-GCM and AES-ECB), metadata, acknowledgement only after queueing, an unreadable
message recorded and the rest delivered, a listener stopped mid-stream and a service that drops
the connection losing nothing, a wrong access secret refused with Tuya's message, signed
downlink commands, and the whole path from ``POST /api/integration`` to stored telemetry and from
a shared attribute saved through the API to a command at the (fake) cloud.
"""

import asyncio
import hashlib
import json

import pytest

from integrations.listeners import tuya
from integrations.listeners.tuya import TuyaListener, probe, pulsar_credentials
from integrations.listeners.tuya_cloud import decrypt
from integrations.messages import Downlink
from integrations.tests.brokers import RecordingSink, running, wait_until
from integrations.tests.tuya_fake import FakeMessageService, FakeOpenApi, encrypt, envelope
from integrations.types.base import ConfigError, IntegrationError
from integrations.types.tuya import TuyaConfig, TuyaIntegration

ACCESS_ID, SECRET = "xtu7maff5n1y8ufo", "479bcba6d1c34e5c8d1b1e0f0c4e080f"
DEVICE = "vdevo1234567890"
REPORT = {"dataId": "d-1", "devId": DEVICE, "productKey": "keyjup78v54myhan",
          "status": [{"code": "switch_1", "t": 1764960000000, "value": True},
                     {"code": "cur_voltage", "t": 1764960000000, "value": 2305}]}


@pytest.fixture
def cloud():
    api = FakeOpenApi(ACCESS_ID, SECRET)
    yield api
    api.close()


@pytest.fixture
def service(monkeypatch):
    fake = FakeMessageService()
    monkeypatch.setitem(tuya.SOURCES, "pulsar", fake.source_factory())
    return fake


def config(cloud, secret: str = SECRET, **client) -> dict:
    return {"clientConfiguration": {"region": "EU", "accessId": ACCESS_ID, "accessKey": secret, "env": "PROD",
                                    "openApiUrl": cloud.url, **client}}


def run(coroutine, timeout: float = 30):
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


def listening(configuration: dict, sink, *, stop_timeout: float = 5.0):
    return running(TuyaListener(TuyaConfig.model_validate(configuration), sink, metadata={"integrationName": "tuya"},
                                integration_id="i-1"), stop_timeout=stop_timeout)


def test_messages_are_decrypted_into_uplinks_with_tuyas_metadata_and_acknowledged_once_queued(cloud, service):
    service.publish(envelope(REPORT, SECRET))
    service.publish(envelope({**REPORT, "dataId": "d-2"}, SECRET, em="ecb"), em="")
    online = {"bizCode": "online", "bizData": {"time": 1764960000}, "devId": DEVICE, "productKey": "p1", "ts": 1}
    service.publish(envelope(online, SECRET, protocol=20))
    sink = RecordingSink()

    async def scenario():
        async with listening(config(cloud), sink):
            await sink.wait_for(3)
            await asyncio.sleep(0.1)

    run(scenario())
    first = sink.uplinks[0]
    assert json.loads(first.payload) == REPORT and first.content_type == "JSON"
    assert first.metadata == {"integrationName": "tuya", "messageId": "0:0:-1:0", "protocol": "4", "pv": "2.0",
                              "t": "1764960000000", "devId": DEVICE, "productKey": "keyjup78v54myhan",
                              "dataId": "d-1"}
    assert json.loads(sink.uplinks[1].payload)["dataId"] == "d-2"  # the AES-ECB one
    assert sink.uplinks[2].metadata["bizCode"] == "online" and sink.uplinks[2].metadata["protocol"] == "20"
    assert len(service.acked) == 3 and not service.pending and not service.unacked


def test_an_unreadable_message_is_recorded_as_a_failure_and_the_others_are_delivered(cloud, service):
    service.publish(envelope(REPORT, "0" * 32))  # encrypted with another project's secret
    service.publish(b"not json at all")
    service.publish(envelope(REPORT, SECRET))
    sink = RecordingSink()

    async def scenario():
        async with listening(config(cloud), sink):
            await sink.wait_for(1)
            await asyncio.sleep(0.1)

    run(scenario())
    assert [json.loads(u.payload)["devId"] for u in sink.uplinks] == [DEVICE]
    reasons = [reason for _, _, reason in sink.drops]
    assert reasons == ["Tuya message cannot be read: AES-GCM authentication failed (wrong access secret?)",
                       "Tuya message cannot be read: Expecting value: line 1 column 1 (char 0)"]
    assert sink.drops[1][1] == b"not json at all" and len(service.acked) == 3


def test_nothing_is_lost_when_the_listener_stops_first_or_the_service_drops_the_connection(cloud, service):
    for n in range(4):
        service.publish(envelope({**REPORT, "dataId": f"d-{n}"}, SECRET))
    stuck, sink = RecordingSink(), RecordingSink()

    async def scenario():
        stuck.block = asyncio.Event()  # the pipeline's queue never answers
        async with listening(config(cloud), stuck, stop_timeout=0.3):
            while not stuck.calls:
                await asyncio.sleep(0.02)
        assert service.acked == [] and len(service.pending) == 4
        service.drop_after = 0  # the next reader's connection drops before its first batch
        async with listening(config(cloud), sink) as listener:
            while not any(r.get("connected") is False for r in sink.reports):
                await asyncio.sleep(0.02)
            await asyncio.wait_for(listener.connected.wait(), 10)
            await sink.wait_for(4)
            await asyncio.sleep(0.1)

    run(scenario())
    assert stuck.uplinks == [] and sorted(json.loads(u.payload)["dataId"] for u in sink.uplinks) == [
        "d-0", "d-1", "d-2", "d-3"]
    lost = next(r for r in sink.reports if r.get("connected") is False)
    assert "the broker closed the connection" in lost["error"]
    assert sink.reports[-1] == {"connected": True, "error": ""} and len(service.acked) == 4


def test_a_wrong_access_secret_is_refused_with_tuyas_message(cloud, service):
    wrong = config(cloud, secret="f" * 32)
    with pytest.raises(IntegrationError) as refused:
        run(probe(TuyaConfig.model_validate(wrong)))
    assert refused.value.permanent
    assert refused.value.message == ("Tuya OpenAPI refused GET /v1.0/token: sign invalid (code 1004)")
    run(probe(TuyaConfig.model_validate(config(cloud))))
    sink = RecordingSink()

    async def scenario():
        listener = TuyaListener(TuyaConfig.model_validate(wrong), sink, metadata={}, integration_id="i-1")
        await listener.start()
        while not sink.reports:
            await asyncio.sleep(0.02)
        await listener.stop()

    run(scenario())
    assert sink.reports[0] == {"connected": False, "error": refused.value.message}


def test_a_downlink_is_a_signed_device_command(cloud, service):
    async def scenario():
        async with listening(config(cloud), RecordingSink()) as listener:
            await listener.publish(Downlink("i-1", "plug", b'{"code": "switch_1", "value": false}', "JSON",
                                            metadata={"deviceId": DEVICE}))
            await listener.publish(Downlink("i-1", DEVICE, b'[{"code": "countdown_1", "value": 60}]', "JSON"))
            with pytest.raises(IntegrationError, match="device is offline") as offline:
                await listener.publish(Downlink("i-1", "plug", b'{"code": "switch_1", "value": true}', "JSON",
                                                metadata={"deviceId": "unknown-device"}))
            with pytest.raises(IntegrationError, match="A Tuya downlink is JSON") as shape:
                await listener.publish(Downlink("i-1", "plug", b"on", "TEXT", metadata={"deviceId": DEVICE}))
            return offline.value, shape.value

    offline, shape = run(scenario())
    assert cloud.commands == [(DEVICE, {"commands": [{"code": "switch_1", "value": False}]}),
                              (DEVICE, {"commands": [{"code": "countdown_1", "value": 60}]})]
    assert not offline.permanent and shape.permanent


def test_decryption_and_the_message_service_credentials_follow_tuyas_sdk():
    assert decrypt(encrypt(b'{"a": 1}', SECRET, "ecb"), SECRET) == b'{"a": 1}'
    assert decrypt(encrypt(b'{"a": 1}', SECRET), SECRET, "aes_gcm") == b'{"a": 1}'
    with pytest.raises(ValueError, match="not base64"):
        decrypt("***", SECRET)
    user, password = pulsar_credentials(ACCESS_ID, SECRET)
    # Tuya's SDKs: md5(accessId + md5(accessKey)), characters 8-24, in a JSON the broker joins
    expected = hashlib.md5((ACCESS_ID + hashlib.md5(SECRET.encode()).hexdigest()).encode()).hexdigest()[8:24]
    assert json.loads(user + ":" + password) == {"username": ACCESS_ID, "password": expected}


def test_the_configuration_has_thingsboards_keys_and_the_secret_is_write_only(cloud):
    parsed = TuyaConfig.model_validate({"clientConfiguration": {"accessId": ACCESS_ID, "accessKey": SECRET}})
    cc = parsed.clientConfiguration
    assert (cc.region, cc.env, cc.api_url, cc.service_url, cc.topic) == (
        "EU", "PROD", "https://openapi.tuyaeu.com", "pulsar+ssl://mqe.tuyaeu.com:7285/", f"{ACCESS_ID}/out/event")
    test_env = TuyaConfig.model_validate(config(cloud, env="TEST", region="IN")).clientConfiguration
    assert test_env.topic == f"{ACCESS_ID}/out/event-test" and test_env.service_url.startswith("pulsar+ssl://mqe.tuyain")
    with pytest.raises(ConfigError, match="configuration.clientConfiguration.region"):
        TuyaIntegration.validate(config(cloud, region="MARS"))
    with pytest.raises(ConfigError, match="configuration.clientConfiguration.accessKey"):
        TuyaIntegration.validate(config(cloud, secret="short"))
    assert TuyaIntegration.masked(config(cloud))["clientConfiguration"]["accessKey"] == "******"


# --- through the API, the listener host, the pipeline and the rule engine -------------------------

#: a decoder in the spirit of ThingsBoard's Tuya guide: the device is devId, each status a value
DECODER = """
var data = JSON.parse(String.fromCharCode.apply(String, payload));
var values = {};
(data.status || []).forEach(function (s) { values[s.code] = s.code === 'cur_voltage' ? s.value / 10 : s.value; });
return {deviceName: data.devId, deviceType: 'Tuya device', telemetry: values};
"""
#: a shared attribute "switch_1" becomes the Tuya command of that code
ENCODER = """
return {contentType: 'JSON', data: JSON.stringify({code: 'switch_1', value: msg.switch_1 === true}),
        metadata: {deviceId: metadata.deviceName}};
"""
@pytest.mark.django_db(transaction=True)
def test_an_integration_posted_as_thingsboard_json_stores_telemetry_and_sends_a_command(api, tenant, cloud, service):
    pytest.importorskip("rulechains.services", reason="the rule engine (rulechains) is not there yet")
    from django.db.models import Sum

    from converters.models import DebugEvent
    from devices.models import Device
    from devices.telemetry import latest
    from integrations.models import Integration, IntegrationStats
    from integrations.runner import Runner, RunnerThread
    from integrations.tests.downlinks import attribute_downlink_chain, make_encoder, make_root
    from integrations.tests.test_rabbitmq import _delete_telemetry
    from integrations.tests.uplinks import converter
    from tbproject.celery import app as celery_app

    decoder, encoder = converter(tenant, DECODER), make_encoder(tenant, ENCODER)
    ids = {}
    for label, secret in (("good", SECRET), ("wrong", "f" * 32)):
        res = api.post("/api/integration", {
            "name": f"Tuya {label}", "type": "TUYA", "enabled": True, "debugSettings": {"failuresEnabled": True},
            "defaultConverterId": {"entityType": "CONVERTER", "id": str(decoder.pk)},
            "downlinkConverterId": {"entityType": "CONVERTER", "id": str(encoder.pk)},
            "configuration": {**config(cloud, secret=secret), "metadata": {}}}, format="json")
        assert res.status_code == 200, res.content
        assert res.json()["configuration"]["clientConfiguration"]["accessKey"] == "******"
        ids[label] = res.json()["id"]["id"]
    make_root(api, attribute_downlink_chain(ids["good"]))
    eager, celery_app.conf.task_always_eager = celery_app.conf.task_always_eager, True
    host = RunnerThread(Runner(lease_seconds=3, poll_seconds=0.3)).start()
    try:
        wait_until(lambda: Integration.objects.filter(pk=ids["good"], connected=True).exists(), 20,
                   message="the integration to connect")
        service.publish(envelope(REPORT, SECRET))
        device = wait_until(lambda: Device.objects.filter(tenant=tenant, name=DEVICE).first(), 20,
                            message="the device")
        stored = wait_until(lambda: latest(device.pk, ["switch_1", "cur_voltage"]), message="the telemetry")
        assert {key: value for key, (_, value) in stored.items()} == {"switch_1": True, "cur_voltage": 230.5}
        res = api.post(f"/api/plugins/telemetry/DEVICE/{device.pk}/attributes/SHARED_SCOPE", {"switch_1": True},
                       format="json")
        assert res.status_code == 200, res.content
        wait_until(lambda: cloud.commands, 20, message="the command at Tuya")
        assert cloud.commands == [(DEVICE, {"commands": [{"code": "switch_1", "value": True}]})]
        wrong = wait_until(lambda: Integration.objects.filter(pk=ids["wrong"]).exclude(last_error="").first(), 20,
                           message="the wrong secret's error")
        assert wrong.last_error == "Tuya OpenAPI refused GET /v1.0/token: sign invalid (code 1004)"
        error = wait_until(lambda: DebugEvent.objects.filter(entity_id=ids["wrong"], event_type="ERROR").first(),
                           message="the ERROR event")
        assert error.body["error"] == wrong.last_error
        started = DebugEvent.objects.filter(entity_id=ids["good"], event_type="LC_EVENT").first()
        assert started is not None and (started.body["event"], started.body["status"]) == ("STARTED", "Success")
        counted = IntegrationStats.objects.filter(integration_id=ids["good"]).aggregate(n=Sum("messages_processed"))
        assert counted["n"] == 1  # the statistics behind STATS events and integrationInfos.stats
        assert api.get("/api/integrationInfos?pageSize=10&page=0").status_code == 200
    finally:
        host.stop()
        celery_app.conf.task_always_eager = eager
        _delete_telemetry(tenant)


@pytest.mark.django_db
def test_the_check_endpoint_answers_with_tuyas_refusal(api, tenant, cloud, service):
    from integrations.tests.factories import make_uplink_converter

    body = {"name": "Tuya", "type": "TUYA", "defaultConverterId": {"entityType": "CONVERTER",
                                                                   "id": str(make_uplink_converter(tenant).pk)},
            "configuration": config(cloud, secret="f" * 32)}
    res = api.post("/api/integration/check", body, format="json")
    assert res.status_code == 400 and "sign invalid (code 1004)" in res.json()["message"]
    body["configuration"] = config(cloud)
    assert api.post("/api/integration/check", body, format="json").status_code == 200
