"""TTN and TTI (The Things Stack Community / Industries) against a private Mosquitto that stands
in for The Things Stack's MQTT server: users ``{app}@{tenant}`` with an API key as password and
an ACL that gives each only ``v3/{app}@{tenant}/#``, as The Things Stack does. The test plays the
network server (publishes ``ApplicationUp`` JSON to ``.../up``) and its downlink queue (subscribes
to ``.../down/push``). The listener host runs in a thread, the pipeline stores real telemetry."""

import base64
import json

import pytest

from devices.models import Device
from devices.telemetry import latest
from integrations.downlinks import submit
from integrations.models import DeviceRoute, Integration
from integrations.tests.brokers import publish_sync, wait_until
from integrations.tests.downlinks import attributes_msg, make_encoder
from integrations.tests.factories import make_integration, make_uplink_converter
from integrations.tests.mqtt_clouds import AuthSubscriber, acl, connected, forget_telemetry, passwords, start_host
from integrations.types.base import MASK, IntegrationError
from integrations.types.tts import TtiIntegration, TtnIntegration, tts_downlink
from tbproject.testing.api import assert_error
from tenants.models import Tenant

APP, API_KEY = "meters@ttn", "NNSXS.TESTKEY"
DECODER = """
var up = JSON.parse(String.fromCharCode.apply(null, payload));
return {deviceName: up.end_device_ids.device_id, deviceType: 'lorawan',
        telemetry: {temperature: up.uplink_message.decoded_payload.temperature}};
"""


def application_up(device_id: str, temperature: float) -> bytes:
    return json.dumps({"end_device_ids": {"device_id": device_id, "application_ids": {"application_id": "meters"},
                                          "dev_eui": "0004A30B001C0530"},
                       "received_at": "2026-12-02T07:00:00Z",
                       "uplink_message": {"f_port": 2, "frm_payload": "AQI=",
                                          "decoded_payload": {"temperature": temperature}}}).encode()


@pytest.fixture
def tts(make_broker, tmp_path):
    """The Things Stack's MQTT server: only its users, each confined to its application's topics."""
    users = {APP: API_KEY, "other@ttn": "NNSXS.OTHER"}
    conf = (f"allow_anonymous false\npassword_file {passwords(tmp_path, users)}\n"
            f"acl_file {acl(tmp_path, {u: [f'v3/{u}/#'] for u in users})}")
    return make_broker(conf).start()


@pytest.fixture
def cloud_tenant(transactional_db):
    tenant = Tenant.objects.create(title="LoRaWAN Co")
    yield tenant
    forget_telemetry(tenant)


@pytest.fixture
def host():
    threads = []
    yield lambda: threads.append(start_host())
    for thread in threads:
        thread.stop()


def configuration(broker, username=APP, password=API_KEY, **client) -> dict:
    return {"clientConfiguration": {"host": broker.host, "port": broker.port, "ssl": False, "customHost": True,
                                    "connectTimeoutSec": 3, **client,
                                    "credentials": {"type": "basic", "username": username, "password": password}}}


def ttn(tenant, broker, *, kind="TTN", encoder=None, **config) -> Integration:
    extra = {"downlink_converter": make_encoder(tenant, encoder)} if encoder else {}
    return make_integration(tenant, f"{kind} meters", kind=kind,
                            converter=make_uplink_converter(tenant, decoder=DECODER),
                            configuration=configuration(broker, **config), **extra)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", ["TTN", "TTI"])
