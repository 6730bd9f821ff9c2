"""The MQTT client behind the MQTT integration: gmqtt, one connection at a time, never lossy.

- Every connection attempt uses a fresh gmqtt client; gmqtt's own reconnect loop is switched
  off (it retries at a fixed delay and would acknowledge on a newer connection what arrived on
  an older one). The listener reconnects with exponential back-off and jitter.
- Topic filters are subscribed in ``on_connect`` (gmqtt does not resubscribe by itself).
- Automatic acknowledgement is off: a QoS 1/2 message is acknowledged (PUBACK/PUBREC) only
  after the batch holding it came back from the pipeline's queue. A message not yet queued
  when the connection drops or the listener stops is never acknowledged, so the broker
  delivers it again - on reconnect, or to the host that takes the integration over - as long
  as the session survives (``cleanSession: false``; MQTT discards a clean session, and with it
  unacknowledged messages, when the connection closes).
- Messages larger than ``maxBytesInMessage`` are acknowledged and dropped with a failure event.
- Downlinks (:meth:`MqttListener.publish`) go out with QoS 1 on the same connection, at most
  SEND_WINDOW unacknowledged at once (gmqtt raises OverflowError past the broker's Receive
  Maximum), each awaited until its PUBACK: the caller marks a downlink delivered only then.
"""

import asyncio
import logging
import random
import uuid
from functools import partial

from gmqtt import Subscription
from gmqtt.mqtt.constants import MQTTv50, MQTTv311

from integrations.listeners.batching import NotAcknowledged, UplinkBatcher
from integrations.listeners.mqtt_client import _Client, _Puback
from integrations.listeners.tls import client_ssl_context
from integrations.messages import RawUplink
from integrations.types.base import IntegrationError
from tbproject.clock import now_ms

__all__ = ["MqttListener", "probe", "PROTOCOLS"]

log = logging.getLogger(__name__)

#: ThingsBoard's protocolVersion -> gmqtt's. gmqtt has no MQTT 3.1 ("MQIsdp"): 3.1.1 is sent,
#: which every broker that still speaks 3.1 also accepts.
PROTOCOLS = {None: MQTTv311, "MQTT_3_1": MQTTv311, "MQTT_3_1_1": MQTTv311, "MQTT_5": MQTTv50}
BACKOFF_MIN, BACKOFF_MAX = 1.0, 30.0
KEEPALIVE = 60
#: MQTT 5: how long the broker keeps a non-clean session (and its unacknowledged messages) after
#: the connection drops. MQTT 3.1.1 keeps it until the next clean connect.
SESSION_EXPIRY = 7 * 24 * 3600
#: MQTT 5: unacknowledged QoS 1/2 messages the broker may send at once. MQTT 3.1.1 leaves this
#: to the broker (Mosquitto: max_inflight_messages, 20). It bounds a batch.
RECEIVE_MAXIMUM = 1000
#: Refusals that no retry fixes (bad credentials, not authorised), in 3.1.1 and 5 codes.
PERMANENT_REFUSALS = {4, 5, 134, 135, 138, 140}
STOP_TIMEOUT = 5.0
#: Downlinks published and not yet acknowledged at once: below Mosquitto's Receive Maximum (20),
#: past which gmqtt raises OverflowError (DESIGN.md section 9), with room for a SUBSCRIBE.
SEND_WINDOW = 16
PUBLISH_TIMEOUT = 10.0
#: Topics whose uplink metadata a listener keeps (one dict per topic, shared by its uplinks).
TOPIC_METADATA_CACHE = 10_000


def _content_type(payload: bytes) -> str:
    """A cheap hint for debug events: JSON-looking, other UTF-8, or binary."""
    if payload[:1] in (b"{", b"["):
        return "JSON"
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError:
        return "BINARY"
    return "TEXT"


def _quiet_not_acknowledged(loop: asyncio.AbstractEventLoop) -> None:
    """gmqtt sends the acknowledgement from a done-callback of the message handler; a handler
    refuses one by raising NotAcknowledged, which would otherwise be logged as an error."""
    previous = loop.get_exception_handler()
    if getattr(previous, "quiet_not_acknowledged", False):
        return

    def handler(loop, context):
        if isinstance(context.get("exception"), NotAcknowledged):
            return
        if previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    handler.quiet_not_acknowledged = True
    loop.set_exception_handler(handler)


def _new_client(config, client_id: str, **callbacks) -> _Client:
    cc = config.clientConfiguration
    properties = {}
    if PROTOCOLS[cc.protocolVersion] == MQTTv50:
        properties["receive_maximum"] = RECEIVE_MAXIMUM
        if not cc.cleanSession:
            properties["session_expiry_interval"] = SESSION_EXPIRY
    client = _Client(client_id, clean_session=cc.cleanSession, optimistic_acknowledgement=False,
                     **properties)
    if cc.credentials.type == "basic" and cc.credentials.username:
        client.set_auth_credentials(cc.credentials.username, cc.credentials.password or None)
    for name, callback in callbacks.items():
        setattr(client, name, callback)
    return client


