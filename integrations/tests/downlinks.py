"""Helpers of the downlink tests: encoders, integrations with a downlink converter, messages."""

import asyncio
import threading
import uuid

from converters.models import Converter
from integrations.handoff import RuleEngineMsg
from integrations.tests.factories import make_integration

__all__ = ["TOPIC_ENCODER", "JSON_ENCODER", "make_encoder", "with_downlink", "attributes_msg", "Subscriber",
           "attribute_downlink_chain", "make_root"]

#: ThingsBoard's MQTT downlink example: the topic comes from the metadata the rule chain added
TOPIC_ENCODER = """
var data = {version: msg.firmware};
return {contentType: 'JSON', data: JSON.stringify(data),
        metadata: {topic: metadata.deviceType + '/' + metadata.deviceName + '/upload'}};
"""
JSON_ENCODER = "return {contentType: 'JSON', data: JSON.stringify(msg), metadata: {topic: 'x/' + metadata.deviceName}};"


def make_encoder(tenant, script: str = JSON_ENCODER, name: str | None = None, **extra) -> Converter:
    return Converter.objects.create(tenant=tenant, name=name or f"encoder-{uuid.uuid4().hex[:6]}", type="DOWNLINK",
                                    configuration={"scriptLang": "JS", "encoder": script}, **extra)


def with_downlink(tenant, script: str = JSON_ENCODER, *, name: str = "I", kind: str = "HTTP", **extra):
    return make_integration(tenant, name, kind=kind, downlink_converter=make_encoder(tenant, script), **extra)


def attributes_msg(tenant, device_name: str = "dev-1", data=None, *, device_type: str = "thermostat",
                   originator_id=None, msg_type: str = "ATTRIBUTES_UPDATED", **metadata) -> RuleEngineMsg:
    meta = {"deviceName": device_name, "deviceType": device_type, "scope": "SHARED_SCOPE", **metadata}
    if device_name is None:
        meta.pop("deviceName")
    return RuleEngineMsg(msg_type, tenant.pk, "DEVICE", originator_id or uuid.uuid4(),
                         data if data is not None else {"firmware": "1.2"}, meta)


_TB = "org.thingsboard.rule.engine."


def attribute_downlink_chain(integration_id: str) -> dict:
    """A rule chain as ThingsBoard exports it: a changed attribute goes, with the device's name in
    the metadata (``deviceName``), to the integration downlink node; telemetry is saved."""
    node = lambda kind, name, configuration: {"type": _TB + kind, "name": name, "debugMode": False,  # noqa: E731
                                              "configuration": configuration, "additionalInfo": {}}
    return {"ruleChain": {"name": "Attribute downlink", "root": False, "debugMode": False, "configuration": None},
            "metadata": {"firstNodeIndex": 0, "ruleChainConnections": None, "nodes": [
                node("filter.TbMsgTypeSwitchNode", "Message Type Switch", {"version": 0}),
                node("metadata.TbGetOriginatorFieldsNode", "Get Device Name",
                     {"fieldsMapping": {"name": "deviceName"}}),
                node("integration.TbIntegrationDownlinkNode", "Push to the integration",
                     {"integrationId": str(integration_id)}),
                node("telemetry.TbMsgTimeseriesNode", "Save Timeseries", {"defaultTTL": 0})],
                "connections": [{"fromIndex": 0, "toIndex": 1, "type": "Attributes Updated"},
                                {"fromIndex": 1, "toIndex": 2, "type": "Success"},
                                {"fromIndex": 0, "toIndex": 3, "type": "Post telemetry"}]}}


def make_root(api, chain: dict) -> None:
    """Import ``chain`` through the API and make it the tenant's root chain."""
    res = api.post("/api/ruleChain/import", chain, format="json")
    assert res.status_code == 200, res.content
    assert api.post(f"/api/ruleChain/{res.json()['ruleChain']['id']['id']}/root").status_code == 200


class Subscriber:
    """A gmqtt subscriber in its own thread and loop, recording ``(topic, payload)`` of what it gets."""

    def __init__(self, broker, topic_filter: str):
        self.broker, self.topic_filter = broker, topic_filter
        self.received: list[tuple[str, bytes]] = []
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    def __enter__(self) -> "Subscriber":
        self._thread.start()
        assert self._ready.wait(10), "the subscriber did not connect"
        return self

    def __exit__(self, *exc) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    async def _main(self) -> None:
        from gmqtt import Client

        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        client = Client(f"sub-{uuid.uuid4().hex[:8]}")
        subscribed = asyncio.Event()
        client.on_message = lambda c, topic, payload, qos, props: self.received.append((topic, payload)) or 0
        client.on_subscribe = lambda *args: subscribed.set()
        await client.connect(self.broker.host, self.broker.port, version=4)
        client.subscribe(self.topic_filter, qos=1)
        await asyncio.wait_for(subscribed.wait(), 10)
        self._ready.set()
        await self._stop.wait()
        await client.disconnect()
