"""The subscriber behind the PUB_SUB integration: Google's google-cloud-pubsub, streaming pull.

- Google's client runs the stream in threads of its own and retries a broken stream by itself;
  its callback hands each message to this loop (``call_soon_threadsafe``), where it goes to the
  batcher and is acknowledged once its batch was durably queued (``nack`` when the listener
  stopped first). Flow control (``MAX_MESSAGES``, ``MAX_BYTES``) bounds what is held unacknowledged.
- Before pulling, and then every ``HEALTH_EVERY`` seconds, the subscription is looked up: that
  names what the stream's own retries hide (unknown project or subscription, refused
  credentials, an unreachable endpoint) in the integration's status. A stream that ends with an
  error (the subscription was deleted) is started again after a back-off.
- Downlinks are published with one publisher client per listener, made on first use.
"""

import asyncio
import logging
from functools import partial

from google.api_core import exceptions as google_errors
from google.auth import exceptions as auth_errors
from google.cloud import pubsub_v1

from integrations.listeners.attempts import Backoff, FirstAttempt
from integrations.listeners.batching import NotAcknowledged
from integrations.listeners.client import ClientListener
from integrations.listeners.mqtt import _content_type
from integrations.messages import Downlink, RawUplink
from integrations.types.base import IntegrationError
from integrations.types.pubsub import load_key
from tbproject.clock import now_ms

__all__ = ["PubSubListener", "probe", "address"]

log = logging.getLogger(__name__)

CALL_TIMEOUT = 10.0
PUBLISH_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0  # seconds a cancelled stream may take to close
HEALTH_EVERY = 10.0
MAX_MESSAGES, MAX_BYTES = 1000, 10 * 1024 * 1024
RESERVED = ("ordering_key", "retry", "timeout")
PERMANENT = (google_errors.NotFound, google_errors.PermissionDenied, google_errors.Unauthenticated,
             google_errors.InvalidArgument, auth_errors.RefreshError, auth_errors.DefaultCredentialsError)


def address(config) -> str:
    return config.clientConfiguration.subscription_path


def _reason(exc: BaseException) -> tuple[str, bool]:
    """What went wrong, and whether retrying the same configuration can help."""
    if isinstance(exc, IntegrationError):
        return exc.message, exc.permanent
    if isinstance(exc, google_errors.NotFound):
        return "not found (check the project id and the subscription id)", True
    if isinstance(exc, (google_errors.PermissionDenied, google_errors.Unauthenticated, auth_errors.RefreshError)):
        return f"the service account was refused: {getattr(exc, 'message', None) or exc}", True
    if isinstance(exc, google_errors.GoogleAPICallError):
        return f"{exc.code.name if exc.code else type(exc).__name__}: {exc.message}", isinstance(exc, PERMANENT)
    if isinstance(exc, TimeoutError):
        return "timed out", False
    return str(exc) or type(exc).__name__, isinstance(exc, PERMANENT)


def _describe(where: str, exc: BaseException) -> tuple[str, bool]:
    reason, permanent = _reason(exc)
    return f"Failed to subscribe to Pub/Sub {where}: {reason}", permanent


def _client(kind, config):
    """A SubscriberClient or PublisherClient with the key's credentials (the emulator's environment
    variable makes Google's client use none)."""
    try:
        credentials = load_key(config.clientConfiguration.serviceAccountKey)
    except ValueError as exc:
        raise IntegrationError(str(exc), permanent=True) from None
    return kind(credentials=credentials)


def _look_up(subscriber, config) -> None:
    """Raise why the subscription cannot be read. A key with only the Pub/Sub Subscriber role (what
    ThingsBoard asks for) may pull but not look subscriptions up: that refusal is not an error here;
    the stream itself says whether pulling is allowed."""
    try:
        # one try (the client's default retries UNAVAILABLE for a minute): the loop here retries
        subscriber.get_subscription(subscription=config.clientConfiguration.subscription_path, retry=None,
                                    timeout=CALL_TIMEOUT)
    except google_errors.PermissionDenied as exc:
        log.debug("cannot look up %s (%s); the stream will tell", config.clientConfiguration.subscription_path, exc)


async def probe(config) -> None:
    """Load the key and look the subscription up; IntegrationError if either fails."""
    subscriber = None
    try:
        subscriber = _client(pubsub_v1.SubscriberClient, config)
        await asyncio.to_thread(_look_up, subscriber, config)
    except Exception as exc:
        message, permanent = _describe(address(config), exc)
        raise IntegrationError(message, permanent=permanent) from None
    finally:
        if subscriber is not None:
            await asyncio.to_thread(subscriber.close)


