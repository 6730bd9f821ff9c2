"""The consumer behind the KAFKA integration: aiokafka, one consumer-group member at a time.

- Auto-commit is off. Each poll (``getmany``) hands its records to the batcher; the offsets are
  committed only after every record of the poll was durably queued, per partition up to the
  first record that was not (the listener stopped first). What is not committed is read again
  by the group's next member: at least once, duplicates possible.
- A commit the group refuses (a rebalance moved the partition) is logged and skipped: the new
  owner starts from the last committed offset, so it re-reads those records, nothing is lost.
- A failure to bootstrap (wrong or unreachable ``bootstrapServers``) or a consumer error is
  reported to the integration's status and retried with exponential back-off and jitter.
- Downlinks go through one producer (acks=all) opened beside the consumer.
"""

import asyncio
import logging

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import (
    AuthenticationFailedError,
    AuthenticationMethodNotSupported,
    KafkaError,
    SaslAuthenticationFailed,
    UnsupportedSaslMechanismError,
)

from integrations.listeners.attempts import FIRST_ATTEMPT_WAIT, Backoff, FirstAttempt
from integrations.listeners.batching import NotAcknowledged
from integrations.listeners.mqtt import _content_type
from integrations.listeners.reconnecting import ReconnectingListener
from integrations.messages import Downlink, RawUplink
from integrations.types.base import IntegrationError
from tbproject.clock import now_ms

__all__ = ["KafkaListener", "probe", "address"]

log = logging.getLogger(__name__)

BACKOFF_MIN, BACKOFF_MAX = 1.0, 30.0
MAX_RECORDS = 1000
PROBE_TIMEOUT = 10.0
PUBLISH_TIMEOUT = 10.0
#: while no records come, the cluster's metadata is asked for this often (a lost broker shows in the status)
HEALTH_CHECK_SECONDS, HEALTH_CHECK_TIMEOUT = 5.0, 5.0


def address(config) -> str:
    return ",".join(config.clientConfiguration.servers)


def _reason(exc: BaseException, sasl: bool = False) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, IntegrationError):
        return exc.message
    if _refused(exc, sasl):
        return f"SASL authentication failed (wrong username or password?): {str(exc) or type(exc).__name__}"
    return str(exc) or type(exc).__name__


def _refused(exc: BaseException, sasl: bool) -> bool:
    """The broker refused our credentials: retrying soon will not help (a permanent error).
    aiokafka's SCRAM exchange fails with a KeyError when the server's final message carries an
    error instead of its signature."""
    refusals = (SaslAuthenticationFailed, UnsupportedSaslMechanismError, AuthenticationFailedError,
                AuthenticationMethodNotSupported)
    return isinstance(exc, refusals) or (sasl and isinstance(exc, KeyError))


def _describe(where: str, exc: BaseException, sasl: bool = False) -> str:
    return f"Failed to connect to Kafka at {where}: {_reason(exc, sasl)}"


def _consumer(config, *, probing: bool = False) -> AIOKafkaConsumer:
    cc = config.clientConfiguration
    options = {"request_timeout_ms": int(PROBE_TIMEOUT * 1000), **cc.consumer_options()}
    max_records = options.pop("max_records", MAX_RECORDS)
    if probing:  # no group, no subscription: only bootstrap and metadata
        return AIOKafkaConsumer(bootstrap_servers=cc.servers, client_id=cc.clientId, enable_auto_commit=False,
                                **options)
    consumer = AIOKafkaConsumer(*cc.topic_names, bootstrap_servers=cc.servers, group_id=cc.groupId,
                                client_id=cc.clientId, enable_auto_commit=False, **options)
    consumer.max_records = max_records
    return consumer


async def _stop(client) -> None:
    if client is None:
        return
    try:
        await asyncio.wait_for(client.stop(), 5.0)
    except Exception as exc:  # a broken connection: nothing left to save
        log.debug("closing Kafka client: %s", exc)


async def probe(config) -> None:
    """Bootstrap from ``bootstrapServers`` and list the topics; IntegrationError if it cannot."""
    consumer = _consumer(config, probing=True)
    try:
        await asyncio.wait_for(consumer.start(), PROBE_TIMEOUT + 2)
        await asyncio.wait_for(consumer.topics(), PROBE_TIMEOUT)
    except Exception as exc:
        sasl = config.clientConfiguration.uses_sasl
        raise IntegrationError(_describe(address(config), exc, sasl), permanent=_refused(exc, sasl)) from None
    finally:
        await _stop(consumer)


