"""The server side of remote integrations (integrations/remote/): the websocket a remote runner
keeps open, driven in-process through Channels' WebsocketCommunicator with the frames of
integrations/remote/protocol.py. The end-to-end run with real processes is test_remote_e2e.py."""

import base64
import json
import logging

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from converters.choices import EventType
from converters.models import DebugEvent
from devices.models import Device
from integrations.models import Integration, IntegrationStats, RemoteStatus
from integrations.remote import protocol, service
from integrations.tests.factories import make_integration
from integrations.tests.uplinks import values

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "remote-secret-123"
TCP = {"clientConfiguration": {"port": 10560, "handlerConfiguration": {"handlerType": "TEXT"}}}


@pytest.fixture(autouse=True)
def _fresh_refusals(settings):
    settings.REMOTE_POLL_SECONDS = 0.2
    service._last_refusal.clear()


@pytest.fixture
def remote_integration(tenant):
    return make_integration(tenant, "Remote TCP", kind="TCP", remote=True, secret=SECRET, configuration=TCP)


def socket(key: str, secret: str) -> WebsocketCommunicator:
    from tbproject.asgi import application

    headers = [(protocol.KEY_HEADER.lower().encode(), key.encode()),
               (protocol.SECRET_HEADER.lower().encode(), secret.encode())]
    return WebsocketCommunicator(application, protocol.PATH, headers=headers)


def hello(outbox_id: str = "outbox-1", dropped: int = 0) -> str:
    return protocol.frame("hello", version="9.9", host="plant-gw", outboxId=outbox_id, outboxDepth=0, dropped=dropped)


def batch(seq: int, *bodies: dict) -> str:
    items = [[base64.b64encode(json.dumps(b).encode()).decode(), {"remoteAddress": "10.0.0.7"}, 1_700_000_000_000,
              "JSON"] for b in bodies]
    return protocol.frame("uplinks", seq=seq, uplinks=items)


async def receive(ws: WebsocketCommunicator) -> dict:
    return json.loads(await ws.receive_from(10))


async def opened(integration, outbox_id: str = "outbox-1", dropped: int = 0) -> tuple[WebsocketCommunicator, dict]:
    ws = socket(integration.routing_key, SECRET)
    connected, _ = await ws.connect(10)
    assert connected
    await ws.send_to(hello(outbox_id, dropped))
    return ws, await receive(ws)


def lifecycle_events(integration, event: str) -> list:
    return list(DebugEvent.objects.filter(entity_id=integration.pk, event_type=EventType.LC_EVENT, body__event=event))


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.INFO)
        self.lines = []

    def emit(self, record):
        self.lines.append(self.format(record))


def test_it_refuses_a_wrong_secret_at_the_handshake_logged_without_the_secret(remote_integration):
    async def scenario():
        for secret in ("not-the-secret", "again-wrong", ""):
            connected, _ = await socket(remote_integration.routing_key, secret).connect(10)
            assert not connected  # closed before accept: the handshake is answered 403
        assert not (await socket("no-such-key", SECRET).connect(10))[0]

    # on the logger itself: importing tbproject.asgi the first time reconfigures the root's handlers
    records, logger = _Records(), logging.getLogger("integrations.remote")
    logger.addHandler(records)
    try:
        async_to_sync(scenario)()
    finally:
        logger.removeHandler(records)
    logged = "\n".join(records.lines)
    refused = lifecycle_events(remote_integration, "FAILED")
    assert len(refused) == 1  # one event a minute, however often a remote retries
    assert refused[0].body["status"] == "Failure" and "wrong integration secret" in refused[0].body["error"]
    assert "unknown integration key" in logged and "wrong integration secret" in logged
    for secret in (SECRET, "not-the-secret", "again-wrong"):
        assert secret not in logged and secret not in json.dumps(refused[0].body)
    assert not RemoteStatus.objects.filter(pk=remote_integration.pk).exists()


