"""The consumer behind the APACHE_PULSAR integration: the official pulsar-client, asyncio API.

- One client and one Shared consumer of all ``topics`` at a time. The C++ client keeps the
  connection up by itself (a broker restart is a reconnect inside it, redelivering what was not
  acknowledged); a watcher turns its connection state into the integration's status. A failed
  subscribe, or a consumer that fails, starts over with a new client after a back-off.
- Each received message goes to the batcher and is acknowledged only once its batch was durably
  queued; one that was not (the listener stopped first) is negatively acknowledged. The window
  (``maxNumMessages``, ``maxNumBytes``) bounds what is received and not yet acknowledged.
- Before the client is built, the service URL's first reachable host is looked for over TCP: the
  C++ client answers a refused connection only with a timeout, so this names the cause.
- Downlinks go through one producer per topic, made on first use on the same client.
"""

import asyncio
import logging
import os

import pulsar
from pulsar import asyncio as pulsar_asyncio

from integrations.listeners.attempts import Backoff, FirstAttempt
from integrations.listeners.batching import NotAcknowledged
from integrations.listeners.client import ClientListener
from integrations.listeners.mqtt import _content_type
from integrations.messages import Downlink, RawUplink
from integrations.types.base import IntegrationError
from integrations.types.pulsar import endpoints
from tbproject.clock import now_ms

__all__ = ["PulsarListener", "probe", "address"]

log = logging.getLogger(__name__)
client_log = logging.getLogger("pulsar.client")

OPERATION_TIMEOUT = 10  # seconds: subscribe, lookups, producer creation
CONNECT_TIMEOUT = 5.0
PUBLISH_TIMEOUT = 10.0
WATCH_EVERY = 1.0
PERMANENT = {"AuthenticationError", "AuthorizationError", "ErrorGettingAuthenticationData", "InvalidTopicName",
             "InvalidUrl", "InvalidConfiguration", "NotAllowedError", "TopicNotFound", "SubscriptionNotFound"}


def address(config) -> str:
    return config.clientConfiguration.serviceUrl


def _reason(exc: BaseException) -> tuple[str, bool]:
    """What went wrong, and whether retrying the same configuration can help."""
    if isinstance(exc, IntegrationError):
        reason, permanent = exc.message, exc.permanent
    elif isinstance(exc, pulsar_asyncio.PulsarException):
        code = exc.error().name
        reason, permanent = code + (f": {exc}" if str(exc) not in ("", code) else ""), code in PERMANENT
        if code in ("AuthenticationError", "AuthorizationError"):
            reason = f"the broker refused the credentials ({code})"
    elif isinstance(exc, TimeoutError):
        reason, permanent = "timed out", False
    else:
        reason, permanent = str(exc) or type(exc).__name__, False
    return reason, permanent


def _describe(where: str, exc: BaseException) -> tuple[str, bool]:
    reason, permanent = _reason(exc)
    return f"Failed to connect to Pulsar at {where}: {reason}", permanent


async def _reachable(service_url: str) -> None:
    """Return once one host of the URL accepts a TCP connection; IntegrationError naming why none does."""
    reasons = []
    for host, port in endpoints(service_url):
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), CONNECT_TIMEOUT)
        except TimeoutError:
            reasons.append(f"{host}:{port} did not answer within {CONNECT_TIMEOUT:.0f} s")
            continue
        except OSError as exc:
            # asyncio words a refusal "Connect call failed (...)"; the errno says what it was
            reasons.append(f"{host}:{port} {os.strerror(exc.errno).lower() if exc.errno else exc}")
            continue
        writer.close()
        return
    raise IntegrationError("; ".join(reasons))


def _client(config) -> pulsar_asyncio.Client:
    cc = config.clientConfiguration
    options = {"operation_timeout_seconds": OPERATION_TIMEOUT, "connection_timeout_ms": int(CONNECT_TIMEOUT * 1000),
               "logger": client_log}
    if cc.credentials.type == "token":
        options["authentication"] = pulsar.AuthenticationToken(cc.credentials.token)
    return pulsar_asyncio.Client(cc.serviceUrl.strip(), **options)


async def _close(client) -> None:
    if client is None:
        return
    try:
        await asyncio.wait_for(client.close(), 5.0)
    except Exception as exc:  # already closed or a broken connection: nothing left to save
        log.debug("closing the Pulsar client: %s", exc)


async def probe(config) -> None:
    """Reach the broker and look every topic up; IntegrationError if that fails. Subscribes to nothing."""
    client = None
    try:
        await _reachable(config.clientConfiguration.serviceUrl)
        client = _client(config)
        for topic in config.clientConfiguration.topic_names:
            await asyncio.wait_for(client.get_topic_partitions(topic), OPERATION_TIMEOUT + 2)
    except Exception as exc:
        message, permanent = _describe(address(config), exc)
        raise IntegrationError(message, permanent=permanent) from None
    finally:
        await _close(client)


class _Window:
    """What is received and not yet acknowledged: at most ``count`` messages and ``size`` bytes
    (a single larger message still passes, alone)."""

    def __init__(self, count: int, size: int):
        self.free, self.size, self.used = count, size, 0
        self._changed = asyncio.Event()

    async def take(self, nbytes: int) -> None:
        while self.free <= 0 or (self.used and self.used + nbytes > self.size):
            self._changed.clear()
            await self._changed.wait()
        self.free -= 1
        self.used += nbytes

    def give(self, nbytes: int) -> None:
        self.free += 1
        self.used -= nbytes
        self._changed.set()


