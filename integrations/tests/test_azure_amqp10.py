"""AZURE_SERVICE_BUS and AZURE_EVENT_HUB over the generic AMQP 1.0 transport, against a real
AMQP 1.0 broker: the machine's RabbitMQ with rabbitmq_amqp1_0 (integrations/tests/amqp10_peer.py),
the connection string naming it as ``Endpoint=amqp://127.0.0.1:5672/``.

Consumption with metadata, acceptance only after queueing, release on stop (nothing lost), the
broker dropping the connection (reconnect, nothing lost), a wrong key (clear permanent error),
downlinks read back (Service Bus topic, IoT Hub cloud-to-device shape), and the whole path from
``POST /api/integration`` through the listener host to stored telemetry.
"""

import asyncio
import json
import subprocess
import sys

import proton
import pytest

from integrations.listeners.azure import EventHubListener, ServiceBusListener, probe_event_hub, probe_service_bus
from integrations.messages import Downlink
from integrations.tests.amqp10_peer import peer, proxy  # noqa: F401 (fixtures)
from integrations.tests.brokers import RecordingSink, running, wait_until
from integrations.tests.processes import ROOT
from integrations.types.azure_event_hub import EventHubConfig
from integrations.types.azure_service_bus import ServiceBusConfig
from integrations.types.base import IntegrationError


def run(coroutine, timeout: float = 60):
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


def bus_config(peer, topic: str, **client) -> dict:  # noqa: F811
    return {"clientConfiguration": {"connectionString": peer.connection_string(), "topicName": f"/queue/{topic}",
                                    "subName": "", **client}}


def hub_config(peer, queue: str, *, port: int | None = None, **client) -> dict:  # noqa: F811
    cs = peer.connection_string(f"/queue/{queue}", **({"port": port} if port else {}))
    return {"clientConfiguration": {"connectionString": cs,
                                    "consumerGroup": "$Default", "connectTimeoutSec": 5, **client}}


def listening(listener_class, config_class, configuration: dict, sink, *, stop_timeout: float = 5.0):
    return running(listener_class(config_class.model_validate(configuration), sink,
                                  metadata={"integrationName": "azure-test"}, integration_id="i-1"),
                   stop_timeout=stop_timeout)


def test_service_bus_hands_on_messages_with_metadata_and_accepts_them_once_queued(peer):  # noqa: F811
    topic = peer.queue()
    peer.send(topic, [proton.Message(body=b'{"t": 1}', id="m-1", correlation_id="c-1",
                                     content_type="application/json", subject="telemetry",
                                     properties={"deviceId": "meter-1", "n": 3}),
                      b"plain", bytes([0, 200])])
    sink = RecordingSink()

    async def scenario():
        async with listening(ServiceBusListener, ServiceBusConfig, bus_config(peer, topic), sink):
            await sink.wait_for(3)
            await asyncio.sleep(0.3)  # the acceptance reaches the broker

    run(scenario())
    assert peer.count(topic) == 0
    first = sink.uplinks[0]
    assert first.payload == b'{"t": 1}' and first.content_type == "JSON" and first.integration_id == "i-1"
    assert first.metadata == {"integrationName": "azure-test", "deviceId": "meter-1", "n": "3", "messageId": "m-1",
                              "correlationId": "c-1", "contentType": "application/json", "subject": "telemetry",
                              "topicName": f"/queue/{topic}"}
    assert [u.content_type for u in sink.uplinks[1:]] == ["TEXT", "BINARY"]
    assert {"connected": True, "error": ""} in sink.reports


def test_a_batch_not_queued_goes_back_to_the_broker_and_the_next_listener_gets_it(peer):  # noqa: F811
    topic = peer.queue()
    peer.send(topic, [b"precious-1", b"precious-2"])
    stuck, second = RecordingSink(), RecordingSink()

    async def scenario():
        stuck.block = asyncio.Event()  # the pipeline's queue never answers
        async with listening(ServiceBusListener, ServiceBusConfig, bus_config(peer, topic), stuck, stop_timeout=0.3):
            while not stuck.calls:
                await asyncio.sleep(0.02)
        async with listening(ServiceBusListener, ServiceBusConfig, bus_config(peer, topic), second):
            await second.wait_for(2)
            await asyncio.sleep(0.3)

    run(scenario())
    assert stuck.uplinks == [] and sorted(u.payload for u in second.uplinks) == [b"precious-1", b"precious-2"]
    assert peer.count(topic) == 0


