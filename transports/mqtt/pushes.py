"""What the server pushes to a session's device (a part of session.Session): its subscriptions, the watches on
tbproject/waits.py keys they arm (shared-attribute updates, server-side RPC calls) and the PUBLISHes that follow,
at the QoS each subscription was granted. The gateway API's watches, one per device behind the gateway, are
gateway_session.py's."""

import asyncio
import json
import logging
from contextlib import suppress

from devices import attribute_updates
from rulechains import rpc_calls
from tbproject import waits
from transports.mqtt import packets, topics

__all__ = ["Pushes", "handing_to", "as_json"]

log = logging.getLogger("transports.mqtt.session")


def handing_to(loop: asyncio.AbstractEventLoop, method):
    """A waits.py callback that hands its payload to ``method`` in the session's loop (the notifier's thread
    does nothing else)."""
    def hand(payload) -> None:
        with suppress(RuntimeError):  # the loop is gone: the session with it
            loop.call_soon_threadsafe(method, payload)
    return hand


def as_json(value) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


class Pushes:
    """The subscription half of a session; the session keeps ``subscriptions`` (filter -> granted QoS),
    ``_watches`` (filter -> waits subscription), ``_packet_id`` and ``gateway`` (gateway_session.py)."""

    async def _subscribe(self, packet_id: int, filters: list[tuple[str, int]]) -> None:
        codes = []
        for topic_filter, qos in filters:
            if topic_filter in topics.SUBSCRIBABLE:
                self.subscriptions[topic_filter] = min(qos, 1)
                codes.append(min(qos, 1))
            else:
                log.info("device MQTT: %s cannot subscribe to %.80r", self._who(), topic_filter)
                codes.append(packets.SUBACK_FAILURE)
        for topic_filter, _ in filters:  # watching before SUBACK: a change made once it is read reaches the device
            if topic_filter in self.subscriptions:
                await self._watch(topic_filter)
        await self._send(packets.suback(packet_id, codes))
        if any(f == topics.GATEWAY_RPC for f, _ in filters):
            self.gateway.take_all()  # the calls queued for its devices while it was not subscribed

    async def _watch(self, topic_filter: str) -> None:
        if topic_filter in self._watches:
            return
        if topic_filter == topics.ATTRIBUTES:
            key, callback = attribute_updates.key(self.device.pk), self._attributes_changed
        elif topic_filter == topics.RPC_REQUEST_FILTER:
            key, callback = rpc_calls.poll_key(self.device.pk), lambda _: self.take_calls()
        else:
            return
        subscription = await self.server.db(waits.subscribe, key, handing_to(asyncio.get_running_loop(), callback))
        if self.closed or topic_filter in self._watches:  # closed (or subscribed again) meanwhile
            waits.disarm(subscription)
            return
        self._watches[topic_filter] = subscription
        if topic_filter == topics.ATTRIBUTES:
            await self.server.db(waits.expect, key, self.server.expect_ms)
        else:
            self.take_calls()  # the calls queued while the device was away

    async def _unwatch(self, topic_filter: str) -> None:
        subscription = self._watches.pop(topic_filter, None)
        if subscription is not None:
            waits.disarm(subscription)

    def watched_keys(self) -> list[str]:
        """The keys whose notifications must reach this process (waits.expect, refreshed by the server)."""
        own = [attribute_updates.key(self.device.pk)] if topics.ATTRIBUTES in self._watches else []
        return own + self.gateway.watched_keys()

    def _attributes_changed(self, update) -> None:
        if not self.closed and isinstance(update, dict):
            self._spawn(self.push(topics.ATTRIBUTES, as_json(update)))

    def subscribed(self, topic: str) -> bool:
        return any(topics.matches(f, topic) for f in self.subscriptions)

    def _qos(self, topic: str) -> tuple[int, int | None]:
        """The QoS the device's subscriptions were granted for ``topic`` (0 when none) and a packet id for it."""
        qos = max((q for f, q in self.subscriptions.items() if topics.matches(f, topic)), default=0)
        if not qos:
            return 0, None
        self._packet_id = self._packet_id % 65535 + 1
        return qos, self._packet_id

    async def push(self, topic: str, payload: bytes, *, large: bool = False) -> None:
        """PUBLISH to the device, at the QoS its subscription was granted (0 when it has none); ``large``: one
        that may be larger than the bytes allowed to wait to be sent (a whole OTA file, ota.py): in slices."""
        qos, packet_id = self._qos(topic)
        await self._send(packets.publish(topic, payload, qos=qos, packet_id=packet_id), large=large)
