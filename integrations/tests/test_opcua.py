"""The OPC-UA integration against a real asyncua server started by the test (opcua_server.py):
device discovery by FQN and ID patterns, tag subscriptions and the uplink payload and metadata,
rescans, node writes and method calls, identities, check(), and the whole path to telemetry.

The sink stands in for the pipeline's queue except in the last test, which runs the host.
"""

import asyncio
import contextlib
import json
from types import SimpleNamespace

import pytest

from integrations.listeners.opcua import OpcUaListener, probe
from integrations.messages import Downlink
from integrations.tests.brokers import RecordingSink, free_port, wait_until
from integrations.tests.opcua_server import PASSWORD, USER, OpcServer, certificate
from integrations.types.base import ConfigError, IntegrationError
from integrations.types.opcua import OpcUaConfig, OpcUaIntegration


@pytest.fixture(scope="module")
def server():
    instance = OpcServer().start()
    yield instance
    instance.stop()


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 45))


@contextlib.asynccontextmanager
async def listening(configuration: dict, sink: RecordingSink, *, connect: bool = True):
    listener = OpcUaListener(OpcUaConfig.model_validate(configuration), sink,
                             metadata={"integrationName": "opc-test", "site": "north"}, integration_id="i-1")
    await listener.start()
    try:
        if connect:
            await asyncio.wait_for(listener.connected.wait(), 10)
        yield listener
    finally:
        await listener.stop()


async def until(predicate, timeout: float = 10.0, message: str = "condition"):
    for _ in range(int(timeout / 0.02)):
        value = predicate()
        if value:
            return value
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {message}")


def payloads(sink, name: str) -> list[dict]:
    return [json.loads(u.payload) for u in sink.uplinks if u.metadata["opcUaNode_name"] == name]


def merged(sink, name: str) -> dict:
    out = {}
    for payload in payloads(sink, name):
        out.update(payload)
    return out


def test_it_subscribes_the_tags_of_matched_devices_and_sends_changes_with_node_metadata(server):
    sink = RecordingSink()

    async def scenario():
        async with listening(server.config(), sink) as listener:
            await until(lambda: merged(sink, "Pump_1").keys() >= {"temperature", "running", "speed"},
                        message="the first values")
            await asyncio.to_thread(server.set, "ns=2;s=Pump_1.Temperature", 21.25)
            await until(lambda: payloads(sink, "Pump_1")[-1] == {"temperature": "21.25"}, message="the change")
            return set(listener.devices)

    devices = run(scenario())
    assert f"ns={server.idx};s=Pump_1" in devices  # other tests add pumps to the shared server
    first = next(u for u in sink.uplinks if u.metadata["opcUaNode_name"] == "Pump_1")
    assert json.loads(first.payload) == {"temperature": "20.5", "running": "false", "speed": "0"}  # grouped
    assert first.content_type == "JSON" and first.integration_id == "i-1"
    assert first.metadata == {"integrationName": "opc-test", "site": "north", "opcUaNode_name": "Pump_1",
                              "opcUaNode_namespaceIndex": str(server.idx), "opcUaNode_identifier": "Pump_1",
                              "opcUaNode_fqn": "Objects.Plant.Pump_1"}
    assert {"connected": True, "error": ""} in sink.reports


def test_a_device_node_that_appears_later_is_picked_up_by_the_rescan(server):
    sink = RecordingSink()

    async def scenario():
        async with listening(server.config(), sink) as listener:
            await until(lambda: payloads(sink, "Pump_1"), message="Pump_1")
            await asyncio.to_thread(server.add_pump, 7)
            await until(lambda: payloads(sink, "Pump_7"), message="Pump_7 after a rescan")
            await asyncio.to_thread(server.set, "ns=2;s=Pump_7.Motor.Speed", 1450)
            await until(lambda: {"speed": "1450"} in payloads(sink, "Pump_7"), message="Pump_7's change")
            return set(listener.devices)

    devices = run(scenario())
    assert f"ns={server.idx};s=Pump_7" in devices
    assert [u.metadata["opcUaNode_fqn"] for u in sink.uplinks if u.metadata["opcUaNode_name"] == "Pump_7"][0] == \
        "Objects.Plant.Pump_7"