def test_the_broker_dropping_the_connection_loses_nothing_and_the_listener_reconnects(peer, proxy):  # noqa: F811
    """The listener connects through a TCP relay, which then cuts the connection (what a broker
    restart does to a client): it reconnects, and what was sent meanwhile arrives."""
    queue = peer.queue()
    sink = RecordingSink()

    async def scenario():
        async with listening(EventHubListener, EventHubConfig, hub_config(peer, queue, port=proxy.port),
                             sink) as listener:
            await asyncio.to_thread(peer.send, queue, [b"before"])
            await sink.wait_for(1)
            assert proxy.drop() >= 1
            while listener.connected.is_set():
                await asyncio.sleep(0.05)
            await asyncio.to_thread(peer.send, queue, [b"while-away-1", b"while-away-2"])
            await asyncio.wait_for(listener.connected.wait(), 20)
            await sink.wait_for(3, timeout=15)
            await asyncio.sleep(0.3)

    run(scenario())
    # At least once: "before" is settled with the broker only after it was queued, so when the cut
    # comes between the two the broker hands it out again after the reconnect (once at most).
    payloads = [u.payload for u in sink.uplinks]
    assert [p for i, p in enumerate(payloads) if p not in payloads[:i]] == [b"before", b"while-away-1", b"while-away-2"]
    assert payloads.count(b"before") <= 2 and payloads.count(b"while-away-1") == payloads.count(b"while-away-2") == 1
    lost = [r for r in sink.reports if r.get("connected") is False]
    assert lost and "Azure Event Hub at 127.0.0.1" in lost[0]["error"]
    assert sink.reports[-1] == {"connected": True, "error": ""}
    assert peer.count(queue) == 0


def test_a_listener_killed_mid_stream_loses_nothing(peer, tmp_path):  # noqa: F811
    """The first listener runs in a process of its own and is SIGKILLed mid-stream: what it held
    unsettled goes back to the broker, and the next listener hands on the rest."""
    queue, total = peer.queue(), 300
    out, log = tmp_path / "killed.txt", tmp_path / "child.log"
    configuration = hub_config(peer, queue)
    peer.send(queue, [b"%d" % i for i in range(50)])  # the rest comes after the kill
    child = subprocess.Popen([sys.executable, "-m", "integrations.tests.listener_child",
                              "integrations.listeners.azure.EventHubListener",
                              "integrations.types.azure_event_hub.EventHubConfig", json.dumps(configuration), str(out)],
                             cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log.open("wb"))
    try:
        wait_until(lambda: out.exists() and len(out.read_bytes().split()) >= 20, 30,
                   message=f"the child's uplinks ({log})")
    finally:
        child.kill()  # SIGKILL: nothing settled after this, the connection just drops
        child.wait(5)
    killed = [int(line) for line in out.read_bytes().split()]
    peer.send(queue, [b"%d" % i for i in range(50, total)])
    sink = RecordingSink()

    async def scenario():
        async with listening(EventHubListener, EventHubConfig, configuration, sink):
            while len(set(killed) | {int(u.payload) for u in sink.uplinks}) < total:
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.3)

    run(scenario())
    seen = killed + [int(u.payload) for u in sink.uplinks]
    assert set(seen) == set(range(total))  # every message was handed on, by the child or after it
    assert peer.count(queue) == 0


def test_a_wrong_key_is_a_clear_permanent_error_in_check_and_status(peer):  # noqa: F811
    queue = peer.queue()
    wrong = hub_config(peer, queue)
    wrong["clientConfiguration"]["connectionString"] = peer.connection_string(f"/queue/{queue}", password="wrong")
    with pytest.raises(IntegrationError) as refused:
        run(probe_event_hub(EventHubConfig.model_validate(wrong)))
    assert refused.value.permanent
    assert refused.value.message.startswith("Failed to connect to Azure Event Hub at 127.0.0.1//queue/")
    assert "authentication refused" in refused.value.message
    run(probe_event_hub(EventHubConfig.model_validate(hub_config(peer, queue))))  # the right key passes
    bus = bus_config(peer, queue)
    bus["clientConfiguration"]["connectionString"] = peer.connection_string(password="wrong")
    with pytest.raises(IntegrationError, match="authentication refused"):
        run(probe_service_bus(ServiceBusConfig.model_validate(bus)))
    sink = RecordingSink()

    async def scenario():
        listener = EventHubListener(EventHubConfig.model_validate(wrong), sink, metadata={}, integration_id="i-1")
        await listener.start()
        while not sink.reports:
            await asyncio.sleep(0.05)
        await listener.stop()

    run(scenario())
    assert sink.reports[0]["connected"] is False and "authentication refused" in sink.reports[0]["error"]


