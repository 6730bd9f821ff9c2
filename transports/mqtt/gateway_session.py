"""The devices a gateway's session serves (a part of session.Session, as ThingsBoard's GatewaySessionHandler):
each device the gateway names (``v1/gateway/connect``, its telemetry or attributes, an attribute request, an
RPC reply, a claim) is connected in the session until ``v1/gateway/disconnect`` names it or the session ends,
whatever its ``additionalInfo.lastConnectedGateway`` says: the session decides, as ThingsBoard's gateway session
does (that field only records the gateway that last connected it).

A connected device gets one watch of its shared-attribute updates and one of its server-side calls, on the keys
its own session would use (devices/attribute_updates.py, rulechains/rpc_calls.py's poll key, through
tbproject/waits.py, so they cross processes over Redis). With the gateway subscribed to ``v1/gateway/attributes``
an update is published there as ``{"device": name, "data": {...}}``; with it subscribed to ``v1/gateway/rpc``
the device's QUEUED calls are taken (SENT) and published there as ``{"device": name, "data": {"id", "method",
"params"}}``, DELIVERED once written at QoS 0 or at the gateway's PUBACK at QoS 1, QUEUED again (each device's
poll told) when the session closes before that, as calls.py does for a device's own calls. Nothing is sent
for a topic the gateway is not subscribed to (ThingsBoard's IoT Gateway and SDK subscribe to both at CONNECT),
so a call is never taken for a gateway that would not read it.

A device stays served only while it is the gateway's tenant's: each batch of attribute updates is checked first
(one query; a device moved to another tenant, devices/tenant_assign.py, is forgotten, its update never pushed),
as is every device the session serves at the server's periodic :meth:`GatewaySession.check`, which also takes
the calls a lost notification left queued. A session serves at most DEVICE_MQTT_GATEWAY_MAX_DEVICES_PER_SESSION
devices, named at most DEVICE_MQTT_GATEWAY_MAX_DEVICES_PER_MESSAGE a message (gateway.Served); the new devices of
a message are watched in one database call.
"""

import asyncio
import logging
from functools import partial

from devices import attribute_updates
from rulechains import rpc_calls
from tbproject import waits
from transports import conf
from transports.mqtt import device_api, gateway, gateway_api, packets, topics
from transports.mqtt.device_api import Gone
from transports.mqtt.pushes import as_json, handing_to

__all__ = ["GatewaySession", "TOPICS"]

log = logging.getLogger("transports.mqtt.session")

_POSTS = {topics.GATEWAY_TELEMETRY: gateway.post_telemetry, topics.GATEWAY_ATTRIBUTES: gateway.post_attributes,
          topics.GATEWAY_CONNECT: gateway.connect, topics.GATEWAY_CLAIM: gateway_api.claim}
#: the topics a gateway publishes to
TOPICS = frozenset({*_POSTS, topics.GATEWAY_DISCONNECT, topics.GATEWAY_ATTRIBUTES_REQUEST, topics.GATEWAY_RPC})