def test_it_refuses_an_integration_that_does_not_run_remotely_or_has_no_secret(tenant):
    local = make_integration(tenant, "Local", kind="TCP", remote=False, secret=SECRET, configuration=TCP)
    no_secret = make_integration(tenant, "No secret", kind="TCP", remote=True, secret="", configuration=TCP)

    async def scenario():
        assert not (await socket(local.routing_key, SECRET).connect(10))[0]
        assert not (await socket(no_secret.routing_key, "").connect(10))[0]

    async_to_sync(scenario)()
    assert "not set to execute remotely" in lifecycle_events(local, "FAILED")[0].body["error"]
    assert "has no secret" in lifecycle_events(no_secret, "FAILED")[0].body["error"]


def test_it_sends_the_configuration_and_queues_a_resent_batch_once(remote_integration, tenant):
    async def scenario():
        ws, config = await opened(remote_integration)
        assert config["type"] == "config" and config["ackedSeq"] == 0
        assert config["integration"]["configuration"] == TCP and config["integration"]["type"] == "TCP"
        assert config["integration"]["id"] == str(remote_integration.pk) and config["integration"]["enabled"]
        await ws.send_to(batch(1, {"id": "gw-meter", "t": 1}, {"id": "gw-meter", "t": 2}))
        assert await receive(ws) == {"type": "ack", "seq": 1, "duplicate": False}
        await ws.send_to(batch(1, {"id": "gw-meter", "t": 1}, {"id": "gw-meter", "t": 2}))  # the ack was lost
        assert await receive(ws) == {"type": "ack", "seq": 1, "duplicate": True}
        await ws.disconnect(timeout=10)
        ws, config = await opened(remote_integration)  # reconnecting: told what the server already holds
        assert config["ackedSeq"] == 1
        await ws.send_to(batch(2, {"id": "gw-meter", "t": 3}))
        assert await receive(ws) == {"type": "ack", "seq": 2, "duplicate": False}
        await ws.disconnect(timeout=10)
        ws, config = await opened(remote_integration, "a-new-outbox-file")  # numbers from 1 again
        assert config["ackedSeq"] == 0
        await ws.send_to(batch(1, {"id": "gw-meter", "t": 4}))
        assert await receive(ws) == {"type": "ack", "seq": 1, "duplicate": False}
        await ws.disconnect(timeout=10)

    async_to_sync(scenario)()
    meter = Device.objects.get(tenant=tenant, name="gw-meter")
    assert values(meter, ["t"]) == {"t": 4}
    assert sum(IntegrationStats.objects.filter(integration=remote_integration)
               .values_list("messages_processed", flat=True)) == 4
    status = RemoteStatus.objects.get(pk=remote_integration.pk)
    assert (status.connected, status.version, status.host, status.outbox_id, status.last_seq) == (
        False, "9.9", "plant-gw", "a-new-outbox-file", 1)
    assert Integration.objects.get(pk=remote_integration.pk).service_id == "remote:plant-gw"


def test_bad_frames_get_a_clear_error_and_a_malformed_batch_is_refused_for_good(remote_integration, tenant):
    async def scenario():
        ws = socket(remote_integration.routing_key, SECRET)
        assert (await ws.connect(10))[0]
        await ws.send_to(batch(1, {"id": "x"}))
        assert await receive(ws) == {"type": "error", "message": "the first frame must be 'hello'"}
        await ws.send_to(protocol.frame("hello", version="1"))
        assert await receive(ws) == {"type": "error", "message": "'hello' must name the remote's 'outboxId'"}
        await ws.send_to(batch(1, {"id": "x"}))  # still no session
        assert await receive(ws) == {"type": "error", "message": "the first frame must be 'hello'"}
        await ws.send_to(hello())
        assert (await receive(ws))["type"] == "config"
        await ws.send_to("not json")
        assert (await receive(ws))["message"].startswith("frame is not JSON")
        await ws.send_to(protocol.frame("shout"))
        assert await receive(ws) == {"type": "error", "message": "unknown frame type 'shout'"}
        await ws.send_to(protocol.frame("uplinks", seq="one", uplinks=[]))
        assert await receive(ws) == {"type": "error", "message": "'seq' must be a positive integer"}
        await ws.send_to(protocol.frame("uplinks", seq=1, uplinks=[["***", {}, 1, "JSON"]]))
        refused = await receive(ws)
        assert refused["type"] == "nack" and refused["seq"] == 1 and "uplink 0 is malformed" in refused["error"]
        await ws.send_to(protocol.frame("uplinks", seq=2, uplinks=[["e30=", {"k": 1}, 1, "JSON"]]))
        assert "metadata must map strings to strings" in (await receive(ws))["error"]
        too_many = [["e30=", {}, 1, "JSON"]] * (protocol.MAX_BATCH + 1)
        await ws.send_to(protocol.frame("uplinks", seq=3, uplinks=too_many))
        assert (await receive(ws))["error"] == f"a batch holds at most {protocol.MAX_BATCH} uplinks, not 501"
        await ws.send_to(batch(4, {"id": "after-bad", "t": 7}))  # the connection carries on
        assert await receive(ws) == {"type": "ack", "seq": 4, "duplicate": False}
        await ws.disconnect(timeout=10)

    async_to_sync(scenario)()
    assert values(Device.objects.get(tenant=tenant, name="after-bad"), ["t"]) == {"t": 7}


