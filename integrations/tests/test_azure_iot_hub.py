"""Azure IoT Hub against a private Mosquitto that stands in for the hub's MQTT endpoint, set up
for its device scheme: the only user is ``{host}/{deviceId}/?api-version=...`` whose password is
the SAS token the test computes itself from the device key (Mosquitto cannot check an HMAC, so it
compares the whole token), and an ACL that gives that device only its own
``devices/{deviceId}/messages/...`` topics, as IoT Hub does. ThingsBoard connects as that device;
the test plays the hub's service side: it sends cloud-to-device messages and reads the
device-to-cloud events ThingsBoard publishes."""

import base64
import hashlib
import hmac
import json
import ssl
import time
import urllib.parse

import pytest

from devices.models import Device
from devices.telemetry import latest
from integrations.downlinks import submit
from integrations.models import Integration
from integrations.tests.brokers import Certificates, publish_sync, wait_until
from integrations.tests.downlinks import attributes_msg, make_encoder
from integrations.tests.factories import make_integration, make_uplink_converter
from integrations.tests.mqtt_clouds import AuthSubscriber, acl, connected, forget_telemetry, passwords, start_host
from integrations.types.base import MASK
from tbproject.testing.api import assert_error
from tenants.models import Tenant

DEVICE, KEY = "hub-device-1", base64.b64encode(b"device-primary-key-0123456789abc").decode()
C2D = f"devices/{DEVICE}/messages/devicebound/%24.to=%2Fdevices%2F{DEVICE}%2Fmessages%2FdeviceBound"
DECODER = """
var data = JSON.parse(String.fromCharCode.apply(null, payload));
return {deviceName: data.devName, deviceType: 'thermostat',
        telemetry: {temperature: data.msg.temp, humidity: data.msg.humidity}};
"""