def test_downlinks_go_to_the_service_bus_topic_and_as_iot_hub_cloud_to_device_messages(peer):  # noqa: F811
    uplinks, topic, hub = peer.queue(), peer.queue("tbdown"), peer.queue("tbhub")
    peer.send(topic, [])
    downlink = Downlink("i-1", "Sensor A1", b'{"on": true}', "JSON", metadata={"deviceId": "TB-D-01"})

    async def scenario():
        async with listening(ServiceBusListener, ServiceBusConfig, bus_config(
                peer, uplinks, downlinkTopicName=f"/queue/{topic}"), RecordingSink()) as listener:
            await listener.publish(downlink)
        async with listening(EventHubListener, EventHubConfig, hub_config(
                peer, uplinks, iotHubName=f"/queue/{hub}"), RecordingSink()) as listener:
            await listener.publish(downlink)
        with pytest.raises(IntegrationError, match="no iotHubName") as no_hub:
            async with listening(EventHubListener, EventHubConfig, hub_config(peer, uplinks),
                                 RecordingSink()) as listener:
                await listener.publish(downlink)
        return no_hub.value

    no_hub = run(scenario())
    [(bus_message, bus_body)] = peer.receive(topic, 1)
    assert bus_body == b'{"on": true}' and bus_message.content_type == "application/json"
    assert bus_message.properties == {"deviceId": "TB-D-01"}
    [(c2d, c2d_body)] = peer.receive(hub, 1)
    assert c2d_body == b'{"on": true}' and c2d.address == "/devices/TB-D-01/messages/devicebound" and c2d.id
    assert no_hub.permanent


def test_the_azure_sdks_against_a_broker_without_azures_security_fail_with_a_clear_error(peer):  # noqa: F811
    """The real SDKs (an ``sb://`` endpoint) reach the real broker, which cannot answer Azure's
    claims-based security ($cbs): the check says what failed instead of hanging or crashing."""
    cs = f"Endpoint=sb://127.0.0.1:5672/;SharedAccessKeyName={peer.user};SharedAccessKey={peer.password}"
    with pytest.raises(IntegrationError) as hub:
        run(probe_event_hub(EventHubConfig.model_validate({"clientConfiguration": {
            "connectionString": f"{cs};UseDevelopmentEmulator=true;EntityPath=hub", "connectTimeoutSec": 2}})))
    assert hub.value.message == "Failed to connect to Azure Event Hub at 127.0.0.1/hub: timed out"
    with pytest.raises(IntegrationError) as bus:
        run(probe_service_bus(ServiceBusConfig.model_validate({"clientConfiguration": {
            "connectionString": f"{cs};UseDevelopmentEmulator=true", "topicName": "t", "subName": "s"}})))
    assert bus.value.message == "Failed to receive from Azure Service Bus at 127.0.0.1/t/s: timed out"


@pytest.mark.django_db
def test_the_check_endpoint_answers_with_the_brokers_refusal(api, tenant, peer):  # noqa: F811
    from integrations.tests.factories import make_uplink_converter

    queue = peer.queue()
    peer.send(queue, [])
    wrong = bus_config(peer, queue)
    wrong["clientConfiguration"]["connectionString"] = peer.connection_string(password="wrong")
    body = {"name": "Bus", "type": "AZURE_SERVICE_BUS", "configuration": wrong,
            "defaultConverterId": {"entityType": "CONVERTER", "id": str(make_uplink_converter(tenant).pk)}}
    res = api.post("/api/integration/check", body, format="json")
    assert res.status_code == 400 and "authentication refused" in res.json()["message"]
    body["configuration"] = bus_config(peer, queue)
    assert api.post("/api/integration/check", body, format="json").status_code == 200


