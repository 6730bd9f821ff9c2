"""The listener of the cloud-queue types (AZURE_EVENT_HUB, AZURE_SERVICE_BUS, TUYA): one loop
over a *message source*, the adapter boundary between this project and a vendor's client.

A source connects, receives batches and settles them; the listener owns everything else:
back-off and status reports, batching into the pipeline and the at-least-once rule.

    class MessageSource(Protocol):
        async def run(self, handle, connected) -> None:
            '''Connect; call connected() once receiving; then for every batch received call
            ``ok = await handle([Received, ...])`` and settle the batch (complete, accept,
            checkpoint) only when ``ok``; when not, give the batch back (abandon, release, no
            checkpoint) and return. Raise IntegrationError (``permanent`` for refused
            credentials) when the connection fails; return when it was closed.'''
        async def close(self) -> None: '''Idempotent; unblocks run().'''
        async def check(self) -> None: '''Connect and look (the connection check); settle nothing.'''

    class MessageSender(Protocol):
        async def send(self, downlink: Downlink) -> None: '''IntegrationError when not sent.'''
        async def close(self) -> None

``handle`` returns True only once every message of the batch is durably queued; a listener
stopped before that returns False, so the batch is never settled and the source redelivers it
(a listener that dies settles nothing at all: the same).
"""

import asyncio
import datetime
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from integrations.listeners.attempts import Backoff
from integrations.listeners.batching import NotAcknowledged
from integrations.listeners.mqtt import _content_type as _sniffed
from integrations.listeners.reconnecting import ReconnectingListener
from integrations.messages import Downlink, RawUplink
from integrations.types.base import IntegrationError
from tbproject.clock import now_ms

__all__ = ["Received", "SourceListener", "amqp_metadata", "as_bytes", "content_type_of", "describe_error"]

log = logging.getLogger(__name__)

BACKOFF_MIN, BACKOFF_MAX = 1.0, 30.0


@dataclass(slots=True)
class Received:
    """One message from a source: its body and the transport's metadata (strings)."""

    payload: bytes
    metadata: dict[str, str] = field(default_factory=dict)
    content_type: str = ""  # the message's own content type, when it has one
    #: why it can never be read (undecryptable ...): recorded as a failure event, then settled
    error: str = ""


def as_bytes(body) -> bytes:
    """An AMQP body as bytes: data sections joined, text as UTF-8, other values as JSON."""
    if body is None:
        return b""
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, (list, tuple)) and body and all(isinstance(b, (bytes, bytearray, memoryview)) for b in body):
        return b"".join(bytes(b) for b in body)
    if hasattr(body, "__iter__") and not isinstance(body, (dict, list, tuple)):
        return b"".join(as_bytes(part) for part in body)
    return json.dumps(body, default=_plain, separators=(",", ":")).encode("utf-8")


def _plain(value):
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "backslashreplace")
    if isinstance(value, datetime.datetime):
        return int(value.timestamp() * 1000)
    if isinstance(value, uuid.UUID):
        return str(value)
    return str(value)


def _text(value) -> str:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "backslashreplace")
    if isinstance(value, datetime.datetime):
        return str(int(value.timestamp() * 1000))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=_plain)
    return str(value)


def amqp_metadata(application_properties=None, annotations=None, **properties) -> dict[str, str]:
    """Uplink metadata from an AMQP message: application properties by their names, message
    annotations by theirs (``x-opt-sequence-number``, ``iothub-connection-device-id``, ...), and
    the given standard properties (``messageId=...``) where set. Every value as a string."""
    out: dict[str, str] = {}
    for source in (annotations or {}, application_properties or {}):
        for key, value in source.items():
            if value is not None:
                out[_text(key)] = _text(value)
    for key, value in properties.items():
        if value not in (None, b"", ""):
            out[key] = _text(value)
    return out


def content_type_of(payload: bytes, declared: str = "") -> str:
    """JSON, TEXT or BINARY: the message's own content type first, else a look at the bytes."""
    declared = (declared or "").lower()
    if "json" in declared:
        return "JSON"
    if declared.startswith("text/"):
        return "TEXT"
    return _sniffed(payload)