class KafkaListener(ReconnectingListener):
    """One integration's group member. ``start()`` raises IntegrationError when the broker refuses
    our credentials at once (the host records a FAILED lifecycle event with the reason and tries
    again later)."""

    name = "kafka"
    first_attempt_wait = FIRST_ATTEMPT_WAIT

    def __init__(self, config, sink, *, metadata: dict[str, str], integration_id: str):
        super().__init__(config, sink, metadata=metadata, integration_id=integration_id)
        self.address = address(config)
        self.committed = 0  # records whose offsets were committed
        self._producer: AIOKafkaProducer | None = None
        self._polling = False

    async def _wind_down(self, task: asyncio.Task) -> None:
        if not self._polling:  # let it commit what was queued
            await self._finish(task)

    async def _run(self, first: FirstAttempt) -> None:
        backoff = Backoff(BACKOFF_MIN, BACKOFF_MAX)
        while not self._stopping:
            consumer = producer = None
            try:
                consumer = _consumer(self.config)
                await consumer.start()
                cc = self.config.clientConfiguration
                producer = AIOKafkaProducer(bootstrap_servers=cc.servers, client_id=cc.clientId, acks="all",
                                            request_timeout_ms=int(PUBLISH_TIMEOUT * 1000), **cc.security_options())
                await producer.start()
                self._producer = producer
                self._up()
                first.connected()
                backoff.reset()
                await self._consume(consumer)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                sasl = self.config.clientConfiguration.uses_sasl
                message = _describe(self.address, exc, sasl)
                first.failed(message, _refused(exc, sasl))
                self._failed(backoff, message)
                self._producer = None
                await _stop(producer)
                await _stop(consumer)
                producer = consumer = None
                await backoff.sleep()  # not longer after a refusal: start() reported it
            finally:
                if producer is not None or consumer is not None:
                    self._producer = None
                    await asyncio.shield(_stop_both(producer, consumer))

    async def _consume(self, consumer: AIOKafkaConsumer) -> None:
        poll_ms = max(self.config.clientConfiguration.pollInterval, 100)
        checked = asyncio.get_running_loop().time()
        while not self._stopping:
            self._polling = True
            try:
                polled = await consumer.getmany(timeout_ms=poll_ms, max_records=consumer.max_records)
            finally:
                self._polling = False
            if not polled:
                now = asyncio.get_running_loop().time()
                if now - checked >= HEALTH_CHECK_SECONDS:
                    checked = now
                    await self._check_health(consumer)
                continue
            self._up()  # records came: the broker is back (reported when it was down)
            handed = [(tp, record) for tp, records in polled.items() for record in records]
            outcomes = await self._hand_on(record for _, record in handed)
            offsets, refused = {}, set()
            for (tp, record), queued in zip(handed, outcomes, strict=True):
                offset = record.offset
                if tp in refused:
                    continue
                if queued:
                    offsets[tp] = offset + 1
                else:
                    refused.add(tp)
            if offsets:
                try:
                    await consumer.commit(offsets)
                    self.committed += sum(1 for tp, record in handed if record.offset < offsets.get(tp, -1))
                except KafkaError as exc:  # rebalanced (CommitFailedError, IllegalStateError): the
                    # partition's new owner starts from the last commit and reads them again
                    log.warning("Kafka at %s refused the commit; the records will be read again: %s",
                                self.address, exc)
            if refused:
                return

    async def _check_health(self, consumer: AIOKafkaConsumer) -> None:
        """aiokafka reconnects on its own and says nothing of a broker it lost: while no records
        come, ask the cluster for its metadata now and then, so the status tells the truth."""
        try:
            await asyncio.wait_for(consumer._client.fetch_all_metadata(), HEALTH_CHECK_TIMEOUT)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if self.connected.is_set():
                message = f"Lost the connection to Kafka at {self.address}: {_reason(exc)}"
                log.warning("%s (the client keeps retrying)", message)
                self._down(message)
            return
        self._up()

    async def _hand_on(self, records) -> list[bool]:
        """Hand a poll's records to the batcher; once each is queued or refused, which were queued.
        One future for the poll, not a future and a task per record (those were a third of the
        listener's CPU per record)."""
        poll = _Poll(asyncio.get_running_loop())
        base, topic_metadata = self.metadata, {}
        for record in records:
            payload = record.value or b""
            metadata = topic_metadata.get(record.topic)
            if metadata is None:
                metadata = topic_metadata[record.topic] = {**base, "topic": record.topic}
            if record.key is not None:
                metadata = {**metadata, "key": record.key.decode("utf-8", "backslashreplace")}
            uplink = RawUplink(self.integration_id, payload, metadata, now_ms(), _content_type(payload))
            waiter = poll.waiter()
            try:
                self.batcher.add_waiter(uplink, waiter)
            except NotAcknowledged:
                waiter.set_exception()
        return await poll.settled()

    async def publish(self, downlink: Downlink) -> None:
        topic = downlink.metadata.get("topic") or self.config.clientConfiguration.downlinkTopic
        if not topic:
            raise IntegrationError("Kafka downlink has no topic: the encoder returned no metadata.topic and "
                                   "the integration has no downlinkTopic", permanent=True)
        producer = self._producer
        if producer is None or not self.connected.is_set():
            raise IntegrationError(f"Kafka at {self.address} is not connected")
        key = downlink.metadata.get("key")
        try:
            await asyncio.wait_for(producer.send_and_wait(
                topic, downlink.payload, key=str(key).encode() if key not in (None, "") else None), PUBLISH_TIMEOUT)
        except (KafkaError, TimeoutError, OSError) as exc:
            raise IntegrationError(f"Publishing to Kafka at {self.address} topic {topic!r} failed: "
                                   f"{_reason(exc)}") from None


class _Poll:
    """One poll's records in the batcher: each record's waiter says whether it was queued;
    :meth:`settled` resolves once every one was told."""

    __slots__ = ("records", "left", "future")

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.records: list[_Record] = []
        self.left = 0
        self.future = loop.create_future()

    def waiter(self) -> "_Record":
        record = _Record(self)
        self.records.append(record)
        self.left += 1
        return record

    def told(self) -> None:
        self.left -= 1
        if not self.left and not self.future.done():
            self.future.set_result(None)

    async def settled(self) -> list[bool]:
        if self.left:
            await self.future
        return [record.queued is True for record in self.records]


class _Record:
    """Stands for a future in the batcher (its ``add_waiter``): ``queued`` is None until told."""

    __slots__ = ("poll", "queued")

    def __init__(self, poll: _Poll):
        self.poll, self.queued = poll, None

    def done(self) -> bool:
        return self.queued is not None

    def set_result(self, result=None) -> None:
        self._tell(True)

    def set_exception(self, exc=None) -> None:
        self._tell(False)

    def exception(self):
        return None

    def _tell(self, queued: bool) -> None:
        if self.queued is None:
            self.queued = queued
            self.poll.told()


async def _stop_both(producer, consumer) -> None:
    await _stop(producer)
    await _stop(consumer)