class GatewaySession:
    """The gateway half of one session (see the module docstring)."""

    def __init__(self, session):
        self.session = session
        self.names: dict[str, str] = {}  # device pk -> the name the gateway knows it by
        self._watches: dict[str, tuple] = {}  # device pk -> its waits subscriptions
        self._pending: set[str] = set()  # devices whose calls are to be taken
        self.taker: asyncio.Task | None = None
        self._calls: dict = {}  # call pk -> device pk: SENT, not yet DELIVERED
        self._unacked: dict[int, object] = {}  # packet id -> call pk, published at QoS 1
        self._updates: list[tuple[str, dict]] = []  # (device pk, update) to push, once checked
        self._pusher: asyncio.Task | None = None
        self.served = gateway.Served(self.names, conf.gateway_max_devices_per_message(),
                                     conf.gateway_max_devices_per_session())

    async def dispatch(self, topic: str, payload: bytes) -> None:
        s = self.session
        if topic in _POSTS:
            await self._connected(await s._db(_POSTS[topic], payload, self.served))
        elif topic == topics.GATEWAY_DISCONNECT:
            self._disconnected(await s._db(gateway.disconnect, payload))
        elif topic == topics.GATEWAY_ATTRIBUTES_REQUEST:
            device, answer = await s._db(gateway_api.attribute_response, payload, self.served)
            await self._connected([device])
            await s.push(topics.GATEWAY_ATTRIBUTES_RESPONSE, answer)
        elif topic == topics.GATEWAY_RPC:
            await self._connected([await s._db(gateway_api.rpc_reply, payload, self.served)])

    # --- connected devices ------------------------------------------------------------------------

    async def _connected(self, devices) -> None:
        new = [str(device.pk) for device in devices if str(device.pk) not in self.names]
        self.names.update((str(device.pk), device.name) for device in devices)
        if new:
            await self._watch(new)

    async def _watch(self, pks: list[str]) -> None:
        """Watch the updates and calls of the devices ``pks`` (one database call for all)."""
        s = self.session
        loop = asyncio.get_running_loop()
        hands = {pk: (handing_to(loop, partial(self._attributes_changed, pk)),
                      handing_to(loop, partial(self._nudged, pk))) for pk in pks}
        watches = await s.server.db(_subscribe, hands, s.server.expect_ms)
        for pk, pair in watches.items():
            if s.closed or pk not in self.names or pk in self._watches:  # closed (or gone) meanwhile
                for watch in pair:
                    waits.disarm(watch)
                continue
            self._watches[pk] = pair
            self.take(pk)  # the calls queued while it was away

    def _nudged(self, pk: str, _payload) -> None:
        self.take(pk)

    def _disconnected(self, name: str) -> None:
        self._forget([pk for pk, known in self.names.items() if known == name])

    def _forget(self, pks) -> None:
        """The devices ``pks`` no longer served: their watches disarmed."""
        for pk in pks:
            self.names.pop(pk, None)
            self._pending.discard(pk)
            for watch in self._watches.pop(pk, ()):
                waits.disarm(watch)

    async def check(self) -> None:
        """(The server's periodic check.) Forget the devices no longer the gateway's tenant's (one query), then
        take the queued calls of the others (one a lost notification left queued)."""
        s = self.session
        if s.closed or not self.names:
            return
        asked = list(self.names)
        kept = await s.server.db(gateway_api.still_served, s.device.tenant_id, asked)
        self._forget([pk for pk in asked if pk not in kept])
        self.take_all()

    def watched_keys(self) -> list[str]:
        return [attribute_updates.key(pk) for pk in self._watches]

    def _attributes_changed(self, pk: str, update) -> None:
        s = self.session
        if s.closed or pk not in self.names or not isinstance(update, dict) or not s.subscribed(
                topics.GATEWAY_ATTRIBUTES):
            return
        self._updates.append((pk, update))
        if self._pusher is None:
            self._pusher = s._spawn(self._push_updates())

    async def _push_updates(self) -> None:
        """The updates waiting, in order, of the devices still the gateway's tenant's (one query a batch)."""
        s = self.session
        try:
            while self._updates and not s.closed:
                batch, self._updates = self._updates, []
                kept = await s.server.db(gateway_api.still_served, s.device.tenant_id, {pk for pk, _ in batch})
                self._forget({pk for pk, _ in batch if pk not in kept})  # moved to another tenant, or deleted
                for pk, update in batch:
                    name = self.names.get(pk)
                    if name is not None and not s.closed:
                        await s.push(topics.GATEWAY_ATTRIBUTES, as_json({"device": name, "data": update}))
        finally:
            self._pusher = None

    # --- server-side calls ------------------------------------------------------------------------

    def take(self, pk: str) -> None:
        """Take the device's queued calls and publish each, once the gateway is subscribed to v1/gateway/rpc."""
        s = self.session
        if s.closed or pk not in self.names or not s.subscribed(topics.GATEWAY_RPC):
            return
        self._pending.add(pk)
        if self.taker is None:
            self.taker = s._spawn(self._take())

    def take_all(self) -> None:
        for pk in list(self.names):
            self.take(pk)

    async def _take(self) -> None:
        s = self.session
        try:
            while self._pending and not s.closed:
                pk = self._pending.pop()
                if pk not in self.names:
                    continue
                taken = await s._db(gateway_api.take_calls, pk)
                self._calls.update((call, pk) for call, _ in taken)  # SENT now: put back should the session close
                if len(taken) >= gateway_api.CALLS_PER_TAKE:
                    self._pending.add(pk)  # there may be more: taken again once these are published
                for call, body in taken:
                    if s.closed:
                        break
                    await self._publish_call(call, body)
        except Gone:
            await s.close()
        finally:
            self.taker = None
            if s.closed:  # closed while calls were being taken: close() could not put those back
                await self.put_back()

    async def _publish_call(self, call, body: bytes) -> None:
        s = self.session
        qos, packet_id = s._qos(topics.GATEWAY_RPC)
        if packet_id is not None:
            self._unacked[packet_id] = call  # before writing: the PUBACK may come before the write returns
        await s._send(packets.publish(topics.GATEWAY_RPC, body, qos=qos, packet_id=packet_id))
        if packet_id is None:
            await s.server.db(device_api.delivered, [call])
            self._calls.pop(call, None)

    async def acked(self, packet_id: int) -> None:
        call = self._unacked.pop(packet_id, None)
        if call is not None:
            await self.session.server.db(device_api.delivered, [call])
            self._calls.pop(call, None)

    async def put_back(self) -> None:
        calls, self._calls = self._calls, {}
        self._unacked.clear()
        if calls:
            try:
                await self.session.server.db(gateway_api.put_back, calls)
            except Exception:
                log.exception("device MQTT: %s: the unacknowledged RPC calls of its devices stay SENT",
                              self.session._who())

    def close(self) -> None:
        """Every watch disarmed (the session is closed; its calls are put back by :meth:`put_back`)."""
        for watches in self._watches.values():
            for watch in watches:
                waits.disarm(watch)
        self._watches.clear()
        self._pending.clear()
        self._updates.clear()


def _subscribe(hands: dict, expect_ms: int) -> dict[str, tuple]:
    """(A database thread.) ``{device pk: (its attribute-update watch, its call watch)}`` for ``{device pk:
    (on_update, on_call)}``, the update keys marked expected in one round trip."""
    watches = {pk: (waits.subscribe(attribute_updates.key(pk), on_update),
                    waits.subscribe(rpc_calls.poll_key(pk), on_call)) for pk, (on_update, on_call) in hands.items()}
    waits.expect_many([attribute_updates.key(pk) for pk in watches], expect_ms)
    return watches
