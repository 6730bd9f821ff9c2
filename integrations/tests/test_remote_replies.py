"""Downlinks a remote HTTP-family (or CoAP) integration answers a device's next request with
(remote/replies.py): the server offers the newest PENDING downlink of each device and records the
one the remote answered with; the runner finds a request's devices with the offered decoder and
answers with the downlink once the uplink is in its outbox. The run with separate processes and
the installed wheel is test_remote_wheel.py."""

import asyncio
import base64
import json
import urllib.error
import urllib.request

import pytest
from asgiref.sync import async_to_sync

from integrations.messages import Downlink
from integrations.models import DownlinkStatus, OutgoingDownlink
from integrations.remote import protocol
from integrations.tests.brokers import free_port
from integrations.tests.factories import make_integration, make_uplink_converter
from integrations.tests.test_remote_server import SECRET, _fresh_refusals, opened, receive  # noqa: F401 (fixture)
from remote.client import RemoteRunner
from remote.outbox import Outbox

DECODER = "var d = JSON.parse(String.fromCharCode.apply(null, payload)); return {deviceName: d.id, telemetry: {n: 1}};"


@pytest.mark.django_db(transaction=True)
def test_the_server_offers_the_newest_downlink_of_each_device_until_the_remote_answers_with_it(tenant):
    integration = make_integration(tenant, "Remote HTTP", kind="HTTP", remote=True, secret=SECRET,
                                   converter=make_uplink_converter(tenant, "ids", DECODER))

    def pending(device: str, payload: bytes, ts: int) -> OutgoingDownlink:
        return OutgoingDownlink.objects.create(tenant=tenant, integration=integration, device_name=device,
                                               msg_type="ATTRIBUTES_UPDATED", status=DownlinkStatus.PENDING,
                                               payload=payload, content_type="TEXT", created_ts=ts)

    pending("m-1", b"old", 1)
    new, other = pending("m-1", b"new", 2), pending("m-2", b"two", 3)

    async def scenario():
        ws, config = await opened(integration)
        decoder = config["integration"]["replyDecoder"]
        assert decoder["script"] == DECODER and "converter" not in config["integration"]  # not convertRemotely
        offered = await receive(ws)
        assert offered["type"] == "replies"
        assert sorted((d["id"], d["deviceName"], base64.b64decode(d["payload"])) for d in offered["downlinks"]) == \
            sorted([(str(new.pk), "m-1", b"new"), (str(other.pk), "m-2", b"two")])
        await ws.send_to(protocol.frame("replyTaken", id=str(new.pk)))
        again = await receive(ws)  # what still waits
        assert [d["id"] for d in again["downlinks"]] == [str(other.pk)]
        await ws.send_to(protocol.frame("replyTaken", id="not-a-downlink"))
        assert (await receive(ws))["type"] == "error"
        await ws.disconnect(timeout=10)

    async_to_sync(scenario)()
    statuses = {bytes(row.payload): row.status for row in OutgoingDownlink.objects.filter(integration=integration)}
    assert statuses == {b"old": DownlinkStatus.SUPERSEDED, b"new": DownlinkStatus.DELIVERED,
                        b"two": DownlinkStatus.PENDING}


def _post(port: int, key: str, body: bytes) -> tuple[int, bytes, str]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/integrations/http/{key}", data=body,
                                     method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read(), answer.headers.get("Content-Type", "")
    except urllib.error.HTTPError as error:
        return error.code, error.read(), ""