def test_id_mapping_namespace_and_required_tags_decide_which_nodes_are_devices(server):
    by_id, by_namespace, lacking = RecordingSink(), RecordingSink(), RecordingSink()
    wrong_namespace = server.mapping(r"s=Pump_1$", "ID", namespace=server.idx + 5)
    needs_missing = server.mapping(tags=[{"key": "pressure", "path": "Pressure", "required": True},
                                         {"key": "temperature", "path": "Temperature"}])

    async def scenario():
        async with listening(server.config(server.mapping(r"s=Pump_1$", "ID")), by_id) as listener:
            await until(lambda: by_id.uplinks, message="the ID-mapped device")
            ids = set(listener.devices)
        async with listening(server.config(wrong_namespace), by_namespace) as other:
            await asyncio.sleep(0.5)
            assert other.devices == {}
        async with listening(server.config(needs_missing), lacking) as third:
            await asyncio.sleep(0.5)
            assert third.devices == {}
        return ids

    assert run(scenario()) == {f"ns={server.idx};s=Pump_1"}
    assert by_namespace.uplinks == [] and lacking.uplinks == []


def test_downlinks_write_nodes_and_call_methods_through_the_type(server):
    """The encoder's output as ThingsBoard documents it, sent through OpcUaIntegration.downlink."""
    row = SimpleNamespace(pk="i-9", name="OPC downlinks", configuration=server.config())
    integration = OpcUaIntegration(row)
    data = {"writeValues": [{"nodeId": f"ns={server.idx};s=Pump_1.SetPoint", "value": "55"},
                            {"nodeId": f"ns={server.idx};s=Pump_1.Running", "value": True}],
            "callMethods": [{"objectId": f"ns={server.idx};s=Pump_1", "methodId": f"ns={server.idx};s=Pump_1.Stop",
                             "args": ["3"]}]}
    bad = {"writeValues": [{"nodeId": f"ns={server.idx};s=Nope", "value": 1}, {"nodeId": "garbage", "value": 1}]}

    async def scenario():
        sink = RecordingSink()
        await integration.start(sink)
        try:
            await asyncio.wait_for(integration._connection.connected.wait(), 10)
            await integration.downlink(Downlink("i-9", "Pump_1", json.dumps(data).encode(), "JSON"))
            with pytest.raises(IntegrationError) as refused:
                await integration.downlink(Downlink("i-9", "Pump_1", json.dumps(bad).encode(), "JSON"))
            with pytest.raises(IntegrationError) as not_json:
                await integration.downlink(Downlink("i-9", "Pump_1", b"switch on", "TEXT"))
        finally:
            await integration.stop()
        return refused.value, not_json.value

    refused, not_json = run(scenario())
    assert server.get("ns=2;s=Pump_1.SetPoint") == 55 and server.get("ns=2;s=Pump_1.Running") is True
    assert ("Pump_1", 3) in server.calls
    assert refused.permanent  # retrying cannot make an unknown node known
    assert f"write ns={server.idx};s=Nope: " in refused.message and "BadNodeIdUnknown" in refused.message
    assert "write garbage: 'garbage' is not a NodeId" in refused.message
    assert not_json.permanent and "must be a JSON object" in not_json.message


def test_a_downlink_while_disconnected_says_so():
    port = free_port()
    row = SimpleNamespace(pk="i-8", name="offline", configuration={
        "clientConfiguration": {"host": "127.0.0.1", "port": port, "mapping": [{"deviceNodePattern": "x"}]}})
    integration = OpcUaIntegration(row)

    async def scenario():
        await integration.start(RecordingSink())
        try:
            with pytest.raises(IntegrationError) as refused:
                await integration.downlink(Downlink("i-8", "d", b'{"writeValues": []}', "JSON"))
        finally:
            await integration.stop()
        return refused.value

    assert run(scenario()).message == f"OPC-UA server at opc.tcp://127.0.0.1:{port} is not connected"