async def _connect(client: _Client, config) -> None:
    cc = config.clientConfiguration
    try:
        context = client_ssl_context(cc.credentials) if cc.ssl else False
    except ValueError as exc:
        raise IntegrationError(str(exc), permanent=True) from None
    await asyncio.wait_for(
        client.connect(cc.host, cc.port, ssl=context, keepalive=KEEPALIVE, version=PROTOCOLS[cc.protocolVersion]),
        cc.connectTimeoutSec,
    )
    client.quick_acks()


async def _close(client: _Client) -> None:
    """Close a client's connection: with DISCONNECT when it is up, silently when it is not."""
    try:
        if client.is_connected:
            await asyncio.wait_for(client.disconnect(), 2.0)
        else:
            # gmqtt 0.8 has nothing public for "close without writing to a dead socket"
            client._is_active = False
            if client._connection is not None:
                await asyncio.wait_for(client._connection.close(), 2.0)
    except Exception as exc:  # closing a broken connection: nothing left to save
        log.debug("closing MQTT connection: %s", exc)


def _describe(address: str, exc: BaseException) -> tuple[str, bool]:
    code = getattr(exc, "_code", None)
    if isinstance(exc, TimeoutError):
        reason = "timed out"
    elif isinstance(exc, IntegrationError):
        reason = exc.message
    else:
        reason = str(exc) or type(exc).__name__
    permanent = code in PERMANENT_REFUSALS or getattr(exc, "permanent", False)
    return f"Failed to connect to MQTT broker at {address}: {reason}", permanent


async def probe(config) -> None:
    """Connect once with ``config`` and disconnect; raise IntegrationError with the reason.

    A random client id is used so that the probe cannot push a running integration's
    connection off the broker.
    """
    cc = config.clientConfiguration
    clean = config.model_copy(update={"clientConfiguration": cc.model_copy(update={"cleanSession": True})})
    client = _new_client(clean, f"tb-check-{uuid.uuid4().hex[:12]}")
    try:
        await _connect(client, config)
    except Exception as exc:
        message, permanent = _describe(f"{cc.host}:{cc.port}", exc)
        raise IntegrationError(message, permanent=permanent) from None
    finally:
        await _close(client)