class PulsarListener(ClientListener):
    """One integration's consumer. ``sink`` is the host's UplinkSink (types/base.py)."""

    name = "pulsar"
    #: redelivery delay of a negatively acknowledged message (the client's default is 60 s)
    nack_delay_ms = 1000
    #: the longest pause between connection attempts (the test after a killed consumer shortens it)
    retry_ceiling = 30.0

    def __init__(self, config, sink, *, metadata: dict[str, str], integration_id: str):
        cc = config.clientConfiguration
        super().__init__(config, sink, metadata=metadata, integration_id=integration_id, address=address(config),
                         max_batch=cc.maxNumMessages, linger=cc.timeoutInMs / 1000)
        self._client = None
        self._producers: dict[str, pulsar_asyncio.Producer] = {}
        self._window = _Window(cc.maxNumMessages, cc.maxNumBytes)

    async def _closed(self) -> None:
        client, self._client, self._producers = self._client, None, {}
        await _close(client)

    async def _run(self, first: FirstAttempt) -> None:
        backoff = Backoff(high=self.retry_ceiling)
        while True:
            client = None
            try:
                await _reachable(self.address)
                client = _client(self.config)
                consumer = await self._subscribe(client)
            except asyncio.CancelledError:
                await _close(client)
                raise
            except Exception as exc:
                message, permanent = _describe(self.address, exc)
                self._attempt_failed(first, message, permanent)
                await _close(client)
                await backoff.sleep(permanent)
                continue
            self._client, self._producers = client, {}
            self._up()
            first.connected()
            backoff.reset()
            try:
                await self._consume_and_watch(consumer)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the consumer failed for good: start over with a new client
                message, _ = _describe(self.address, exc)
                log.warning("%s (reconnecting)", message)
                self._down(message)
                self._client, self._producers = None, {}
                await _close(client)
                await backoff.sleep()

    async def _subscribe(self, client):
        cc = self.config.clientConfiguration
        names = cc.topic_names
        return await client.subscribe(
            names[0] if len(names) == 1 else names, cc.subscriptionName, consumer_type=pulsar.ConsumerType.Shared,
            receiver_queue_size=min(cc.maxNumMessages, 1000), negative_ack_redelivery_delay_ms=self.nack_delay_ms,
            consumer_name=f"tbproject-{self.integration_id}")

    async def _consume_and_watch(self, consumer) -> None:
        watcher = asyncio.get_running_loop().create_task(self._watch(consumer))
        try:
            while True:
                message = await consumer.receive()
                payload = message.data() or b""
                await self._window.take(len(payload))
                self._handle(self._hand_on(consumer, message, payload))
        finally:
            watcher.cancel()

    async def _watch(self, consumer) -> None:
        """Report the C++ client's own reconnects: connection lost, and back."""
        up = True
        while True:
            await asyncio.sleep(WATCH_EVERY)
            # the asyncio wrapper does not expose it; the wrapped consumer does
            now = consumer._consumer.is_connected()
            if now == up:
                continue
            up = now
            if up:
                self._up()
            else:
                self._down(f"Connection to Pulsar at {self.address} lost; reconnecting")

    async def _hand_on(self, consumer, message, payload: bytes) -> None:
        metadata = {**self.metadata, "topic": message.topic_name()}
        if message.partition_key():
            metadata["key"] = message.partition_key()
        uplink = RawUplink(self.integration_id, payload, metadata, now_ms(), _content_type(payload))
        try:
            await self.batcher.add(uplink)
        except NotAcknowledged:
            await _settle(consumer.negative_acknowledge(message))
            return
        finally:
            self._window.give(len(payload))
        if await _settle(consumer.acknowledge(message)):
            self.acknowledged += 1

    async def publish(self, downlink: Downlink) -> None:
        cc = self.config.clientConfiguration
        topic = str(downlink.metadata.get("topic") or cc.downlinkTopic)
        if not topic:
            raise IntegrationError("Pulsar downlink has no topic: the encoder returned no metadata.topic and the "
                                   "integration has no downlinkTopic", permanent=True)
        client = self._client
        if client is None or not self.connected.is_set():
            raise IntegrationError(f"Pulsar at {self.address} is not connected")
        key = downlink.metadata.get("key")
        properties = {str(k): str(v) for k, v in downlink.metadata.items() if k not in ("topic", "key")}
        try:
            producer = self._producers.get(topic)
            if producer is None:
                producer = await asyncio.wait_for(client.create_producer(
                    topic, send_timeout_millis=int(PUBLISH_TIMEOUT * 1000)), OPERATION_TIMEOUT + 2)
                self._producers[topic] = producer
            await asyncio.wait_for(producer.send(downlink.payload, properties=properties or None,
                                                 partition_key=str(key) if key not in (None, "") else None),
                                   PUBLISH_TIMEOUT)
        except (pulsar_asyncio.PulsarException, TimeoutError) as exc:
            self._producers.pop(topic, None)
            reason, permanent = _reason(exc)
            raise IntegrationError(f"Publishing to Pulsar at {self.address} topic {topic!r} failed: {reason}",
                                   permanent=permanent) from None


async def _settle(acknowledgement) -> bool:
    """Send an (negative) acknowledgement; False when the consumer is gone (the broker redelivers)."""
    try:
        await acknowledgement
        return True
    except Exception as exc:
        log.debug("Pulsar acknowledgement failed: %s", exc)
        return False