def test_uplinks_become_telemetry_and_a_downlink_reaches_the_devices_push_topic(cloud_tenant, tts, host, kind):
    """The default topic filter ``v3/{app}@{tenant}/devices/+/up``; the downlink's devId comes from
    the encoder's metadata and its body is The Things Stack's ``downlinks`` JSON."""
    encoder = ("return {contentType: 'TEXT', data: 'ON', "
               "metadata: {devId: metadata.deviceName, fPort: '3', priority: 'high'}};")
    integration = ttn(cloud_tenant, tts, kind=kind, encoder=encoder)
    host()
    wait_until(lambda: connected(integration), message="the integration to connect")
    publish_sync(tts, [(f"v3/{APP}/devices/thermo-1/up", application_up("thermo-1", 21.5))],
                 auth=("cloud-internal", "internal-secret"))
    device = wait_until(lambda: Device.objects.filter(tenant=cloud_tenant, name="thermo-1").first(),
                        message="the device")
    stored = wait_until(lambda: latest(device.pk, ["temperature"]), message="the telemetry")
    assert {key: value for key, (_, value) in stored.items()} == {"temperature": 21.5}

    with AuthSubscriber(tts, f"v3/{APP}/devices/+/down/#") as subscriber:
        submit(cloud_tenant.pk, integration.pk, attributes_msg(cloud_tenant, "thermo-1", {"power": "on"}))
        wait_until(lambda: subscriber.received, message="the downlink publish")
    [(topic, body)] = subscriber.received
    assert topic == f"v3/{APP}/devices/thermo-1/down/push"
    assert json.loads(body) == {"downlinks": [{"frm_payload": base64.b64encode(b"ON").decode(), "f_port": 3,
                                               "priority": "HIGH"}]}


@pytest.mark.django_db(transaction=True)
def test_a_downlink_without_dev_id_goes_to_the_device_of_the_last_uplink_and_an_own_envelope_passes(
        cloud_tenant, tts, host):
    """ThingsBoard's documented TTN encoder builds ``{"downlinks": [...]}`` itself: published as is."""
    envelope = {"downlinks": [{"f_port": 2, "frm_payload": "AQ==", "priority": "NORMAL", "confirmed": True}]}
    encoder = f"return {{contentType: 'JSON', data: JSON.stringify({json.dumps(envelope)}), metadata: {{}}}};"
    integration = ttn(cloud_tenant, tts, encoder=encoder)
    host()
    wait_until(lambda: connected(integration), message="the integration to connect")
    publish_sync(tts, [(f"v3/{APP}/devices/thermo-7/up", application_up("thermo-7", 19.0))],
                 auth=("cloud-internal", "internal-secret"))
    # the device is committed before the batch's route memory: wait for the route, which the downlink needs
    wait_until(lambda: DeviceRoute.objects.filter(integration=integration, device_name="thermo-7").exists(),
               message="the device's route")
    with AuthSubscriber(tts, f"v3/{APP}/devices/+/down/#") as subscriber:
        submit(cloud_tenant.pk, integration.pk, attributes_msg(cloud_tenant, "thermo-7"))
        wait_until(lambda: subscriber.received, message="the downlink publish")
    [(topic, body)] = subscriber.received
    assert topic == f"v3/{APP}/devices/thermo-7/down/push" and json.loads(body) == envelope


@pytest.mark.django_db(transaction=True)
def test_a_wrong_api_key_is_the_integrations_error(cloud_tenant, tts, host):
    """Mosquitto refuses a bad password as The Things Stack refuses a bad API key (CONNACK 5)."""
    wrong = ttn(cloud_tenant, tts, password="NNSXS.WRONG")
    host()
    error = wait_until(lambda: Integration.objects.get(pk=wrong.pk).last_error, message="the connect error")
    assert error.startswith(f"Failed to connect to MQTT broker at 127.0.0.1:{tts.port}: ")
    assert "Connection Refused: not authorised" in error and not connected(wrong)


@pytest.mark.django_db
def test_check_names_the_cloud_and_what_to_fix(api, tenant, tts):
    converter = make_uplink_converter(tenant)
    body = {"name": "probe", "type": "TTN", "configuration": configuration(tts),
            "defaultConverterId": {"entityType": "CONVERTER", "id": str(converter.pk)}}
    assert api.post("/api/integration/check", body, format="json").status_code == 200
    body["configuration"] = configuration(tts, password="NNSXS.WRONG")
    message = assert_error(api.post("/api/integration/check", body, format="json"), 400)["message"]
    assert message.startswith(f"Failed to connect to The Things Stack at 127.0.0.1:{tts.port}: ")
    assert "Connection Refused: not authorised" in message
    assert message.endswith("check that the username is '{application id}@{tenant id}' and the password an API key "
                            "of that application")


