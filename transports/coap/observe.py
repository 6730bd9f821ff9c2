"""CoAP Observe subscriptions (RFC 7641) of ThingsBoard's device CoAP API:

    GET .../attributes  Observe: 0  -> 2.05 the device's shared attributes {"k": v}, then one notification per
                                       change: {"k": v} / {"deleted": [...]} (ThingsBoard's AttributeUpdateNotification)
    GET .../rpc         Observe: 0  -> 2.03 Valid (empty, as ThingsBoard), then one 2.05 notification per call:
                                       {"id": n, "method": ..., "params": ...}; the device answers POST .../rpc/{n}

What the server pushes arrives as for the MQTT transport's sessions (tbproject/waits.py subscriptions, over
Redis across processes): attribute updates from devices/attribute_updates.py, a nudge of the device's RPC poll
key from rulechains/rpc_calls.py, whereupon the device's QUEUED calls are taken (SENT) and DELIVERED once
written (ThingsBoard's CoAP transport does not wait for the device's ACK either); calls taken by an observation
that ends before writing them are QUEUED again. An observation ends when the client cancels it (a GET with
Observe: 1, a RST, an unacknowledged confirmable notification: aiocoap cancels the task), when its device
is gone or its access token changed (4.01 as the last notification: checked before each notification, through
the HTTP API's token cache, which a credentials change in this process empties at once, and every
CHECK_SECONDS) and when the device observes the same feature again (as ThingsBoard, one observation per device
and feature: the replaced one ends with 2.02 Deleted). Every CHECK_SECONDS an observation also renews its
attribute-update mark (waits.expect) and takes the calls a lost nudge may have left queued. A notification
over one block is sent block-wise: its first block, the rest kept for the client's follow-up requests
(blocks.Downloads).
"""

import asyncio
import json
import logging
import threading
from contextlib import suppress

import aiocoap

from devices import attribute_updates
from devices.api import device_http
from rulechains import rpc_calls
from tbproject import waits
from transports.coap import blocks, device_api
from transports.mqtt import device_api as mqtt_api

__all__ = ["Observations", "CHECK_SECONDS", "JSON"]

log = logging.getLogger(__name__)

CHECK_SECONDS = 30.0
JSON = 50  # the application/json Content-Format
_OBSERVE_MAX = 1 << 24


class _Observation:
    __slots__ = ("pipe", "number", "ended", "downloads", "sender")

    def __init__(self, pipe, downloads, sender: str):
        self.pipe, self.number, self.ended = pipe, 0, False
        self.downloads, self.sender = downloads, sender

    def send(self, payload: bytes, code=aiocoap.CONTENT) -> None:
        message = aiocoap.Message(code=code, payload=payload, content_format=JSON if payload else None)
        message = blocks.first_block(self.downloads, self.pipe.request, message, self.sender)
        message.opt.observe = self.number % _OBSERVE_MAX
        self.number += 1
        self.pipe.add_response(message, is_last=False)

    def end(self, code) -> None:
        if not self.ended:
            self.ended = True
            with suppress(Exception):
                self.pipe.add_response(aiocoap.Message(code=code), is_last=True)


def _json(value) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _call(request_id: int, body: bytes) -> bytes:
    return _json({"id": request_id, **json.loads(body)})


def _still(token: str, device_pk) -> bool:
    device = device_http.device_of(token)
    return device is not None and device.pk == device_pk