class PubSubListener(ClientListener):
    """One integration's subscriber. ``sink`` is the host's UplinkSink (types/base.py)."""

    name = "pubsub"

    def __init__(self, config, sink, *, metadata: dict[str, str], integration_id: str):
        super().__init__(config, sink, metadata=metadata, integration_id=integration_id, address=address(config))
        self.health_every = HEALTH_EVERY
        self._publisher = None

    async def _closed(self) -> None:
        publisher, self._publisher = self._publisher, None
        if publisher is not None:
            await asyncio.to_thread(publisher.stop)

    async def _run(self, first: FirstAttempt) -> None:
        backoff = Backoff()
        while True:
            subscriber = stream = None
            try:
                subscriber = _client(pubsub_v1.SubscriberClient, self.config)
                await asyncio.to_thread(_look_up, subscriber, self.config)
                ended = asyncio.Event()
                stream = subscriber.subscribe(
                    self.config.clientConfiguration.subscription_path, callback=self._on_message,
                    flow_control=pubsub_v1.types.FlowControl(max_messages=MAX_MESSAGES, max_bytes=MAX_BYTES))
                stream.add_done_callback(lambda _, ended=ended: self._loop.call_soon_threadsafe(ended.set))
                self._up()
                first.connected()
                backoff.reset()
                await self._watch(subscriber, ended)
                stream.result(timeout=0)  # ended: raises why
                raise IntegrationError("the stream ended")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                message, permanent = _describe(self.address, exc)
                self._attempt_failed(first, message, permanent)
                await self._close(subscriber, stream)
                subscriber = stream = None
                await backoff.sleep(permanent)
            finally:
                if stream is not None:
                    await asyncio.shield(self._close(subscriber, stream))

    async def _watch(self, subscriber, ended: asyncio.Event) -> None:
        """Until the stream ends: look the subscription up every ``health_every`` seconds."""
        while not ended.is_set():
            try:
                await asyncio.wait_for(ended.wait(), self.health_every)
                return
            except TimeoutError:
                pass
            try:
                await asyncio.to_thread(_look_up, subscriber, self.config)
            except Exception as exc:
                message, _ = _describe(self.address, exc)
                if self.connected.is_set():
                    log.warning("%s (the stream retries)", message)
                self._down(message)
            else:
                self._up()

    async def _close(self, subscriber, stream) -> None:
        def close():
            if stream is not None:
                stream.cancel()  # what was not acknowledged is redelivered after its deadline
                try:
                    stream.result(timeout=STOP_TIMEOUT)
                except Exception:  # cancelled, or the error that ended it (already reported)
                    pass
            if subscriber is not None:
                subscriber.close()

        await asyncio.to_thread(close)

    def _on_message(self, message) -> None:
        """Google's callback thread: hand over to the loop; a closed loop leaves it unacknowledged."""
        try:
            self._loop.call_soon_threadsafe(self._spawn, message)
        except RuntimeError:
            message.nack()

    def _spawn(self, message) -> None:
        self._handle(self._hand_on(message))

    async def _hand_on(self, message) -> None:
        metadata = {**self.metadata, "pubSubMsgId": message.message_id}
        payload = bytes(message.data)
        uplink = RawUplink(self.integration_id, payload, metadata, now_ms(), _content_type(payload))
        try:
            await self.batcher.add(uplink)
        except NotAcknowledged:
            message.nack()
            return
        message.ack()
        self.acknowledged += 1

    async def publish(self, downlink: Downlink) -> None:
        topic = self.config.clientConfiguration.downlink_topic_path
        if not topic:
            raise IntegrationError("Pub/Sub integration has no downlinkTopicName to publish to", permanent=True)
        try:
            if self._publisher is None:
                self._publisher = _client(pubsub_v1.PublisherClient, self.config)
            # the client takes attributes as keyword arguments, beside three of its own
            attributes = {str(k): str(v) for k, v in downlink.metadata.items() if k not in RESERVED}
            future = self._publisher.publish(topic, downlink.payload, **attributes)
            await asyncio.to_thread(partial(future.result, timeout=PUBLISH_TIMEOUT))
        except Exception as exc:
            reason, permanent = _reason(exc)
            if isinstance(exc, google_errors.NotFound):
                reason = "the topic was not found"
            raise IntegrationError(f"Publishing to Pub/Sub topic {topic} failed: {reason}",
                                   permanent=permanent) from None