@pytest.mark.django_db
@pytest.mark.parametrize(("change", "message"), [
    ({"username": "meters"}, "configuration.clientConfiguration.credentials.username: Value error, must be "
                             "'{application id}@{tenant id}'"),
    ({"password": ""}, "configuration.clientConfiguration.credentials.password"),
    ({"type": "anonymous"}, "configuration.clientConfiguration.credentials.type"),
])
def test_configuration_errors_name_the_field(api, tenant, change, message):
    converter = make_uplink_converter(tenant)
    config = {"clientConfiguration": {"host": "eu1", "credentials": {"type": "basic", "username": APP,
                                                                     "password": API_KEY, **change}}}
    body = {"name": "bad", "type": "TTI", "configuration": config,
            "defaultConverterId": {"entityType": "CONVERTER", "id": str(converter.pk)}}
    assert_error(api.post("/api/integration", body, format="json"), 400, message)


@pytest.mark.django_db
def test_the_api_key_is_write_only(api, tenant):
    converter = make_uplink_converter(tenant)
    config = {"clientConfiguration": {"host": "eu1", "credentials": {"type": "basic", "username": APP,
                                                                     "password": API_KEY}}}
    body = {"name": "ttn", "type": "TTN", "configuration": config,
            "defaultConverterId": {"entityType": "CONVERTER", "id": str(converter.pk)}}
    saved = api.post("/api/integration", body, format="json")
    assert saved.status_code == 200, saved.content
    assert saved.json()["configuration"]["clientConfiguration"]["credentials"]["password"] == MASK
    stored = Integration.objects.get(pk=saved.json()["id"]["id"])
    assert stored.configuration["clientConfiguration"]["credentials"]["password"] == API_KEY


def test_hosts_defaults_and_the_downlink_body():
    ttn_type = TtnIntegration(Integration(name="t", type="TTN", configuration={
        "clientConfiguration": {"host": "eu1", "credentials": {"username": APP, "password": API_KEY}}}))
    tti_type = TtiIntegration(Integration(name="t", type="TTI", configuration={
        "clientConfiguration": {"host": "eu1", "credentials": {"username": "meters@acme", "password": API_KEY}}}))
    cc = ttn_type.connection_config().clientConfiguration
    assert (cc.host, cc.port, cc.ssl, cc.protocolVersion) == ("eu1.cloud.thethings.network", 8883, True, "MQTT_3_1_1")
    assert tti_type.connection_config().clientConfiguration.host == "acme.eu1.cloud.thethings.industries"
    custom = TtiIntegration(Integration(name="t", type="TTI", configuration={"clientConfiguration": {
        "host": "eu1", "customHost": True, "hostEdit": "lns.example.com",
        "credentials": {"username": "meters@acme", "password": API_KEY}}}))
    assert custom.connection_config().clientConfiguration.host == "lns.example.com"
    filters = tti_type.connection_config().topicFilters
    assert [(f.filter, f.qos) for f in filters] == [("v3/meters@acme/devices/+/up", 0)]
    assert tti_type.downlink_pattern() == "v3/meters@acme/devices/${devId}/down/push"
    assert json.loads(tts_downlink(b"\x01", {"confirmed": "true"})) == {
        "downlinks": [{"frm_payload": "AQ==", "f_port": 1, "priority": "NORMAL", "confirmed": True}]}
    from integrations.messages import Downlink

    with pytest.raises(IntegrationError) as unknown:  # no devId in the encoder's metadata, no uplink seen
        tti_type.downlink_message(Downlink("i", "thermo-9", b"\x01"))
    assert unknown.value.permanent and "no 'devId'" in unknown.value.message
    for bad in ({"fPort": "0"}, {"fPort": "x"}, {"priority": "URGENT"}):
        with pytest.raises(IntegrationError) as refused:
            tts_downlink(b"\x01", bad)
        assert refused.value.permanent
