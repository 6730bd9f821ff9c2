"""The AMQP consumer behind the RABBITMQ integration: aio-pika, one connection at a time.

- Every connection attempt opens a fresh connection (aio-pika's robust reconnect is not used:
  a delivery tag belongs to its channel, and a message must never be acknowledged on another).
  The listener reconnects with exponential back-off and jitter, as the MQTT listener does.
- Messages are consumed with manual acknowledgement. Each one is handed to the batcher and
  acknowledged only after the batch holding it was durably queued; a batch the queue refuses is
  retried (it stays unacknowledged meanwhile). When the listener stops first, the message is
  rejected with ``requeue``; when the connection dropped, the broker requeues it by itself.
- The prefetch window (``PREFETCH``) bounds what is in flight, and so a batch.
- Downlinks go out on the same channel with publisher confirms and ``mandatory``: a downlink
  that no queue takes is an error, not a silent drop.
"""

import asyncio
import logging
import random
import re
from functools import partial

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from integrations.listeners.batching import NotAcknowledged, UplinkBatcher
from integrations.messages import Downlink, RawUplink
from integrations.types.base import IntegrationError
from tbproject.clock import now_ms

__all__ = ["RabbitMqListener", "probe", "address"]

log = logging.getLogger(__name__)

BACKOFF_MIN, BACKOFF_MAX = 1.0, 30.0
PREFETCH = 1000
STOP_TIMEOUT = 5.0
PUBLISH_TIMEOUT = 10.0
PERMANENT = ("ProbableAuthenticationError", "AuthenticationError", "ChannelAccessRefused",
             "ChannelNotFoundEntity")
CONTENT_TYPES = {"JSON": "application/json", "TEXT": "text/plain", "BINARY": "application/octet-stream"}
_PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")


def address(config) -> str:
    cc = config.clientConfiguration
    return f"{cc.host}:{cc.port}{cc.virtualHost if cc.virtualHost.startswith('/') else '/' + cc.virtualHost}"


async def _connect(config, name: str = "tbproject-integration-check") -> aio_pika.abc.AbstractConnection:
    cc = config.clientConfiguration
    timeout = (cc.connectionTimeout + cc.handshakeTimeout) / 1000
    return await asyncio.wait_for(
        aio_pika.connect(host=cc.host, port=cc.port, login=cc.username, password=cc.password,
                         virtualhost=cc.virtualHost, timeout=timeout, client_properties={"connection_name": name}),
        timeout)


async def _close(connection) -> None:
    if connection is None:
        return
    try:
        await asyncio.wait_for(connection.close(), 2.0)
    except Exception as exc:  # a broken connection: nothing left to save
        log.debug("closing RabbitMQ connection: %s", exc)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, IntegrationError):
        return exc.message
    text = str(exc) or type(exc).__name__
    if type(exc).__name__ in ("ProbableAuthenticationError", "AuthenticationError"):
        text = f"authentication refused (wrong username or password?): {text}"
    return text


def _describe(where: str, exc: BaseException) -> tuple[str, bool]:
    return f"Failed to connect to RabbitMQ at {where}: {_reason(exc)}", type(exc).__name__ in PERMANENT


async def probe(config) -> None:
    """Connect with ``config``, check that ``exchangeName`` exists, disconnect; IntegrationError if not."""
    connection = None
    try:
        connection = await _connect(config)
        channel = await connection.channel()
        if config.clientConfiguration.exchangeName:
            await channel.get_exchange(config.clientConfiguration.exchangeName, ensure=True)
    except Exception as exc:
        message, permanent = _describe(address(config), exc)
        raise IntegrationError(message, permanent=permanent) from None
    finally:
        await _close(connection)


