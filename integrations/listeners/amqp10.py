"""A generic AMQP 1.0 message source and sender (python-qpid-proton), behind the source
interface of integrations/listeners/sources.py.

It carries AZURE_EVENT_HUB and AZURE_SERVICE_BUS integrations whose connection string names a
plain AMQP 1.0 broker (``Endpoint=amqp://host:port/`` or ``amqps://``) instead of an Azure
namespace (``sb://``), and it sends Event Hub downlinks to IoT Hub as cloud-to-device messages
(integrations/listeners/azure.py). Proton's blocking API is not thread-safe, so every call of
one connection runs on that connection's own single thread.

- Receiving: a link with ``PREFETCH`` credit; a batch is what arrived (up to ``MAX_BATCH``),
  accepted once queued, released (back to the broker, delivery count unchanged) when not. A
  connection that drops holds only unsettled messages: the broker delivers them again.
- Sending: one connection, opened on first use and again after a failure; a message the broker
  rejects or releases is an error.
"""

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from proton import Message, SSLDomain, Timeout
from proton.utils import BlockingConnection, SendException

from integrations.listeners.sources import Received, as_bytes
from integrations.types.base import IntegrationError

__all__ = ["Endpoint", "Amqp10Source", "Amqp10Sender", "connect"]

log = logging.getLogger(__name__)

PREFETCH = 500
MAX_BATCH = 500
POLL_SECONDS = 0.5
TIMEOUT_SECONDS = 10.0
_AUTH = ("amqp:unauthorized-access", "amqp:unauthorised-access", "sasl", "Authentication failed")


@dataclass(frozen=True)
class Endpoint:
    """Where and as whom to connect: SASL PLAIN with ``user``/``password`` (ANONYMOUS without a user)."""

    host: str
    port: int
    ssl: bool
    user: str = ""
    password: str | Callable[[], str] = ""  # a callable makes a fresh one (a SAS token) per connection
    label: str = ""  # for messages, e.g. "Azure Service Bus at ns/topic"

    @property
    def url(self) -> str:
        return f"{'amqps' if self.ssl else 'amqp'}://{self.host}:{self.port}"

    @property
    def what(self) -> str:
        return self.label or f"the AMQP 1.0 broker at {self.host}:{self.port}"


def connect(endpoint: Endpoint, timeout: float = TIMEOUT_SECONDS) -> BlockingConnection:
    """A blocking connection (call on the connection's own thread); IntegrationError on failure."""
    options = {"allowed_mechs": "PLAIN" if endpoint.user else "ANONYMOUS", "sasl_enabled": True}
    if endpoint.user:
        password = endpoint.password() if callable(endpoint.password) else endpoint.password
        options.update(user=endpoint.user, password=password)
    if endpoint.ssl:
        domain = SSLDomain(SSLDomain.MODE_CLIENT)
        domain.set_peer_authentication(SSLDomain.VERIFY_PEER_NAME)
        options["ssl_domain"] = domain
    try:
        return BlockingConnection(endpoint.url, timeout=timeout, **options)
    except Exception as exc:
        raise failure(endpoint, exc) from None


def failure(endpoint: Endpoint, exc: BaseException, doing: str = "connect to") -> IntegrationError:
    """A clear IntegrationError for a proton failure; refused credentials are permanent."""
    text = str(exc) or type(exc).__name__
    if isinstance(exc, IntegrationError):
        return exc
    if any(marker in text for marker in _AUTH):
        return IntegrationError(f"Failed to {doing} {endpoint.what}: authentication refused (check the shared "
                                f"access key name and key): {text}", permanent=True)
    if isinstance(exc, Timeout):
        text = f"timed out ({text})"
    elif "amqp:not-found" in text:
        return IntegrationError(f"Failed to {doing} {endpoint.what}: not found: {text}", permanent=True)
    return IntegrationError(f"Failed to {doing} {endpoint.what}: {text}")


class _OneThread:
    """Runs the calls of one proton connection in order on one thread of its own."""

    def __init__(self, name: str):
        self._pool = ThreadPoolExecutor(1, thread_name_prefix=name)

    async def __call__(self, func, *args):
        return await asyncio.get_running_loop().run_in_executor(self._pool, func, *args)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False)