def test_the_runner_answers_a_devices_next_request_with_its_offered_downlink_after_storing_the_uplink(tmp_path):
    path, port, key = str(tmp_path / "outbox.sqlite3"), free_port(), "7c2d-http-replies"
    config = {"id": "5b0e4c56-8d52-4a9e-9a4e-0d6c1f3f7c13", "name": "Plant HTTP", "type": "HTTP", "enabled": True,
              "version": 1, "configuration": {"baseUrl": "http://plant"},
              "replyDecoder": {"key": "ids", "version": 1, "script": DECODER, "lang": "JS", "type": "UPLINK"}}
    outbox = Outbox(path)
    outbox.remember_config(config)  # the server is away: the runner runs what it last received
    outbox.close()
    offer = json.loads(protocol.encode_replies([
        ("d-1", Downlink(config["id"], "m-1", b'{"set": 1}', "JSON", ts=5)),
        ("d-2", Downlink(config["id"], "m-2", b"two", "TEXT", ts=6))]))

    async def scenario():
        runner = RemoteRunner(f"http://127.0.0.1:{free_port()}", key, "secret", outbox_path=path,
                              reconnect_seconds=0.1, http={"host": "127.0.0.1", "port": port})
        task = asyncio.get_running_loop().create_task(runner.run())
        post = lambda device: asyncio.to_thread(_post, port, key, json.dumps({"id": device}).encode())  # noqa: E731
        for _ in range(100):
            if runner.host.instance is not None:
                break
            await asyncio.sleep(0.05)
        assert (await post("m-1"))[0] == 204  # nothing offered yet
        runner.replies.offer(offer)
        assert (await post("m-3"))[0] == 204  # no downlink for this one
        assert await post("m-1") == (200, b'{"set": 1}', "application/json")
        assert (await post("m-1"))[0] == 204  # answered once
        runner.replies.offer(offer)  # sent before the server heard of the answer: not taken again
        assert (await post("m-1"))[0] == 204
        assert await post("m-2") == (200, b"two", "text/plain; charset=utf-8")
        assert [json.loads(f) for f in runner.frames if '"replyTaken"' in f] == [
            {"type": "replyTaken", "id": "d-1"}, {"type": "replyTaken", "id": "d-2"}]  # sent once connected
        assert runner.outbox.depth == 6  # every request's uplink, answered or not
        runner.request_stop()
        await asyncio.wait_for(task, 15)

    asyncio.run(asyncio.wait_for(scenario(), 60))


def test_a_remote_coap_integration_takes_uplinks_at_the_runners_key_and_answers_with_the_offered_downlink(tmp_path):
    import aiocoap

    from integrations.tests.test_coap import request

    path, port, key = str(tmp_path / "outbox.sqlite3"), free_port(), "9e4f-coap-replies"
    config = {"id": "5b0e4c56-8d52-4a9e-9a4e-0d6c1f3f7c14", "name": "Plant CoAP", "type": "COAP", "enabled": True,
              "version": 1, "configuration": {"clientConfiguration": {
                  "baseUrl": f"coap://127.0.0.1:{port}", "securityMode": "NO_SECURE", "bindAddress": "127.0.0.1"}},
              "replyDecoder": {"key": "ids", "version": 1, "script": DECODER, "lang": "JS", "type": "UPLINK"}}
    outbox = Outbox(path)
    outbox.remember_config(config)
    outbox.close()
    offer = json.loads(protocol.encode_replies([("d-9", Downlink(config["id"], "c-1", b"go", "TEXT", ts=1))]))

    async def scenario():
        runner = RemoteRunner(f"http://127.0.0.1:{free_port()}", key, "secret", outbox_path=path,
                              reconnect_seconds=0.1)
        task = asyncio.get_running_loop().create_task(runner.run())
        for _ in range(100):
            if runner.host.instance is not None:
                break
            await asyncio.sleep(0.05)
        assert runner.host.instance is not None, "the CoAP integration did not start"
        send = lambda device: request(f"coap://127.0.0.1:{port}/i/{key}",  # noqa: E731
                                      json.dumps({"id": device}).encode(), content_format=50)
        first = await send("c-1")
        assert str(first.code) == str(aiocoap.CHANGED) and first.payload == b""
        runner.replies.offer(offer)
        answered = await send("c-1")
        assert str(answered.code) == str(aiocoap.CHANGED) and answered.payload == b"go"
        assert (await send("c-1")).payload == b""  # once
        assert runner.outbox.depth == 3
        runner.request_stop()
        await asyncio.wait_for(task, 15)

    asyncio.run(asyncio.wait_for(scenario(), 60))