class RabbitMqListener:
    """One integration's consumer. ``sink`` is the host's UplinkSink (types/base.py)."""

    def __init__(self, config, sink, *, metadata: dict[str, str], integration_id: str):
        self.config, self.sink = config, sink
        self.integration_id, self.metadata = integration_id, dict(metadata)
        self.address = address(config)
        self.batcher = UplinkBatcher(sink, on_error=lambda error: sink.report(error=error, method="queue"))
        self.connected = asyncio.Event()
        self._connection = None
        self._channel = None
        self._exchange = None
        self._task: asyncio.Task | None = None
        self._handlers = 0
        self._handlers_done = asyncio.Event()
        self.stop_timeout = STOP_TIMEOUT

    async def start(self) -> None:
        self.batcher.start()
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"rabbitmq-{self.integration_id}")

    async def stop(self) -> None:
        """Queue and acknowledge what was received (requeue the rest), then disconnect. Idempotent."""
        if self._task is None:
            return
        task, self._task = self._task, None
        await self.batcher.close(self.stop_timeout)
        if self._handlers:  # let the handlers send their acks and rejects
            self._handlers_done.clear()
            try:
                await asyncio.wait_for(self._handlers_done.wait(), 2.0)
            except TimeoutError:
                pass
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await _close(self._connection)
        self._connection = self._channel = self._exchange = None
        self.connected.clear()

    async def _run(self) -> None:
        delay = BACKOFF_MIN
        while True:
            lost = asyncio.Event()
            connection = None
            try:
                connection = await _connect(self.config, f"tbproject-integration-{self.integration_id}")
                connection.close_callbacks.add(lambda *args, lost=lost: lost.set())
                await self._consume(connection)
            except asyncio.CancelledError:
                await _close(connection)
                raise
            except Exception as exc:
                message, permanent = _describe(self.address, exc)
                log.warning("%s (retrying in %.0f s)", message, delay)
                self.sink.report(connected=False, error=message)
                await _close(connection)
                self._channel = self._exchange = None
                await asyncio.sleep(delay * random.uniform(0.8, 1.2))
                delay = min(delay * 2, BACKOFF_MAX * (4 if permanent else 1))
                continue
            self._connection = connection
            delay = BACKOFF_MIN
            self.connected.set()
            self.sink.report(connected=True, error="")
            await lost.wait()
            self.connected.clear()
            self._channel = self._exchange = None
            log.warning("connection to RabbitMQ at %s lost; reconnecting", self.address)
            self.sink.report(connected=False, error=f"Connection to RabbitMQ at {self.address} lost")
            await _close(connection)
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))

    async def _consume(self, connection) -> None:
        cc = self.config.clientConfiguration
        channel = await connection.channel(on_return_raises=True)
        await channel.set_qos(prefetch_count=PREFETCH)
        exchange = await channel.get_exchange(cc.exchangeName, ensure=True) if cc.exchangeName else None
        self._channel, self._exchange = channel, exchange
        for name in cc.queue_names:
            queue = await channel.declare_queue(name, durable=cc.durable, exclusive=cc.exclusive,
                                                auto_delete=cc.autoDelete)
            if exchange is not None:
                await queue.bind(exchange, routing_key=name)
            await queue.consume(partial(self._on_message, channel, name), no_ack=False)

    async def _on_message(self, channel, queue: str, message: AbstractIncomingMessage) -> None:
        metadata = {**self.metadata, "queue": queue, "exchange": message.exchange or "",
                    "routingKey": message.routing_key or ""}
        for key, value in (("contentType", message.content_type), ("messageId", message.message_id),
                           ("correlationId", message.correlation_id)):
            if value:
                metadata[key] = str(value)
        uplink = RawUplink(self.integration_id, message.body, metadata, now_ms(), _content_type(message))
        self._handlers += 1
        try:
            try:
                await self.batcher.add(uplink)
            except NotAcknowledged:
                if not channel.is_closed:
                    await message.reject(requeue=True)
                return
            if channel is self._channel and not channel.is_closed:
                await message.ack()
            # else: the channel it came on is gone; the broker has requeued it
        except Exception as exc:  # the channel died under us: the broker requeues unacknowledged messages
            log.debug("RabbitMQ acknowledgement failed: %s", exc)
        finally:
            self._handlers -= 1
            if not self._handlers:
                self._handlers_done.set()

    async def publish(self, downlink: Downlink) -> None:
        cc = self.config.clientConfiguration
        routing_key = _resolve(cc.downlinkTopic, downlink.metadata)
        if not routing_key:
            raise IntegrationError("RabbitMQ integration has no downlinkTopic to publish to", permanent=True)
        channel = self._channel
        if channel is None or channel.is_closed or not self.connected.is_set():
            raise IntegrationError(f"RabbitMQ at {self.address} is not connected")
        exchange = self._exchange or channel.default_exchange
        message = aio_pika.Message(downlink.payload, delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                                   content_type=CONTENT_TYPES.get(downlink.content_type, "application/octet-stream"))
        try:
            await exchange.publish(message, routing_key=routing_key, mandatory=True, timeout=PUBLISH_TIMEOUT)
        except aio_pika.exceptions.DeliveryError as exc:
            reply = getattr(getattr(exc, "message", None), "reply_text", None) or "not routed to any queue"
            raise IntegrationError(f"RabbitMQ at {self.address} did not take the downlink for routing key "
                                   f"{routing_key!r} on exchange {cc.exchangeName or '(default)'!r}: {reply}") from None
        except Exception as exc:
            raise IntegrationError(f"Publishing to RabbitMQ at {self.address} failed: {_reason(exc)}") from None


def _resolve(pattern: str, metadata: dict[str, str]) -> str:
    def value(match):
        key = match.group(1)
        if key not in metadata:
            raise IntegrationError(f"downlinkTopic {pattern!r} needs metadata {key!r}, which the encoder did not "
                                   "return", permanent=True)
        return str(metadata[key])

    return _PLACEHOLDER.sub(value, pattern or "")


def _content_type(message: AbstractIncomingMessage) -> str:
    kind = (message.content_type or "").lower()
    if "json" in kind:
        return "JSON"
    if kind.startswith("text/"):
        return "TEXT"
    body = message.body
    if body[:1] in (b"{", b"["):
        return "JSON"
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return "BINARY"
    return "TEXT"
