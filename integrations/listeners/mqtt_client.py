"""gmqtt's client as the MQTT listener (integrations/listeners/mqtt.py) uses it.

- no reconnect of its own: the listener reconnects with a fresh client and back-off;
- each QoS 1 publish's PUBACK reported (gmqtt 0.8 has no per-message acknowledgement);
- received QoS 1 messages taken synchronously, without gmqtt's task per message, and
  acknowledged in one write per loop turn once queued (``take_qos1``, ``puback``).
"""

import asyncio
import socket
import time
from collections import deque

from gmqtt import Client, Message
from gmqtt.mqtt.constants import MQTTCommands, MQTTv50
from gmqtt.mqtt.package import CommandWithMidPacket, PublishPacket

from integrations.types.base import IntegrationError

__all__ = ["_Client", "_Puback"]


class _Client(Client):
    """gmqtt's client without its own reconnect: MqttListener reconnects with a fresh client.

    It also reports each QoS 1 publish's PUBACK (gmqtt 0.8 has no per-message acknowledgement),
    and takes received QoS 1 messages without gmqtt's task per message (:meth:`take_qos1`)."""

    _acks: dict | None = None
    _pubacks: list | None = None
    _outgoing: list | None = None
    #: (loop time, future) of the publishes that fail unless acknowledged by then, and its timer
    _deadlines: deque | None = None
    _expiry: asyncio.TimerHandle | None = None

    def take_qos1(self, on_publish) -> None:
        """Received QoS 1 messages go to ``on_publish(client, mid, topic, payload)``, synchronously.

        gmqtt runs an async ``on_message`` as a task per message and sends its PUBACK from the
        task's done-callback: 60% of runintegrations' CPU at MQTT rates was that machinery
        (docs/performance.md). Here the listener queues the message and calls :meth:`puback`
        once its batch is queued; the PUBACKs of a batch leave in one write."""
        handler, state = self._package_handler, self._package_handler._connection_state
        packet_of = handler._handle_packet

        def qos1(mid, payload, topic, properties):
            on_publish(self, mid, topic, payload)

        def packet(cmd, data):  # MQTT 3.1.1 QoS 1 PUBLISH (no properties): parsed here, the rest by gmqtt
            if cmd & 0xF6 != 0x32 or state.protocol_version >= MQTTv50:
                return packet_of(cmd, data)
            end = 2 + int.from_bytes(data[:2], "big")
            try:
                topic = data[2:end].decode()
            except UnicodeDecodeError:
                return packet_of(cmd, data)
            if not topic or len(data) < end + 2:
                return packet_of(cmd, data)
            on_publish(self, int.from_bytes(data[end:end + 2], "big"), topic, data[end + 2:])
            handler._last_msg_in = time.monotonic()

        handler._handle_qos_1_publish_packet = qos1
        handler._handle_packet = packet

    def quick_acks(self) -> None:
        """Acknowledge at once every TCP segment the broker sends (TCP_QUICKACK after each read;
        Linux only, nothing elsewhere). A broker with Nagle's algorithm on (Mosquitto's default,
        ``set_tcp_nodelay false``) holds the PUBACKs of a publish window until the first one's
        segment is acknowledged, and Linux delays that ACK by 40 ms: a window of 16 downlinks ran
        at 360-570 messages/s against 9,000-19,000 with this (docs/performance.md)."""
        option = getattr(socket, "TCP_QUICKACK", None)
        connection = self._connection
        if option is None or connection is None or connection._transport is None:
            return
        sock = connection._transport.get_extra_info("socket")
        if sock is None:
            return
        protocol = connection._protocol
        received = protocol.data_received

        def data_received(data):
            try:
                sock.setsockopt(socket.IPPROTO_TCP, option, 1)  # quick-ACK mode ends on its own: set it per read
            except OSError:
                pass
            received(data)

        protocol.data_received = data_received

    def puback(self, mid: int) -> None:
        """Acknowledge received message ``mid`` with the other PUBACKs of this loop turn."""
        if self._pubacks is None:
            self._pubacks = []
        if not self._pubacks:
            asyncio.get_running_loop().call_soon(self._send_pubacks)
        self._pubacks.append(mid)

    def _send_pubacks(self) -> None:
        mids, self._pubacks = self._pubacks, []
        connection = self._connection
        if not mids or connection is None or not self.is_connected:
            return  # the connection is gone: the broker delivers these again (never acknowledged)
        protocol = connection._protocol
        build, puback, version = CommandWithMidPacket.build_package, MQTTCommands.PUBACK, protocol.proto_ver
        protocol.write_data(b"".join([build(puback, mid, False, proto_ver=version) for mid in mids]))

    async def reconnect(self, delay=False):
        return None

    def publish_acked(self, topic: str, payload: bytes, *, retain: bool = False,
                      timeout: float | None = None) -> asyncio.Future:
        """Publish with QoS 1; the future resolves on the broker's PUBACK, fails if the connection
        drops, and with TimeoutError when no PUBACK came within ``timeout`` seconds.

        The publishes of one loop turn leave in one write (a send() per message was a fifth of a
        listener host's CPU per downlink), as the PUBACKs of received messages do. The timeouts
        share one timer (:meth:`_expire`): ``asyncio.wait_for`` per publish made a future and a
        timer each (docs/performance.md, "The downlink host's timers")."""
        if self._acks is None:
            self._acks = {}
        mid, package = PublishPacket.build_package(Message(topic, payload, qos=1, retain=retain),
                                                   self._connection._protocol)
        if not self._outgoing:
            self._outgoing = []
            asyncio.get_running_loop().call_soon(self._send_publishes)
        self._outgoing.append(package)
        self._persistent_storage.push_message(mid, package)
        future = asyncio.get_running_loop().create_future()
        self._acks[mid] = future
        if timeout is not None:
            self._expire(future, timeout)
        return future

    def _expire(self, future: asyncio.Future, timeout: float) -> None:
        """Fail ``future`` with TimeoutError ``timeout`` seconds from now unless it is done by then.

        Deadlines are kept in the order they were set, so a caller keeps one timeout (the
        listener's PUBLISH_TIMEOUT); the futures already done at the front are dropped as new
        ones come, so the queue holds about the send window."""
        loop = asyncio.get_running_loop()
        deadlines = self._deadlines
        if deadlines is None:
            deadlines = self._deadlines = deque()
        while deadlines and deadlines[0][1].done():
            deadlines.popleft()
        deadlines.append((loop.time() + timeout, future))
        if self._expiry is None:
            self._expiry = loop.call_at(deadlines[0][0], self._expire_due)

    def _expire_due(self) -> None:
        self._expiry = None
        loop, deadlines = asyncio.get_running_loop(), self._deadlines
        now = loop.time()
        while deadlines:
            when, future = deadlines[0]
            if not future.done():
                if when > now:
                    self._expiry = loop.call_at(when, self._expire_due)
                    return
                future.set_exception(TimeoutError())
            deadlines.popleft()

    def _send_publishes(self) -> None:
        packages, self._outgoing = self._outgoing, None
        connection = self._connection
        if packages and connection is not None:  # gone: fail_unacknowledged fails their futures
            connection._protocol.write_data(b"".join(packages))

    def _remove_message_from_queue(self, mid):
        super()._remove_message_from_queue(mid)
        future = self._acks.pop(mid, None) if self._acks else None
        if future is not None and not future.done():
            future.set_result(None)

    def fail_unacknowledged(self, reason: str) -> None:
        acks, self._acks = self._acks or {}, {}
        for future in acks.values():
            if not future.done():
                future.set_exception(IntegrationError(reason))
                future.exception()  # retrieved: its publisher may already have given up


class _Puback:
    """Stands for a future in the batcher: "queued" sends the message's PUBACK, a failure nothing."""

    __slots__ = ("client", "mid")

    def __init__(self, client: _Client, mid: int):
        self.client, self.mid = client, mid

    def done(self) -> bool:
        return False

    def set_result(self, result) -> None:
        self.client.puback(self.mid)

    def set_exception(self, exc=None) -> None:  # not queued: never acknowledged, the broker delivers it again
        pass

    exception = set_exception