def describe_error(what: str, exc: BaseException) -> tuple[str, bool]:
    """(message, permanent) for a failure of ``what`` (e.g. "Azure Service Bus at ns/topic")."""
    if isinstance(exc, IntegrationError):
        return exc.message, exc.permanent
    if isinstance(exc, TimeoutError):
        return f"Failed to connect to {what}: timed out", False
    return f"Failed to connect to {what}: {str(exc) or type(exc).__name__}", False


class SourceListener(ReconnectingListener):
    """One integration's consumer over a message source (module docstring).

    Subclasses name ``what`` (for messages) and build the source and the downlink sender from
    the configuration: ``make_source()``, ``make_sender()``.
    """

    name = "source"
    what = "the message source"

    def __init__(self, config, sink, *, metadata: dict[str, str], integration_id: str):
        super().__init__(config, sink, metadata=metadata, integration_id=integration_id)
        self.settled = 0  # messages queued in the pipeline, so settled (acknowledged) at the source
        self._source = None
        self._sender = None
        self._handling = 0

    def make_source(self):
        raise NotImplementedError

    def make_sender(self):
        raise IntegrationError(f"{self.what} has no downlink", permanent=True)

    async def _wind_down(self, task: asyncio.Task) -> None:
        for _ in range(100):  # a batch in hand is queued or refused by now: let the source settle it
            if not self._handling:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.05)
        await _close(self._source)  # unblocks run()
        await self._finish(task)

    async def _closed(self) -> None:
        await _close(self._sender)
        self._source = self._sender = None

    async def _run(self, first) -> None:
        backoff = Backoff(BACKOFF_MIN, BACKOFF_MAX)
        while not self._stopping:
            source = None
            try:
                self._source = source = self.make_source()
                await source.run(self._handle, self._on_connected)
                if self._stopping:
                    return
                message, permanent = f"Connection to {self.what} lost", False
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self._stopping:
                    return
                message, permanent = describe_error(self.what, exc)
            if self.connected.is_set():
                backoff.reset()
            self._failed(backoff, message)
            await _close(source)
            await backoff.sleep(permanent)

    def _on_connected(self) -> None:
        self.connected.set()
        self.sink.report(connected=True, error="")

    async def _handle(self, batch: list[Received]) -> bool:
        """True once every message of ``batch`` is durably queued (then the source settles it)."""
        if self._stopping:
            return False
        self._handling += 1
        try:
            return await self._hand_on(batch)
        finally:
            self._handling -= 1

    async def _hand_on(self, batch: list[Received]) -> bool:
        received_ts = now_ms()
        for bad in (r for r in batch if r.error):
            self.sink.dropped({**self.metadata, **bad.metadata}, bad.payload, bad.error)
        try:
            futures = [self.batcher.add(RawUplink(self.integration_id, r.payload, {**self.metadata, **r.metadata},
                                                  received_ts, content_type_of(r.payload, r.content_type)))
                       for r in batch if not r.error]
        except NotAcknowledged:
            return False
        outcomes = await asyncio.gather(*futures, return_exceptions=True)
        if any(isinstance(o, BaseException) for o in outcomes):
            return False
        self.settled += len(batch)
        return True

    async def publish(self, downlink: Downlink) -> None:
        if self._sender is None:
            self._sender = self.make_sender()
        await self._sender.send(downlink)


async def _close(closable) -> None:
    if closable is None:
        return
    try:
        await asyncio.wait_for(closable.close(), 5.0)
    except Exception as exc:  # a broken connection: nothing left to save
        log.debug("closing %s: %s", type(closable).__name__, exc)


def probe_with(factory: Callable, timeout: float = 15.0):
    """A connection check from a source factory: open, see it receive (or fail), close."""

    async def probe(config) -> None:
        source = factory(config)
        try:
            await asyncio.wait_for(source.check(), timeout)
        except TimeoutError:
            raise IntegrationError(f"Failed to connect to {source.what}: timed out") from None
        finally:
            await _close(source)

    return probe