class Observations:
    """The server's observations by device."""

    def __init__(self, server):
        self.server = server
        self.by_device: dict[tuple, _Observation] = {}  # (device pk, feature) -> its observation
        self.changed = threading.Condition()  # notified when one starts or ends (tests wait on it)

    def count(self) -> int:
        return len(self.by_device)

    def _admit(self, device_pk, feature: str, observation: _Observation) -> None:
        replaced = self.by_device.get((device_pk, feature))
        self.by_device[(device_pk, feature)] = observation
        if replaced is not None:
            replaced.end(aiocoap.DELETED)
        self._notify()

    def cancel(self, device_pk, feature: str, remote) -> None:
        """A GET with Observe: 1 from ``remote``: its observation of the device's ``feature`` ends."""
        observation = self.by_device.get((device_pk, feature))
        if observation is not None and observation.pipe.request.remote == remote:
            observation.end(aiocoap.CONTENT)

    def _notify(self) -> None:
        with self.changed:
            self.changed.notify_all()

    def _forget(self, device_pk, feature: str, observation: _Observation) -> None:
        if self.by_device.get((device_pk, feature)) is observation:
            del self.by_device[(device_pk, feature)]
        self._notify()

    async def run(self, pipe, token: str, feature: str, device) -> None:
        """Serve an Observe registration of ``feature`` ("attributes" or "rpc") of ``device`` (``token``'s)
        until it ends."""
        db = self.server.db
        try:
            await db(device_api.allowed, device)
        except mqtt_api.Refused as e:
            pipe.add_response(self.server.too_many(e), is_last=True)
            return
        loop = asyncio.get_running_loop()
        inbox: asyncio.Queue = asyncio.Queue()

        def hand(payload) -> None:  # in the notifier's thread: only hand the payload to the loop
            with suppress(RuntimeError):  # the loop is gone
                loop.call_soon_threadsafe(inbox.put_nowait, payload)

        attributes = feature == "attributes"
        key = attribute_updates.key(device.pk) if attributes else rpc_calls.poll_key(device.pk)
        subscription = await db(waits.subscribe, key, hand)
        sender = device_api.sender(str((getattr(pipe.request.remote, "sockaddr", None) or ("",))[0]))
        observation = _Observation(pipe, self.server.downloads, sender)
        self._admit(device.pk, feature, observation)
        taken: set = set()
        try:
            if attributes:
                await db(waits.expect, key, int(CHECK_SECONDS * 2000))
                observation.send(_json(await db(device_api.shared_attributes, device)))
            else:
                observation.send(b"", aiocoap.VALID)
                await self._push_calls(observation, device, taken, token)
            while not observation.ended:
                try:
                    payload = await asyncio.wait_for(inbox.get(), CHECK_SECONDS)
                except TimeoutError:
                    if not await db(_still, token, device.pk):
                        log.info("device CoAP: device %s is gone: its observation ends", device.pk)
                        observation.end(aiocoap.UNAUTHORIZED)
                    elif attributes:
                        await db(waits.expect, key, int(CHECK_SECONDS * 2000))
                    else:
                        await self._push_calls(observation, device, taken, token)
                    continue
                if attributes:
                    if isinstance(payload, dict) and await self._still(observation, token, device):
                        observation.send(_json(payload))
                else:
                    await self._push_calls(observation, device, taken, token)
        finally:
            waits.disarm(subscription)
            self._forget(device.pk, feature, observation)
            if taken:
                with suppress(Exception):
                    await db(mqtt_api.put_back, device.pk, list(taken))

    async def _still(self, observation: _Observation, token: str, device) -> bool:
        """Whether ``token`` is still the device's access token (else the observation ends with 4.01)."""
        if await self.server.db(_still, token, device.pk):
            return True
        log.info("device CoAP: device %s is gone or its token changed: its observation ends", device.pk)
        observation.end(aiocoap.UNAUTHORIZED)
        return False

    async def _push_calls(self, observation: _Observation, device, taken: set, token: str) -> None:
        if not await self._still(observation, token, device):
            return
        calls = await self.server.db(mqtt_api.take_calls, device)
        taken.update(pk for pk, _, _ in calls)  # SENT now: put back should the observation end
        for pk, request_id, body in calls:
            if observation.ended:
                return
            await self.server.db(mqtt_api.delivered, [pk])  # written next, in this loop turn: nothing between
            taken.discard(pk)
            observation.send(_call(request_id, body))