def test_it_reconnects_and_resubscribes_after_the_server_restarts():
    first = OpcServer().start()
    sink = RecordingSink()

    async def scenario():
        async with listening(first.config(), sink) as listener:
            await until(lambda: payloads(sink, "Pump_1"), message="the first uplink")
            await asyncio.to_thread(first.stop)
            await until(lambda: not listener.connected.is_set(), message="the loss of the connection")
            second = await asyncio.to_thread(lambda: OpcServer(port=first.port).start())
            try:
                await asyncio.wait_for(listener.connected.wait(), 20)
                await asyncio.to_thread(second.set, "ns=2;s=Pump_1.Temperature", 99.5)
                await until(lambda: any(p.get("temperature") == "99.5" for p in payloads(sink, "Pump_1")),
                            message="the new value")
            finally:
                await asyncio.to_thread(second.stop)

    run(scenario())
    lost = [r for r in sink.reports if r.get("connected") is False]
    assert lost and lost[0]["error"] == f"Connection to OPC-UA server at {first.url} lost"
    assert {"connected": True, "error": ""} in sink.reports[sink.reports.index(lost[0]):]  # reconnected


def test_username_identity_connects_and_wrong_credentials_are_an_error_status(server):
    good, bad = RecordingSink(), RecordingSink()
    identity = {"type": "username", "username": USER, "password": PASSWORD}
    wrong = {"type": "username", "username": USER, "password": "guess"}

    async def scenario():
        async with listening(server.config(identity=identity), good):
            await until(lambda: good.uplinks, message="uplinks as op")
        async with listening(server.config(identity=wrong), bad, connect=False):
            await until(lambda: bad.reports, message="the failed connection")
        with pytest.raises(IntegrationError) as refused:
            await probe(OpcUaConfig.model_validate(server.config(identity=wrong)))
        return refused.value

    refused = run(scenario())
    assert bad.uplinks == []
    expected = f"Failed to connect to OPC-UA server at opc.tcp://127.0.0.1:{server.port}: "
    assert bad.reports[0]["connected"] is False
    assert bad.reports[0]["error"].startswith(expected) and "BadUserAccessDenied" in bad.reports[0]["error"]
    assert refused.permanent and refused.message == bad.reports[0]["error"]


def test_check_against_a_dead_port_fails_with_the_address():
    port = free_port()
    configuration = {"clientConfiguration": {"host": "127.0.0.1", "port": port, "timeoutInMillis": 1000,
                                             "mapping": [{"deviceNodePattern": "Pump"}]}}
    row = SimpleNamespace(pk="i-7", name="dead", configuration=configuration)
    with pytest.raises(IntegrationError) as refused:
        OpcUaIntegration(row).check()
    assert refused.value.message.startswith(f"Failed to connect to OPC-UA server at opc.tcp://127.0.0.1:{port}: ")
    assert not refused.value.permanent


def test_check_passes_against_the_server_and_refuses_an_unusable_keystore(server):
    OpcUaIntegration(SimpleNamespace(pk="i-6", name="ok", configuration=server.config())).check()
    jks = server.config(security="Basic256Sha256", keystore={"type": "JKS", "fileContent": "AAAA"})
    with pytest.raises(IntegrationError, match="Keystore type JKS is not supported"):
        OpcUaIntegration(SimpleNamespace(pk="i-6", name="jks", configuration=jks)).check()
    missing = server.config(security="Basic256")
    with pytest.raises(IntegrationError, match=r"Security Basic256 needs a keystore"):
        OpcUaIntegration(SimpleNamespace(pk="i-6", name="none", configuration=missing)).check()


def test_basic256sha256_with_a_pkcs12_keystore():
    """SignAndEncrypt with the client certificate and key from ThingsBoard's keystore (PKCS12, base64)."""
    import base64

    from asyncua import ua
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    server_cert, server_key = certificate("urn:tbproject:test-server")
    secure = OpcServer(policies=[ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt], certificate=server_cert,
                       private_key=server_key).start()
    try:
        client_cert, client_key = certificate("urn:tbproject:test-client")
        store = pkcs12.serialize_key_and_certificates(
            b"tb", serialization.load_der_private_key(client_key, None), x509.load_der_x509_certificate(client_cert),
            None, serialization.BestAvailableEncryption(b"changeit"))
        keystore = {"type": "PKCS12", "fileContent": base64.b64encode(store).decode(), "password": "changeit"}
        sink = RecordingSink()

        async def scenario():
            async with listening(secure.config(security="Basic256Sha256", keystore=keystore), sink):
                await until(lambda: sink.uplinks, message="an uplink over the secure channel")
            with pytest.raises(IntegrationError) as plain:
                await probe(OpcUaConfig.model_validate(secure.config()))
            with pytest.raises(IntegrationError) as wrong_password:
                await probe(OpcUaConfig.model_validate(
                    secure.config(security="Basic256Sha256", keystore={**keystore, "password": "nope"})))
            return plain.value, wrong_password.value

        plain, wrong_password = run(scenario())
    finally:
        secure.stop()
    assert json.loads(sink.uplinks[0].payload)["temperature"] == "20.5"
    assert plain.permanent and plain.message == (
        f"Failed to connect to OPC-UA server at {secure.url}: the server offers no endpoint with security None "
        "(SignAndEncrypt where not None)")
    assert wrong_password.permanent and "Cannot read the PKCS12 keystore" in wrong_password.message


