"""One device's MQTT connection: CONNECT and its credentials, then the device API until either side closes.

The session reads its packets in order and handles each before the next (a QoS 1 PUBLISH is acknowledged
once stored, as the design's "an accepted uplink is never lost" asks); what the server pushes (shared-attribute
updates, server-side RPC calls, client-side RPC answers) arrives through tbproject/waits.py, the way the device
HTTP API's long polls learn of it, so it crosses processes over Redis when REDIS_URL is set. Database work runs
in the server's threads (``server.db``), never in the event loop.

Closed: at the peer's DISCONNECT or EOF, after 1.5 keep-alive periods without a packet, on a malformed or
oversize packet, when the device is gone (deleted, its credentials changed, its tenant being deleted), over
its tenant's transport rate limits, when a new connection of the device with the same client id takes over (or
one past MAX_SESSIONS_PER_DEVICE, server.py) and when the device does not read what is sent to it: a write
waits at most 1.5 keep-alive periods (DRAIN_S without a keep-alive) and at most 4 times the largest packet may
wait to be sent (a whole OTA file goes in slices, each drained in that time: _send); closing such a connection
aborts it. A payload the device API refuses is dropped with a log line (one a minute per session at INFO, the
others at DEBUG), the session stays up (ThingsBoard's MQTT profile option "send PUBACK on PUBLISH message
validation failure"). The device profile's MQTT transport configuration names the telemetry and attribute
topics (topics.profile_topics); a profile with PROTOBUF payloads is refused at CONNECT (not served), never
acknowledged and dropped.

Its parts: pushes.py (subscriptions and what the server pushes), calls.py (server-side calls to the device) and
gateway_session.py (the gateway MQTT API: the devices behind a gateway the session serves). A CONNECT as
``provision`` opens a provisioning session instead (provision.py: that only, bounded); ``v1/devices/me/claim``
(claim.py) and the OTA chunk requests ``v2/fw|sw/request/...`` (ota.py) are dispatched as the other topics.
"""

import asyncio
import logging
import time
import uuid

from rulechains import outbox
from tbproject import waits
from transports import conf
from transports.mqtt import auth, claim, device_api, gateway_session, ota, packets, provision, topics
from transports.mqtt.calls import ServerCalls
from transports.mqtt.device_api import Gone
from transports.mqtt.gateway_session import GatewaySession
from transports.mqtt.packets import ProtocolError
from transports.mqtt.pushes import Pushes

__all__ = ["Session", "NOT_AUTHORIZED", "UNACCEPTABLE_PROTOCOL"]

log = logging.getLogger(__name__)

UNACCEPTABLE_PROTOCOL, IDENTIFIER_REJECTED, NOT_AUTHORIZED = 1, 2, 5
CLIENT_RPC_TIMEOUT_S = 60.0  # ThingsBoard's client-side RPC timeout (transport.client_side_rpc.timeout)
MAX_CLIENT_CALLS = 100  # client-side calls of one session waiting for their answers at once
DRAIN_S = 30.0  # how long a write may wait for a device that has no keep-alive to read it
CLOSE_S = 5.0  # how long closing may wait for the connection to be closed before aborting it
DROP_LOG_S = 60.0  # one INFO line a session for the messages it drops in this many seconds