class Amqp10Source:
    """Receives from the node ``address``; ``metadata_of(message)`` gives each uplink's metadata."""

    def __init__(self, endpoint: Endpoint, address: str, *, metadata_of: Callable[[Message], dict[str, str]],
                 timeout: float = TIMEOUT_SECONDS):
        self.endpoint, self.address, self.metadata_of, self.timeout = endpoint, address, metadata_of, timeout
        self.what = endpoint.what
        self._thread = _OneThread("amqp10-in")
        self._connection: BlockingConnection | None = None
        self._receiver = None
        self._closed = threading.Event()

    async def run(self, handle, connected) -> None:
        await self._thread(self._open)
        connected()
        while not self._closed.is_set():
            batch = await self._thread(self._fetch)
            if not batch:
                continue
            ok = await handle(batch)
            await self._thread(self._settle, len(batch), ok)
            if not ok:
                return

    async def check(self) -> None:
        """Connect and attach the receiving link (a missing node or refused key fails here)."""
        await self._thread(self._open)

    def _open(self) -> None:
        self._connection = connect(self.endpoint, self.timeout)
        try:
            self._receiver = self._connection.create_receiver(self.address, credit=PREFETCH)
        except Exception as exc:
            raise failure(self.endpoint, exc, f"receive from '{self.address}' at") from None

    def _fetch(self) -> list[Received]:
        receiver, batch = self._receiver, []
        try:
            while len(batch) < MAX_BATCH and not self._closed.is_set():
                if batch and not receiver.fetcher.has_message:
                    break
                message = receiver.receive(timeout=POLL_SECONDS)
                batch.append(Received(_body(message), self.metadata_of(message), str(message.content_type or "")))
        except Timeout:
            pass
        except Exception as exc:
            if self._closed.is_set():
                return []
            raise failure(self.endpoint, exc, f"receive from '{self.address}' at") from None
        return batch

    def _settle(self, count: int, ok: bool) -> None:
        for _ in range(count):
            if ok:
                self._receiver.accept()
            else:
                self._receiver.release(delivered=False)

    async def close(self) -> None:
        self._closed.set()
        try:
            await self._thread(self._close)
        finally:
            self._thread.shutdown()

    def _close(self) -> None:
        connection, self._connection, self._receiver = self._connection, None, None
        if connection is not None:
            try:
                connection.close()
            except Exception as exc:  # already broken
                log.debug("closing AMQP 1.0 connection: %s", exc)


def _body(message: Message) -> bytes:
    return as_bytes(message.body)  # a data body is a view into the message: copy it now


class Amqp10Sender:
    """Sends to the node ``address``; ``prepare(message, downlink)`` may set ``to``, properties ..."""

    def __init__(self, endpoint: Endpoint, address: str, *, prepare: Callable | None = None,
                 timeout: float = TIMEOUT_SECONDS):
        self.endpoint, self.address, self.prepare, self.timeout = endpoint, address, prepare, timeout
        self._thread = _OneThread("amqp10-out")
        self._connection = self._sender = None

    async def send(self, downlink) -> None:
        message = Message(body=downlink.payload, durable=True, content_type=_MIME.get(downlink.content_type,
                                                                                      "application/octet-stream"),
                          properties={str(k): str(v) for k, v in (downlink.metadata or {}).items()})
        if self.prepare is not None:
            self.prepare(message, downlink)
        await self._thread(self._send, message)

    def _send(self, message: Message) -> None:
        if self._sender is None:
            self._connection = connect(self.endpoint, self.timeout)
            try:
                self._sender = self._connection.create_sender(self.address)
            except Exception as exc:
                self._drop()
                raise failure(self.endpoint, exc, f"send to '{self.address}' at") from None
        try:
            self._sender.send(message, timeout=self.timeout)
        except SendException as exc:
            raise IntegrationError(f"{self.endpoint.what} did not take the downlink for '{self.address}' "
                                   f"(delivery state {exc.state})") from None
        except Exception as exc:
            self._drop()
            raise failure(self.endpoint, exc, f"send to '{self.address}' at") from None

    def _drop(self) -> None:
        connection, self._connection, self._sender = self._connection, None, None
        if connection is not None:
            try:
                connection.close()
            except Exception as exc:
                log.debug("closing AMQP 1.0 connection: %s", exc)

    async def close(self) -> None:
        try:
            await self._thread(self._drop)
        finally:
            self._thread.shutdown()


_MIME = {"JSON": "application/json", "TEXT": "text/plain", "BINARY": "application/octet-stream"}