# --- through the API, the listener host and the pipeline -------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_integrations_posted_as_thingsboard_json_store_telemetry_send_downlinks_and_report_a_wrong_key(
        api, tenant, peer):  # noqa: F811
    from converters.models import DebugEvent
    from devices.models import Device
    from devices.telemetry import latest
    from integrations.models import Integration
    from integrations.runner import Runner, RunnerThread
    from integrations.tests.downlinks import attribute_downlink_chain, make_encoder, make_root
    from integrations.tests.test_rabbitmq import _delete_telemetry
    from integrations.tests.uplinks import converter
    from tbproject.celery import app as celery_app

    pytest.importorskip("rulechains.services", reason="the rule engine (rulechains) is not there yet")
    bus_topic, hub_queue, commands = peer.queue(), peer.queue(), peer.queue("tbdown")
    peer.send(commands, [])
    decoder = converter(tenant)
    # ThingsBoard's Service Bus downlink example: the message as JSON, the device in metadata.deviceId
    encoder = make_encoder(tenant, "return {contentType: 'JSON', data: JSON.stringify(msg), "
                                   "metadata: {deviceId: metadata.deviceName}};")
    bodies = {
        "bus": ("AZURE_SERVICE_BUS", {"connectionString": peer.connection_string(), "topicName": f"/queue/{bus_topic}",
                                      "subName": "", "downlinkConnectionString": "",
                                      "downlinkTopicName": f"/queue/{commands}"}),
        "hub": ("AZURE_EVENT_HUB", {"connectionString": peer.connection_string(f"/queue/{hub_queue}"),
                                    "consumerGroup": "$Default", "connectTimeoutSec": 5, "iotHubName": "",
                                    "enablePersistentCheckpoints": False}),
        "wrong": ("AZURE_SERVICE_BUS", {"connectionString": peer.connection_string(password="wrong"),
                                        "topicName": f"/queue/{bus_topic}", "subName": ""}),
    }
    ids = {}
    for label, (kind, client) in bodies.items():
        res = api.post("/api/integration", {
            "name": f"Azure {label}", "type": kind, "enabled": True, "debugSettings": {"failuresEnabled": True},
            "defaultConverterId": {"entityType": "CONVERTER", "id": str(decoder.pk)},
            "downlinkConverterId": {"entityType": "CONVERTER", "id": str(encoder.pk)},
            "configuration": {"clientConfiguration": client, "metadata": {}}}, format="json")
        assert res.status_code == 200, res.content
        assert res.json()["configuration"]["clientConfiguration"]["connectionString"] == "******"
        ids[label] = res.json()["id"]["id"]
    make_root(api, attribute_downlink_chain(ids["bus"]))
    eager, celery_app.conf.task_always_eager = celery_app.conf.task_always_eager, True
    host = RunnerThread(Runner(lease_seconds=3, poll_seconds=0.3)).start()
    try:
        for label in ("bus", "hub"):
            wait_until(lambda label=label: Integration.objects.filter(pk=ids[label], connected=True).exists(), 20,
                       message=f"the {label} integration to connect")
        peer.send(bus_topic, [json.dumps({"name": "bus-meter", "telemetry": {"t": 7.5}}).encode()])
        peer.send(hub_queue, [json.dumps({"name": "hub-meter", "telemetry": {"t": 8.5}}).encode()])
        for name, value in (("bus-meter", 7.5), ("hub-meter", 8.5)):
            device = wait_until(lambda name=name: Device.objects.filter(tenant=tenant, name=name).first(), 20,
                                message=f"the device {name}")
            stored = wait_until(lambda device=device: latest(device.pk, ["t"]), message="the telemetry")
            assert {key: v for key, (_, v) in stored.items()} == {"t": value}
        bus_device = Device.objects.get(tenant=tenant, name="bus-meter")
        res = api.post(f"/api/plugins/telemetry/DEVICE/{bus_device.pk}/attributes/SHARED_SCOPE", {"on": True},
                       format="json")
        assert res.status_code == 200, res.content
        wait_until(lambda: peer.count(commands) == 1, 20, message="the downlink in the topic")
        [(command, body)] = peer.receive(commands, 1)
        assert json.loads(body) == {"on": True} and command.properties == {"deviceId": "bus-meter"}
        wrong = wait_until(lambda: Integration.objects.filter(pk=ids["wrong"]).exclude(last_error="").first(), 20,
                           message="the wrong key's error")
        assert "authentication refused" in wrong.last_error and not wrong.connected
        error = wait_until(lambda: DebugEvent.objects.filter(entity_id=ids["wrong"], event_type="ERROR").first(),
                           message="the ERROR event")
        assert error.body["method"] == "connect" and error.body["error"] == wrong.last_error
        started = DebugEvent.objects.filter(entity_id=ids["bus"], event_type="LC_EVENT").first()
        assert started is not None
    finally:
        host.stop()
        celery_app.conf.task_always_eager = eager
        _delete_telemetry(tenant)
