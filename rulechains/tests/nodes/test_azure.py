"""The "azure iot hub" node.

MOCKED CLOUD: Azure IoT Hub cannot run here. A private, real Mosquitto stands in for the hub's
MQTT endpoint, set up for its device scheme (as integrations/tests/test_azure_iot_hub.py does):
the only device user is ``{host}/{deviceId}/?api-version=2018-06-30`` and its password the SAS
token the test computes itself from the device key (Mosquitto cannot check an HMAC, so it compares
the whole token), confined by an ACL to the device's own topics. The node reaches it through
ThingsBoard's own ``port``/``ssl`` keys: plain MQTT, then TLS with the test's CA. The SAS algorithm
itself is checked against a vector computed outside Python (``openssl dgst -sha256 -mac HMAC``).
"""

import base64
import hashlib
import hmac
import json
import urllib.parse

import pytest

from integrations.tests.brokers import Certificates, wait_until
from integrations.tests.conftest import make_broker  # noqa: F401  (broker factory fixture)
from integrations.tests.mqtt_clouds import AuthSubscriber, acl, passwords
from rulechains import engine, nodes
from rulechains.models import RuleNode
from rulechains.nodes import azure
from rulechains.nodes.base import ConfigError
from rulechains.tests.helpers import chain_json, events_of, install_root, make_node, msg, node, run_node
from tbproject.testing.factories import make_device

AZURE = "org.thingsboard.rule.engine.mqtt.azure.TbAzureIotHubNode"
DEVICE, KEY = "pump-1", base64.b64encode(b"device-primary-key-0123456789abc").decode()
EXPIRY = 2_000_000_000
USERNAME = f"127.0.0.1/{DEVICE}/?api-version=2018-06-30"


def expected_token(host: str, key: str = KEY) -> str:
    """ThingsBoard's token as Microsoft documents the algorithm, computed here independently."""
    resource = urllib.parse.quote(host, safe="")
    signature = hmac.new(base64.b64decode(key), f"{resource}\n{EXPIRY}".encode(), hashlib.sha256).digest()
    sig = urllib.parse.quote(base64.b64encode(signature).decode(), safe="")
    return f"SharedAccessSignature sr={resource}&sig={sig}&se={EXPIRY}"


def test_the_sas_token_matches_a_vector_computed_with_openssl():
    key = "c2VjcmV0LWtleS1mb3ItdGVzdHM="  # base64 of "secret-key-for-tests"
    # printf 'myhub.azure-devices.net%2Fdevices%2Fpump-1\n1700000000' | openssl dgst -sha256 -mac HMAC
    #   -macopt hexkey:$(printf secret-key-for-tests | xxd -p) -binary | base64
    assert azure.sas_token("myhub.azure-devices.net/devices/pump-1", key, 1700000000) == (
        "SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fpump-1"
        "&sig=C5n7TxjBjMy8S7yg6%2BE%2B%2F5EOP19G3IUF%2B%2BcXWbFzNXo%3D&se=1700000000")
    assert azure.sas_token("myhub.azure-devices.net", key, 1700000000) == (
        "SharedAccessSignature sr=myhub.azure-devices.net&sig=vEQiTwIw96jcVko4Y6yKW050sICbeNxNbyYlwAH4VHc%3D"
        "&se=1700000000")
    assert azure.username("myhub.azure-devices.net", "pump-1") == (
        "myhub.azure-devices.net/pump-1/?api-version=2018-06-30")


@pytest.fixture
def fixed_expiry(monkeypatch):
    monkeypatch.setattr(azure, "expiry", lambda: EXPIRY)


@pytest.fixture
def certs(tmp_path):
    return Certificates(tmp_path / "certs")


def hub_conf(tmp_path) -> str:
    return (f"allow_anonymous false\npassword_file {passwords(tmp_path, {USERNAME: expected_token('127.0.0.1')})}\n"
            f"acl_file {acl(tmp_path, {USERNAME: [f'devices/{DEVICE}/messages/#']})}")


@pytest.fixture
def hub(make_broker, tmp_path):  # noqa: F811
    """The hub's endpoint on plain MQTT (the test's override of ThingsBoard's 8883/TLS)."""
    return make_broker(hub_conf(tmp_path), name="hub").start()


@pytest.fixture
def tls_hub(make_broker, tmp_path, certs):  # noqa: F811
    d = certs.directory
    conf = f"cafile {d / 'ca.pem'}\ncertfile {d / 'server.pem'}\nkeyfile {d / 'server.key'}\n" + hub_conf(tmp_path)
    broker = make_broker(conf, name="tls-hub").start()
    broker.ca = certs.ca
    return broker


@pytest.fixture
def device(tenant):
    return make_device(tenant, "pump-1")


def configuration(broker, key=KEY, **extra) -> dict:
    """ThingsBoard's export of the node, pointed at ``broker`` through its own port/ssl keys."""
    return {"topicPattern": "devices/${deviceId}/messages/events/", "host": broker.host, "port": broker.port,
            "connectTimeoutSec": 5, "clientId": DEVICE, "appendClientIdSuffix": False, "retainedMessage": False,
            "cleanSession": True, "ssl": False, "parseToPlainText": False, "protocolVersion": "MQTT_3_1_1",
            "credentials": {"type": "sas", "sasKey": key, "caCert": None}, **extra}