def test_status_and_lifecycle_of_the_remote_reach_the_integration(remote_integration):
    async def scenario():
        ws, _ = await opened(remote_integration)
        await ws.send_to(protocol.frame("lifecycle", event="STARTED"))
        await ws.send_to(protocol.frame("status", outboxDepth=1234, dropped=5, connected=False,
                                        error="Cannot listen on TCP port 10560", method="connect"))
        await ws.send_to(protocol.frame("dropped", reason="Frame too long", payload="eHh4", metadata={}))
        await ws.send_to(protocol.frame("lifecycle", event="EXPLODED"))
        assert await receive(ws) == {"type": "error", "message": "unknown lifecycle event 'EXPLODED'"}
        await ws.disconnect(code=1006, timeout=10)  # an unclean end: the connection was lost
        ws, _ = await opened(remote_integration, dropped=9)  # it dropped more while it was away
        await ws.disconnect(timeout=10)

    remote_integration.debug_failures_enabled = True
    remote_integration.save()
    async_to_sync(scenario)()
    started = lifecycle_events(remote_integration, "STARTED")[0]
    assert started.body["server"] == "remote:plant-gw" and started.body["status"] == "Success"
    assert lifecycle_events(remote_integration, "STOPPED")[0].body["error"] == (
        "The connection to the remote runner was lost")
    status = RemoteStatus.objects.get(pk=remote_integration.pk)
    assert (status.outbox_depth, status.dropped, status.connected) == (0, 9, False)
    row = Integration.objects.get(pk=remote_integration.pk)
    assert (row.connected, row.last_error) == (False, "Cannot listen on TCP port 10560")
    errors = DebugEvent.objects.filter(entity_id=remote_integration.pk, event_type=EventType.ERROR)
    assert sorted((e.body["method"], e.body["error"]) for e in errors) == [
        ("connect", "Cannot listen on TCP port 10560"),
        ("outbox", "The remote runner's outbox was full: 4 uplink(s) dropped (9 in all)"),
        ("outbox", "The remote runner's outbox was full: 5 uplink(s) dropped (5 in all)")]
    dropped = DebugEvent.objects.get(entity_id=remote_integration.pk, event_type=EventType.DEBUG_INTEGRATION)
    assert dropped.body["error"] == "Frame too long" and dropped.body["message"] == "xxx"


def test_a_saved_configuration_is_pushed_live_and_a_newer_connection_replaces_an_older(remote_integration):
    async def scenario():
        ws, config = await opened(remote_integration)
        version = config["integration"]["version"]
        await database_sync_to_async(_change_port)(remote_integration.pk, 10600)
        pushed = await receive(ws)
        assert pushed["type"] == "config" and pushed["integration"]["version"] == version + 1
        assert pushed["integration"]["configuration"]["clientConfiguration"]["port"] == 10600
        newer, _ = await opened(remote_integration)
        closed = await ws.receive_output(10)
        assert closed == {"type": "websocket.close", "code": 4409}
        await ws.disconnect(timeout=10)
        assert await database_sync_to_async(_connected)(remote_integration.pk)  # the newer one holds it
        await database_sync_to_async(Integration.objects.filter(pk=remote_integration.pk).update)(remote=False)
        assert await newer.receive_output(10) == {"type": "websocket.close", "code": 4403}
        await newer.disconnect(timeout=10)

    async_to_sync(scenario)()