def expected_token(host: str) -> str:
    """The SAS token as Microsoft documents it, computed here independently of the code under test."""
    if 3600 - time.time() % 3600 < 30:  # the token changes on the hour: do not straddle it
        time.sleep(3600 - time.time() % 3600 + 1)
    expiry = (int(time.time()) // 3600 + 1) * 3600 + 24 * 3600
    resource = urllib.parse.quote(f"{host}/devices/{DEVICE}", safe="")
    signature = hmac.new(base64.b64decode(KEY), f"{resource}\n{expiry}".encode(), hashlib.sha256).digest()
    sig = urllib.parse.quote(base64.b64encode(signature).decode(), safe="")
    return f"SharedAccessSignature sr={resource}&sig={sig}&se={expiry}"


@pytest.fixture
def certs(tmp_path):
    return Certificates(tmp_path / "certs")


@pytest.fixture
def tls(certs):
    """What the hub's service side connects with: TLS, server verified, no client certificate."""
    return ssl.create_default_context(cadata=certs.ca)


@pytest.fixture
def hub(make_broker, tmp_path, certs):
    """IoT Hub's MQTT endpoint: TLS only, each device by its SAS token, confined to its topics."""
    username = f"127.0.0.1/{DEVICE}/?api-version=2021-04-12"
    d = certs.directory
    conf = (f"cafile {d / 'ca.pem'}\ncertfile {d / 'server.pem'}\nkeyfile {d / 'server.key'}\n"
            f"allow_anonymous false\npassword_file {passwords(tmp_path, {username: expected_token('127.0.0.1')})}\n"
            f"acl_file {acl(tmp_path, {username: [f'devices/{DEVICE}/messages/#']})}")
    hub = make_broker(conf).start()
    hub.ca = certs.ca
    return hub


@pytest.fixture
def cloud_tenant(transactional_db):
    tenant = Tenant.objects.create(title="Azure Co")
    yield tenant
    forget_telemetry(tenant)


@pytest.fixture
def host():
    threads = []
    yield lambda: threads.append(start_host())
    for thread in threads:
        thread.stop()


def configuration(broker, key=KEY, **extra) -> dict:
    return {"clientConfiguration": {"host": broker.host, "port": broker.port, "clientId": DEVICE,
                                    "connectTimeoutSec": 3,
                                    "credentials": {"type": "sas", "sasKey": key, "caCert": broker.ca}}, **extra}


@pytest.mark.django_db(transaction=True)
def test_cloud_to_device_messages_become_telemetry_and_downlinks_are_device_to_cloud_events(cloud_tenant, hub, host,
                                                                                           tls):
    encoder = "return {contentType: 'JSON', data: JSON.stringify(msg), metadata: {}};"
    integration = make_integration(cloud_tenant, "Hub", kind="AZURE_IOT_HUB",
                                   converter=make_uplink_converter(cloud_tenant, decoder=DECODER),
                                   downlink_converter=make_encoder(cloud_tenant, encoder),
                                   configuration=configuration(hub))
    host()
    wait_until(lambda: connected(integration), message="the integration to connect")
    message = {"devName": "T1", "msg": {"temp": 42, "humidity": 77}}  # ThingsBoard's guide's example
    publish_sync(hub, [(C2D, json.dumps(message).encode())], auth=("cloud-internal", "internal-secret"),
                 ssl=tls)
    device = wait_until(lambda: Device.objects.filter(tenant=cloud_tenant, name="T1").first(), message="the device")
    stored = wait_until(lambda: latest(device.pk, ["temperature", "humidity"]), message="the telemetry")
    assert {key: value for key, (_, value) in stored.items()} == {"temperature": 42, "humidity": 77}

    with AuthSubscriber(hub, "devices/+/messages/events/#", ssl=tls) as subscriber:
        submit(cloud_tenant.pk, integration.pk, attributes_msg(cloud_tenant, "T1", {"setpoint": 20}))
        wait_until(lambda: subscriber.received, message="the device-to-cloud publish")
    assert subscriber.received == [(f"devices/{DEVICE}/messages/events/", b'{"setpoint":20}')]


@pytest.mark.django_db(transaction=True)
def test_a_wrong_sas_key_and_x509_credentials_are_the_integrations_errors(cloud_tenant, hub, host):
    wrong = make_integration(cloud_tenant, "Wrong key", kind="AZURE_IOT_HUB",
                             configuration=configuration(hub, key=base64.b64encode(b"another-key").decode()))
    x509 = make_integration(cloud_tenant, "X.509", kind="AZURE_IOT_HUB", configuration={"clientConfiguration": {
        "host": hub.host, "port": hub.port, "clientId": DEVICE,
        "credentials": {"type": "cert.PEM", "cert": "C", "privateKey": "K"}}})
    host()
    error = wait_until(lambda: Integration.objects.get(pk=wrong.pk).last_error, message="the connect error")
    assert error.startswith(f"Failed to connect to MQTT broker at 127.0.0.1:{hub.port}: ")
    assert "Connection Refused: not authorised" in error and not connected(wrong)
    refused = wait_until(lambda: Integration.objects.get(pk=x509.pk).last_error, message="the start error")
    assert "X.509 (cert.PEM) credentials is not supported yet" in refused


@pytest.mark.django_db
def test_check_connects_as_the_device_and_says_what_to_check(api, tenant, hub):
    converter = make_uplink_converter(tenant)
    body = {"name": "probe", "type": "AZURE_IOT_HUB", "configuration": configuration(hub),
            "defaultConverterId": {"entityType": "CONVERTER", "id": str(converter.pk)}}
    assert api.post("/api/integration/check", body, format="json").status_code == 200
    body["configuration"] = configuration(hub, key=base64.b64encode(b"another-key").decode())
    message = assert_error(api.post("/api/integration/check", body, format="json"), 400)["message"]
    assert message.startswith(f"Failed to connect to Azure IoT Hub at 127.0.0.1:{hub.port}: ")
    assert message.endswith("check the hub host name, the device id (clientId) and the device's SAS key")


@pytest.mark.django_db
@pytest.mark.parametrize(("client", "message"), [
    ({"clientId": DEVICE, "credentials": {"type": "sas"}},
     "configuration.clientConfiguration.credentials: Value error, sasKey is required with sas credentials"),
    ({"clientId": DEVICE, "credentials": {"type": "sas", "sasKey": "not base64!"}},
     "configuration.clientConfiguration.credentials.sasKey: Value error, must be the device's shared access key"),
    ({"credentials": {"type": "sas", "sasKey": KEY}}, "configuration.clientConfiguration.clientId"),
    ({"clientId": DEVICE, "credentials": {"type": "basic", "username": "u"}},
     "configuration.clientConfiguration.credentials.type"),
])
def test_configuration_errors_name_the_field(api, tenant, client, message):
    converter = make_uplink_converter(tenant)
    body = {"name": "bad", "type": "AZURE_IOT_HUB", "configuration": {"clientConfiguration": {
        "host": "my-hub.azure-devices.net", **client}},
        "defaultConverterId": {"entityType": "CONVERTER", "id": str(converter.pk)}}
    assert_error(api.post("/api/integration", body, format="json"), 400, message)


@pytest.mark.django_db
def test_the_sas_key_is_write_only(api, tenant, hub):
    converter = make_uplink_converter(tenant)
    body = {"name": "hub", "type": "AZURE_IOT_HUB", "configuration": configuration(hub),
            "defaultConverterId": {"entityType": "CONVERTER", "id": str(converter.pk)}}
    saved = api.post("/api/integration", body, format="json")
    assert saved.status_code == 200, saved.content
    assert saved.json()["configuration"]["clientConfiguration"]["credentials"]["sasKey"] == MASK
    stored = Integration.objects.get(pk=saved.json()["id"]["id"])
    assert stored.configuration["clientConfiguration"]["credentials"]["sasKey"] == KEY


def test_the_connection_is_the_devices_own():
    from integrations.types.azure_iot_hub import AzureIotHubIntegration

    integration = Integration(name="h", type="AZURE_IOT_HUB", configuration={"clientConfiguration": {
        "host": "my-hub.azure-devices.net", "clientId": DEVICE, "credentials": {"type": "sas", "sasKey": KEY}}})
    hub = AzureIotHubIntegration(integration)
    config = hub.connection_config()
    cc = config.clientConfiguration
    assert (cc.port, cc.ssl, cc.protocolVersion, hub.client_id) == (8883, True, "MQTT_3_1_1", DEVICE)
    assert cc.credentials.username == f"my-hub.azure-devices.net/{DEVICE}/?api-version=2021-04-12"
    assert cc.credentials.password.startswith("SharedAccessSignature sr=my-hub.azure-devices.net%2Fdevices%2F")
    assert [f.filter for f in config.topicFilters] == [f"devices/{DEVICE}/messages/devicebound/#"]
    assert hub.downlink_pattern() == f"devices/{DEVICE}/messages/events/"