class Session(ServerCalls, Pushes):
    """One connection (see the module docstring)."""

    def __init__(self, server, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.server, self.reader, self.writer = server, reader, writer
        self.session_id = str(uuid.uuid4())
        self.identity: auth.Identity | None = None
        self.subscriptions: dict[str, int] = {}  # topic filter -> granted QoS
        self._watches: dict[str, waits.Subscription] = {}
        self._tasks: set[asyncio.Task] = set()
        self._packet_id = self.keepalive = self._client_calls = self._drops_unlogged = 0
        self._taking = self._take_again = False
        self._taker: asyncio.Task | None = None
        self.closed = False
        self.client_id = ""
        self.topics = topics.ProfileTopics()
        self._calls: set = set()  # server-side calls this session took (SENT), not yet DELIVERED
        self._unacked: dict[int, object] = {}  # packet id -> the call's pk, published at QoS 1
        self._last_drop_log = float("-inf")
        self._large: asyncio.Event | None = None  # set at the end of a large write (_send), None when none goes on
        self._held = 0  # bytes of the writes waiting for a large write to end
        self.gateway = GatewaySession(self)  # the devices behind a gateway this session serves

    @property
    def device(self):
        return self.identity.device if self.identity else None

    # --- the connection -------------------------------------------------------------------------

    async def run(self) -> None:
        try:
            if await self._connect():
                await self._serve()
        except (ProtocolError, asyncio.IncompleteReadError, ConnectionError, TimeoutError) as e:
            log.debug("device MQTT: closing %s: %s", self._who(), e)
        except Gone:
            log.info("device MQTT: %s is gone (deleted or its credentials changed): disconnected", self._who())
        except device_api.Refused as e:
            log.info("device MQTT: %s over its rate limits, disconnected: %s", self._who(), e)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("device MQTT: %s failed", self._who())
        finally:
            await self.close()

    async def _connect(self) -> bool:
        packet = await asyncio.wait_for(packets.read_packet(self.reader, self.server.max_bytes), conf.connect_timeout())
        if packet is None or packet.kind != packets.CONNECT:
            raise ProtocolError("the first packet is not CONNECT")
        connect = packets.parse_connect(packet.body)
        if (connect.protocol_name, connect.protocol_level) not in packets.SUPPORTED:
            await self._send(packets.connack(UNACCEPTABLE_PROTOCOL))  # MQTT 5 clients then retry with 3.1.1
            return False
        if not connect.client_id and not connect.clean_session:  # MQTT 3.1.1 section 3.1.3.1
            await self._send(packets.connack(IDENTIFIER_REJECTED))
            return False
        self.keepalive = connect.keepalive
        if provision.requested(connect):  # a provisioning session: that only, then closed (provision.py)
            await self._send(packets.connack(0))
            await provision.serve(self)
            return False
        identity = await self.server.db(auth.authenticate, connect.client_id, connect.username, connect.password,
                                        auth.peer_certificate(self.writer))  # over TLS: the device's certificate
        if identity is None:
            log.info("device MQTT: CONNECT refused, unknown credentials (client id %.64r)", connect.client_id)
            await self._send(packets.connack(NOT_AUTHORIZED))
            return False
        profile = identity.device.profile
        self.topics = topics.profile_topics(profile.additional_info if profile is not None else None)
        if self.topics.payload_type != "JSON":
            log.warning("device MQTT: CONNECT of device %s refused: its profile %r has MQTT payload type %.32s, "
                        "which this transport does not serve (JSON only)", identity.device.pk,
                        getattr(profile, "name", None), self.topics.payload_type)
            await self._send(packets.connack(NOT_AUTHORIZED))
            return False
        self.identity, self.client_id = identity, connect.client_id
        replaced = self.server.admit(self)
        if replaced:
            log.info("device MQTT: %s replaces %d older session(s) of its device", self._who(), len(replaced))
            await asyncio.gather(*(old.close() for old in replaced), return_exceptions=True)
        await self._send(packets.connack(0))
        log.debug("device MQTT: %s connected", self._who())
        return True

    async def _serve(self) -> None:
        timeout = self.keepalive * 1.5 if self.keepalive else None
        while not self.closed:
            packet = await asyncio.wait_for(packets.read_packet(self.reader, self.server.max_bytes), timeout)
            if packet is None or packet.kind == packets.DISCONNECT:
                return
            await self._handle(packet)

    async def _handle(self, packet: packets.Packet) -> None:
        kind = packet.kind
        if kind == packets.PUBLISH:
            await self._publish(packets.parse_publish(packet.flags, packet.body))
        elif kind == packets.SUBSCRIBE:
            await self._subscribe(*packets.parse_subscribe(packet.body))
        elif kind == packets.UNSUBSCRIBE:
            packet_id, filters = packets.parse_unsubscribe(packet.body)
            for topic_filter in filters:
                self.subscriptions.pop(topic_filter, None)
                await self._unwatch(topic_filter)
            await self._send(packets.unsuback(packet_id))
        elif kind == packets.PINGREQ:
            await self._send(packets.pingresp())
        elif kind == packets.PUBREL:
            await self._send(packets.pubcomp(int.from_bytes(packet.body[:2], "big")))
        elif kind == packets.PUBACK:
            await self._acked(int.from_bytes(packet.body[:2], "big"))
        elif kind in (packets.PUBREC, packets.PUBCOMP):
            return  # nothing is sent at QoS 2
        else:
            raise ProtocolError(f"unexpected packet type {kind}")

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for subscription in self._watches.values():
            waits.disarm(subscription)
        self._watches.clear()
        self.gateway.close()
        current = asyncio.current_task()
        for task in list(self._tasks):  # the takers put back what they took themselves
            if task is not current and task is not self._taker and task is not self.gateway.taker:
                task.cancel()
        self.server.forget(self)
        transport = self.writer.transport
        if transport.get_write_buffer_size():
            transport.abort()  # a peer that reads nothing would keep a graceful close waiting for ever
        else:
            self.writer.close()
        try:
            await asyncio.wait_for(self.writer.wait_closed(), CLOSE_S)
        except (ConnectionError, OSError, TimeoutError):
            transport.abort()
        await self._put_back()  # calls written and not acknowledged: for the device's next session
        await self.gateway.put_back()

    # --- what the device publishes ----------------------------------------------------------------

    async def _publish(self, message: packets.Publish) -> None:
        topic = message.topic
        try:
            await self._dispatch(topic, message.payload)
        except device_api.BadPayload as e:
            self._dropped(f"message to {topic[:80]!r} dropped: {e}")
        if message.qos == 1:
            await self._send(packets.puback(message.packet_id))
        elif message.qos == 2:
            await self._send(packets.pubrec(message.packet_id))

    def _dropped(self, what: str) -> None:
        now = time.monotonic()
        if now - self._last_drop_log < DROP_LOG_S:
            self._drops_unlogged += 1
            log.debug("device MQTT: %s: %s", self._who(), what)
            return
        more = f" (and {self._drops_unlogged} more since the last such line)" if self._drops_unlogged else ""
        self._last_drop_log, self._drops_unlogged = now, 0
        log.info("device MQTT: %s: %s%s", self._who(), what, more)

    async def _dispatch(self, topic: str, payload: bytes) -> None:
        if topics.matches(self.topics.attributes, topic):  # the profile's topics first, as ThingsBoard
            await self._db(device_api.post_attributes, payload)
        elif topics.matches(self.topics.telemetry, topic):
            await self._db(device_api.post_telemetry, payload)
        elif topic.startswith(topics.ATTRIBUTES_REQUEST):
            request_id = topic[len(topics.ATTRIBUTES_REQUEST):]
            answer = await self._db(device_api.attribute_response, payload)
            await self.push(topics.ATTRIBUTES_RESPONSE + request_id, answer)
        elif topic.startswith(topics.RPC_RESPONSE):
            request_id = topic[len(topics.RPC_RESPONSE):]
            if not request_id.isascii() or not request_id.isdigit() or len(request_id) > 10:
                raise device_api.BadPayload(f"the RPC id {request_id[:32]!r} is not the call's integer id")
            await self._db(device_api.rpc_reply, int(request_id), payload)
        elif topic.startswith(topics.RPC_REQUEST):
            await self._client_rpc(topic[len(topics.RPC_REQUEST):], payload)
        elif topic in gateway_session.TOPICS:
            await self.gateway.dispatch(topic, payload)
        elif topic == topics.CLAIM:
            await self._db(claim.register, payload)
        elif topic.startswith(ota.REQUEST_PREFIXES):
            await ota.request(self, topic, payload)
        else:  # ThingsBoard acknowledges and ignores a topic it does not serve (counted in the rate limits)
            await self._db(device_api.unknown_topic)
            self._dropped(f"message to {topic[:80]!r} dropped: no topic of the device API")

    async def _db(self, fn, *args):
        """``fn(device, *args)`` in a database thread, with the device as it is now (Gone when it is not)."""
        return await self.server.db(self._with_device, fn, args)

    def _with_device(self, fn, args):
        device = auth.current(self.identity)
        if device is None:
            raise Gone()
        return fn(device, *args)

    async def _client_rpc(self, request_id: str, payload: bytes) -> None:
        """A client-side call: the rule engine's "rpc call reply" answers it on the response topic (none in
        CLIENT_RPC_TIMEOUT_S: nothing, as ThingsBoard's MQTT transport)."""
        if not request_id or len(request_id) > 64 or "/" in request_id:
            raise device_api.BadPayload("an RPC request topic ends with the request's id")
        if self._client_calls >= MAX_CLIENT_CALLS:
            raise device_api.BadPayload(f"{MAX_CLIENT_CALLS} client-side RPC calls wait for their answers already")
        key = device_api.client_rpc_key(self.device, self.session_id, request_id)
        waiter = await self.server.db(waits.arm, key)
        try:
            message = await self._db(device_api.client_rpc_message, self.session_id, request_id, payload)
            await self.server.db(outbox.queue, message)
        except BaseException:
            waits.disarm(waiter)
            raise
        self._client_calls += 1
        self._spawn(self._answer_client_rpc(waiter, request_id))

    async def _answer_client_rpc(self, waiter, request_id: str) -> None:
        try:
            if await waiter.wait_async(CLIENT_RPC_TIMEOUT_S):
                body = waiter.payload
                await self.push(topics.RPC_RESPONSE + request_id, body.encode() if isinstance(body, str) else b"{}")
        finally:
            self._client_calls -= 1
            waits.disarm(waiter)

    # --- what the server pushes: pushes.py, gateway_session.py ------------------------------------

    async def _send(self, data: bytes, *, large: bool = False) -> None:
        """Write ``data``; ConnectionError once closed or when more than the server's ``max_buffer`` bytes wait
        to be sent (the connection is aborted), TimeoutError when the device reads none of it in time. ``large``
        (a whole OTA file, ota.py): written in slices of the largest packet, each drained in that time before the
        next, so that no more than the transport's high-water mark and a slice wait; the other writes wait for
        its end (over ``max_buffer`` of them: aborted as well)."""
        while self._large is not None:
            self._held += len(data)
            try:
                self._bounded(self._held)
                await self._large.wait()
            finally:
                self._held -= len(data)
        if not large:
            return await self._write(data, bounded=True)
        self._large, step, view = asyncio.Event(), self.server.max_bytes, memoryview(data)
        try:
            for start in range(0, len(view), step):
                await self._write(view[start:start + step], bounded=False)
        finally:
            self._large.set()
            self._large = None

    async def _write(self, data, bounded: bool) -> None:
        if self.writer.is_closing():
            raise ConnectionError("the connection is closed")
        self.writer.write(data)
        if bounded:
            self._bounded(self.writer.transport.get_write_buffer_size())
        await asyncio.wait_for(self.writer.drain(), self.keepalive * 1.5 if self.keepalive else DRAIN_S)

    def _bounded(self, waiting: int) -> None:
        if waiting > self.server.max_buffer:
            log.info("device MQTT: %s reads too slowly (over %d bytes wait to be sent): disconnected",
                     self._who(), self.server.max_buffer)
            self.writer.transport.abort()
            raise ConnectionError("the device reads too slowly")

    def _spawn(self, coroutine) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            error = task.exception()
            if not isinstance(error, (ConnectionError, TimeoutError, Gone)):
                log.error("device MQTT: %s: %r", self._who(), error)
            asyncio.get_running_loop().create_task(self.close())

    def _who(self) -> str:
        return f"device {self.device.pk} (session {self.session_id[:8]})" if self.device else "a connection"