def test_the_configuration_is_validated_and_secrets_are_masked(server):
    with pytest.raises(ConfigError, match=r"configuration.clientConfiguration.mapping.0.deviceNodePattern: "
                                          r"Value error, not a valid regular expression"):
        OpcUaIntegration.validate(server.config(server.mapping("Pump_(")))
    with pytest.raises(ConfigError, match="configuration.clientConfiguration.mapping"):
        OpcUaIntegration.validate(server.config(mapping=None) | {"clientConfiguration": {"host": "h", "mapping": []}})
    with pytest.raises(ConfigError, match="configuration.clientConfiguration.mapping.0.mappingType"):
        OpcUaIntegration.validate(server.config(server.mapping(mapping_type="NAME")))
    configuration = server.config(identity={"type": "username", "username": "u", "password": "p"},
                                  keystore={"type": "PKCS12", "fileContent": "QUJD", "password": "k"})
    masked = OpcUaIntegration.masked(configuration)["clientConfiguration"]
    assert masked["identity"]["password"] == "******" and masked["keystore"]["password"] == "******"
    assert masked["keystore"]["fileContent"] == "******" and masked["identity"]["username"] == "u"
    parsed = OpcUaConfig.model_validate(server.config(server.mapping(namespace="")))
    assert parsed.clientConfiguration.mapping[0].namespace is None


# --- through the listener host and the pipeline ----------------------------------------------------

DECODER = """
var data = JSON.parse(String.fromCharCode.apply(null, payload));
var telemetry = {};
if (data.temperature !== undefined) telemetry.temperature = Number(data.temperature);
return {deviceName: metadata.opcUaNode_name, deviceType: 'pump', telemetry: telemetry,
        attributes: {fqn: metadata.opcUaNode_fqn}};
"""


@pytest.mark.django_db(transaction=True)
def test_tag_changes_become_stored_telemetry_through_the_host(server, transactional_db):
    from devices.models import Device
    from devices.telemetry import latest
    from integrations.models import Integration
    from integrations.runner import Runner, RunnerThread
    from integrations.tests.factories import make_integration, make_uplink_converter
    from integrations.tests.test_rabbitmq import _delete_telemetry
    from tbproject.celery import app as celery_app
    from tenants.models import Tenant

    tenant = Tenant.objects.create(title="OPC Co")
    converter = make_uplink_converter(tenant, "pump decoder", decoder=DECODER)
    mapping = server.mapping(r"^Objects\.Plant\.Pump_3$")
    server.add_pump(3)
    integration = make_integration(tenant, "OPC in", kind="OPC_UA", converter=converter,
                                   configuration=server.config(mapping))
    eager, celery_app.conf.task_always_eager = celery_app.conf.task_always_eager, True
    host = RunnerThread(Runner(lease_seconds=3, poll_seconds=0.3)).start()
    try:
        wait_until(lambda: Integration.objects.filter(pk=integration.pk, connected=True).exists(),
                   message="the integration to connect")
        device = wait_until(lambda: Device.objects.filter(tenant=tenant, name="Pump_3").first(), message="the device")
        server.set("ns=2;s=Pump_3.Temperature", 64.5)
        wait_until(lambda: latest(device.pk, ["temperature"]).get("temperature", (0, None))[1] == 64.5,
                   message="the new temperature")
    finally:
        host.stop()
        celery_app.conf.task_always_eager = eager
        _delete_telemetry(tenant)