class MqttListener:
    """One integration's subscription. ``sink`` is the host's UplinkSink (types/base.py)."""

    def __init__(self, config, sink, *, client_id: str, metadata: dict[str, str], integration_id: str):
        cc = config.clientConfiguration
        self.config, self.sink, self.client_id = config, sink, client_id
        self.integration_id, self.metadata = integration_id, dict(metadata)
        #: topic -> the metadata its uplinks share (read-only here; the worker decodes a copy per uplink)
        self._topic_metadata: dict[str, dict[str, str]] = {}
        self.address = f"{cc.host}:{cc.port}"
        self.batcher = UplinkBatcher(sink, on_error=lambda error: sink.report(error=error, method="queue"))
        self._client: _Client | None = None
        self._lost = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._handlers = 0
        self._handlers_done = asyncio.Event()
        self.connected = asyncio.Event()
        self.stop_timeout = STOP_TIMEOUT
        self._window = asyncio.Semaphore(SEND_WINDOW)

    async def start(self) -> None:
        _quiet_not_acknowledged(asyncio.get_running_loop())
        self.batcher.start()
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"mqtt-{self.integration_id}")

    async def stop(self) -> None:
        """Queue and acknowledge what was received, then disconnect. Idempotent."""
        if self._task is None:
            return
        task, self._task = self._task, None
        await self.batcher.close(self.stop_timeout)
        if self._handlers:  # let the handlers return, so that gmqtt sends their acknowledgements
            self._handlers_done.clear()
            try:
                await asyncio.wait_for(self._handlers_done.wait(), 1.0)
            except TimeoutError:
                pass
        for _ in range(3):  # gmqtt acknowledges from the handlers' done-callbacks, a few loop turns later
            await asyncio.sleep(0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        if self._client is not None:
            await _close(self._client)
            self._client = None
        self.connected.clear()

    async def _run(self) -> None:
        delay = BACKOFF_MIN
        while True:
            self._lost = asyncio.Event()
            client = _new_client(self.config, self.client_id, on_connect=self._on_connect,
                                 on_message=self._on_message, on_disconnect=partial(self._on_disconnect, self._lost),
                                 on_subscribe=self._on_subscribe)
            client.take_qos1(self._on_qos1)
            self._client = client
            try:
                await _connect(client, self.config)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                message, permanent = _describe(self.address, exc)
                log.warning("%s (retrying in %.0f s)", message, delay)
                self.sink.report(connected=False, error=message)
                await _close(client)
                await asyncio.sleep(delay * random.uniform(0.8, 1.2))
                delay = min(delay * 2, BACKOFF_MAX * (4 if permanent else 1))
                continue
            delay = BACKOFF_MIN
            self.connected.set()
            self.sink.report(connected=True, error="")
            await self._lost.wait()
            self.connected.clear()
            log.warning("connection to MQTT broker at %s lost; reconnecting", self.address)
            self.sink.report(connected=False, error=f"Connection to MQTT broker at {self.address} lost")
            await _close(client)
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))

    # --- gmqtt callbacks ---------------------------------------------------------------------

    def _on_connect(self, client, flags, rc, properties) -> None:
        subscriptions = [Subscription(f.filter, qos=f.qos) for f in self.config.topicFilters]
        client.subscribe(subscriptions)

    def _on_subscribe(self, client, mid, granted, properties) -> None:
        refused = [f.filter for f, qos in zip(self.config.topicFilters, granted, strict=False) if qos >= 0x80]
        if refused:
            self.sink.report(error=f"MQTT broker at {self.address} refused subscriptions: {', '.join(refused)}",
                             method="subscribe")

    def _on_disconnect(self, lost: asyncio.Event, client, packet, exc=None) -> None:
        lost.set()
        client.fail_unacknowledged(f"Connection to MQTT broker at {self.address} lost before the PUBACK")

    async def publish(self, topic: str, payload: bytes, *, timeout: float = PUBLISH_TIMEOUT) -> None:
        """Publish one downlink with QoS 1 through the send window; returns on the broker's PUBACK.

        Raises IntegrationError (retryable) when not connected, when the connection drops first
        or when no PUBACK comes within ``timeout``."""
        async with self._window:
            client = self._client
            if client is None or not self.connected.is_set() or not client.is_connected:
                raise IntegrationError(f"Not connected to MQTT broker at {self.address}")
            try:
                future = client.publish_acked(topic, payload, timeout=timeout)
            except OverflowError:  # the broker's Receive Maximum is below the window
                raise IntegrationError(f"Too many unacknowledged publishes to MQTT broker at {self.address}") from None
            try:
                await future
            except TimeoutError:
                raise IntegrationError(f"No PUBACK from MQTT broker at {self.address} within {timeout:.0f} s") from None

    def _uplink(self, topic: str, payload: bytes) -> RawUplink | None:
        """The uplink of a received message, or None when it is too large (dropped, acknowledged).

        The uplinks of one topic share one metadata dict, as the Kafka listener's do: queue.encode
        then writes it once per batch instead of once per message (0.9 us a message here)."""
        metadata = self._topic_metadata.get(topic)
        if metadata is None:
            if len(self._topic_metadata) >= TOPIC_METADATA_CACHE:
                self._topic_metadata.clear()  # per-device topics: keep the recent ones only
            metadata = self._topic_metadata[topic] = {**self.metadata, "topic": topic}
        limit = self.config.clientConfiguration.maxBytesInMessage
        if len(payload) > limit:
            self.sink.dropped(metadata, payload[:1024],
                              f"Message of {len(payload)} bytes is larger than maxBytesInMessage ({limit})")
            return None  # acknowledged: redelivering it would be dropped again
        return RawUplink(self.integration_id, payload, metadata, now_ms(), _content_type(payload))

    def _on_qos1(self, client: _Client, mid: int, topic: str, payload: bytes) -> None:
        """A QoS 1 message (gmqtt's handler calls this, see _Client.take_qos1): PUBACK once queued."""
        if client is not self._client:
            return  # a superseded connection: never acknowledged
        uplink = self._uplink(topic, payload)
        if uplink is None:
            client.puback(mid)
            return
        try:
            self.batcher.add_waiter(uplink, _Puback(client, mid))
        except NotAcknowledged:  # stopping: never acknowledged
            pass

    async def _on_message(self, client, topic: str, payload: bytes, qos: int, properties) -> int:
        if client is not self._client:
            raise NotAcknowledged("message of a superseded connection")
        uplink = self._uplink(topic, payload)
        if uplink is None:
            return 0
        if qos == 0:  # nobody acknowledges it, so nobody waits for it
            if not self.batcher.offer(uplink) and self.batcher.dropped % 1000 == 1:
                log.warning("MQTT integration %s: queue unavailable, %d QoS 0 messages dropped so far",
                            self.integration_id, self.batcher.dropped)
            return 0
        self._handlers += 1
        try:
            await self.batcher.add(uplink)
        finally:
            self._handlers -= 1
            if not self._handlers:
                self._handlers_done.set()
        if client is not self._client or not client.is_connected:
            raise NotAcknowledged("the connection it came on is gone")
        return 0