def outs(chain):
    return [(e["relationType"], json.loads(e["data"]), json.loads(e["metadata"]), e.get("error"))
            for e in events_of(chain.nodes.get(index=1), "OUT")]


def test_the_node_publishes_as_the_device_with_its_sas_token(tenant, device, hub, fixed_expiry):
    chain = install_root(tenant, [node(nodes.SWITCH, "switch"), node(AZURE, "hub", True, **configuration(hub)),
                                  node(nodes.LOG, "failed")], [(0, 1, "Post telemetry"), (1, 2, "Failure")])
    with AuthSubscriber(hub, "devices/+/messages/events/#") as subscriber:
        engine.process([msg(tenant, device, data={"temperature": 20 + i}, metadata={"deviceId": DEVICE})
                        for i in range(3)])
        wait_until(lambda: len(subscriber.received) >= 3, message="three device-to-cloud events")
    assert {topic for topic, _ in subscriber.received} == {f"devices/{DEVICE}/messages/events/"}
    assert sorted(json.loads(payload)["temperature"] for _, payload in subscriber.received) == [20, 21, 22]
    assert sorted(((r, d, m) for r, d, m, _ in outs(chain)), key=lambda o: o[1]["temperature"]) == [
        ("Success", {"temperature": 20 + i}, {"deviceId": DEVICE}) for i in range(3)]  # unchanged
    # MQTT 3.1.1 (Mosquitto logs it as p2), the device id as client id, the hub's user name scheme
    assert f"as {DEVICE} (p2, c1, k60, u'{USERNAME}')" in hub.log()


def test_the_node_checks_the_hub_against_the_ca_over_tls(tenant, device, tls_hub, fixed_expiry):
    [[out]] = run_node(tenant, AZURE, [msg(tenant, device)], **configuration(
        tls_hub, ssl=True, credentials={"type": "sas", "sasKey": KEY, "caCert": tls_hub.ca}))
    assert out.relation == "Success", out.error
    [[out]] = run_node(tenant, AZURE, [msg(tenant, device)], **configuration(tls_hub, ssl=True))  # system CAs
    assert out.relation == "Failure" and "CERTIFICATE_VERIFY_FAILED" in out.error


def test_a_wrong_key_fails_the_batch_with_the_hubs_refusal(tenant, device, hub, fixed_expiry):
    other_key = base64.b64encode(b"another-device-key").decode()
    outs_ = run_node(tenant, AZURE, [msg(tenant, device), msg(tenant, device)], **configuration(hub, key=other_key))
    assert [o.relation for [o] in outs_] == ["Failure", "Failure"]
    [[first], _] = outs_
    assert f"Azure IoT Hub 127.0.0.1:{hub.port} refused or did not answer device 'pump-1'" in first.error
    assert "not authorised" in first.error and first.msg.metadata["error"] == first.error
    assert other_key not in first.error


def test_missing_device_id_or_key_fails_the_messages_saying_what_to_set(tenant, device, hub):
    [[out]] = run_node(tenant, AZURE, [msg(tenant, device)], **configuration(hub, clientId=None))
    assert out.relation == "Failure" and "clientId (the Device ID) is not set" in out.error
    [[out]] = run_node(tenant, AZURE, [msg(tenant, device)], **configuration(hub, credentials={"type": "sas"}))
    assert out.relation == "Failure" and "credentials.sasKey is not set" in out.error


def test_the_node_refuses_configurations_it_cannot_run(tenant):
    cls = nodes.get_node(AZURE)
    assert cls.defaults["host"] == "<iot-hub-name>.azure-devices.net" and cls.defaults["port"] == 8883
    assert cls.defaults["credentials"] == {"type": "sas", "sasKey": None, "caCert": None}
    cls.check(dict(cls.defaults))  # ThingsBoard's defaults save; they run once the device is filled in
    for change, problem in [({"topicPattern": ""}, "topicPattern"), ({"host": " "}, "host"),
                            ({"port": 0}, "port"), ({"connectTimeoutSec": "ten"}, "connectTimeoutSec"),
                            ({"credentials": {"type": "basic"}}, "credentials must be"),
                            ({"credentials": {"type": "sas", "sasKey": "not base64!"}}, "credentials.sasKey")]:
        with pytest.raises(ConfigError, match=problem):
            make_node(tenant, AZURE, **{**cls.defaults, **change})


def test_an_export_with_the_node_imports_and_keeps_the_key_write_only(api, mallory_api):
    hub_node = node(AZURE, "hub", **{**nodes.get_node(AZURE).defaults, "clientId": DEVICE,
                                     "credentials": {"type": "sas", "sasKey": KEY, "caCert": None}})
    res = api.post("/api/ruleChain/import", chain_json("Azure", [hub_node], []), format="json")
    assert res.status_code == 200, res.content
    chain_id = res.json()["ruleChain"]["id"]["id"]
    body = api.get(f"/api/ruleChain/{chain_id}/metadata").content.decode()
    assert KEY not in body and "******" in body
    assert mallory_api.get(f"/api/ruleChain/{chain_id}/metadata").status_code == 404
    saved = api.post("/api/ruleChain/metadata", api.get(f"/api/ruleChain/{chain_id}/metadata").json(), format="json")
    assert saved.status_code == 200, saved.content
    assert RuleNode.objects.get(rule_chain_id=chain_id).configuration["credentials"]["sasKey"] == KEY