def _change_port(pk, port: int) -> None:
    integration = Integration.objects.get(pk=pk)
    integration.configuration = {**TCP, "clientConfiguration": {**TCP["clientConfiguration"], "port": port}}
    integration.save()


def _connected(pk) -> bool:
    return RemoteStatus.objects.get(pk=pk).connected


def test_the_integration_api_shows_the_remote_runners_status(remote_integration, api, mallory_api):
    path = f"/api/integration/{remote_integration.pk}"
    assert api.get(path).json()["remoteStatus"] is None  # never connected

    async def scenario():
        ws, _ = await opened(remote_integration)
        await ws.send_to(protocol.frame("status", outboxDepth=17, dropped=2))
        await ws.send_to(protocol.frame("shout"))  # answered after the status frame was handled
        await receive(ws)
        await ws.disconnect(timeout=10)

    async_to_sync(scenario)()
    shown = api.get(path).json()
    assert shown["secret"] == "******" and SECRET not in json.dumps(shown)
    status = shown["remoteStatus"]
    assert {k: status[k] for k in ("connected", "version", "host", "outboxDepth", "dropped")} == {
        "connected": False, "version": "9.9", "host": "plant-gw", "outboxDepth": 17, "dropped": 2}
    assert status["lastSeenTime"] >= status["connectedTime"] > 0
    assert mallory_api.get(path).status_code == 404  # another tenant's


def test_downlinks_go_to_the_remote_and_an_unconfirmed_one_is_sent_again(remote_integration, settings):
    from integrations.models import DownlinkStatus, OutgoingDownlink

    settings.DOWNLINK_RETRY_SECONDS = 0
    row = OutgoingDownlink.objects.create(
        tenant=remote_integration.tenant, integration=remote_integration, device_name="gw-meter", msg_type="RPC",
        status=DownlinkStatus.PENDING, payload=b"set 7", content_type="TEXT",
        route={"remoteAddress": "10.0.0.7", "remotePort": "4100"})

    async def scenario():
        ws, _ = await opened(remote_integration)
        sent = await receive(ws)
        assert sent["type"] == "downlink" and sent["id"] == str(row.pk) and sent["deviceName"] == "gw-meter"
        assert base64.b64decode(sent["payload"]) == b"set 7" and sent["route"]["remotePort"] == "4100"
        await ws.disconnect(code=1006, timeout=10)  # gone before it confirmed
        ws, _ = await opened(remote_integration)
        again = await receive(ws)  # the next connection gets it again
        assert again["type"] == "downlink" and again["id"] == str(row.pk)
        await ws.send_to(protocol.frame("downlinkResult", id=again["id"], error=None))
        await ws.send_to(protocol.frame("shout"))  # answered once the result was handled
        await receive(ws)
        await ws.disconnect(timeout=10)

    async_to_sync(scenario)()
    row.refresh_from_db()
    assert (row.status, row.attempts, row.error) == (DownlinkStatus.DELIVERED, 2, "")


def test_a_downlink_the_remote_cannot_send_is_kept_failed_with_its_reason(remote_integration):
    from integrations.models import DownlinkStatus, OutgoingDownlink

    row = OutgoingDownlink.objects.create(
        tenant=remote_integration.tenant, integration=remote_integration, device_name="gw-meter", msg_type="RPC",
        status=DownlinkStatus.PENDING, payload=b"x", content_type="TEXT")

    async def scenario():
        ws, _ = await opened(remote_integration)
        sent = await receive(ws)
        await ws.send_to(protocol.frame("downlinkResult", id=sent["id"], permanent=True,
                                        error="No open TCP connection to the device (no uplink seen yet)"))
        await ws.send_to(protocol.frame("shout"))
        await receive(ws)
        await ws.disconnect(timeout=10)

    async_to_sync(scenario)()
    row.refresh_from_db()
    assert row.status == DownlinkStatus.FAILED
    assert row.error == "No open TCP connection to the device (no uplink seen yet)"
