"""The real AMQP 1.0 peer of the Azure tests: the machine's RabbitMQ (127.0.0.1:5672) with its
rabbitmq_amqp1_0 plugin, driven by python-qpid-proton (a generic AMQP 1.0 client).

Each test has its own queues (random names, deleted afterwards); a test that needs the broker to
drop its connection goes through a TCP relay (``Proxy``) that cuts it, so no one else's
connections are touched. Tests skip, saying why, where the broker or its AMQP 1.0 plugin is
missing; CI installs the broker and enables the plugin (.ci/run).
"""

import socket
import threading
import uuid
from functools import cache

import aio_pika
import proton
import pytest
from proton.utils import BlockingConnection

from integrations.types.base import run_sync

__all__ = ["HOST", "PORT", "needs_amqp10", "Peer", "Proxy", "peer", "proxy"]

HOST, PORT = "127.0.0.1", 5672


@cache
def _unavailable() -> str:
    try:
        BlockingConnection(f"amqp://{HOST}:{PORT}", user="guest", password="guest", allowed_mechs="PLAIN",
                           timeout=5).close()
    except Exception as exc:
        return (f"no AMQP 1.0 broker at {HOST}:{PORT} ({exc}); apt-get install rabbitmq-server, "
                "rabbitmq-plugins enable rabbitmq_amqp1_0")
    return ""


def needs_amqp10():
    reason = _unavailable()
    if reason:
        pytest.skip(reason)


async def _queue_op(queue: str, delete: bool = False) -> int:
    """Message count of ``queue`` (0 when it does not exist), or delete it: over AMQP 0-9-1,
    which RabbitMQ serves on the same port."""
    async with await aio_pika.connect(host=HOST, port=PORT) as connection:
        channel = await connection.channel()
        if delete:
            await channel.queue_delete(queue)
            return 0
        try:
            declared = await channel.declare_queue(queue, passive=True)
        except aio_pika.exceptions.ChannelClosed:
            return 0
        return declared.declaration_result.message_count


class Peer:
    """One test's queues on the broker (user guest; the connection string's key is its password)."""

    user, password = "guest", "guest"

    def __init__(self):
        self.queues: list[str] = []

    def queue(self, prefix: str = "tbaz") -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:10]}"
        self.queues.append(name)
        return name

    def connection_string(self, entity: str = "", *, password: str | None = None, port: int = PORT) -> str:
        text = (f"Endpoint=amqp://{HOST}:{port}/;SharedAccessKeyName={self.user};"
                f"SharedAccessKey={self.password if password is None else password}")
        return f"{text};EntityPath={entity}" if entity else text

    def _connect(self) -> BlockingConnection:
        return BlockingConnection(f"amqp://{HOST}:{PORT}", user="guest", password="guest", allowed_mechs="PLAIN",
                                  timeout=10)

    def send(self, queue: str, messages) -> None:
        """``messages``: proton Messages or bytes, to /queue/<queue> (declared durable if new)."""
        connection = self._connect()
        try:
            sender = connection.create_sender(f"/queue/{queue}")
            for message in messages:
                sender.send(message if isinstance(message, proton.Message) else proton.Message(body=message))
        finally:
            connection.close()

    def receive(self, queue: str, count: int, timeout: float = 5.0) -> list[tuple[proton.Message, bytes]]:
        """Take ``count`` messages (accepting them) as (message, body bytes)."""
        connection = self._connect()
        try:
            receiver = connection.create_receiver(f"/queue/{queue}", credit=count)
            out = []
            for _ in range(count):
                message = receiver.receive(timeout=timeout)
                out.append((message, bytes(message.body) if message.body is not None else b""))
                receiver.accept()
            return out
        finally:
            connection.close()

    def count(self, queue: str) -> int:
        return run_sync(lambda: _queue_op(queue))

    def cleanup(self) -> None:
        for queue in self.queues:
            run_sync(lambda queue=queue: _queue_op(queue, delete=True))


class Proxy:
    """A TCP relay in front of the broker: ``drop()`` cuts every connection through it, as a
    broker restart or a network failure does, without disturbing anyone else's connections."""

    def __init__(self):
        self._server = socket.create_server((HOST, 0))
        self.port = self._server.getsockname()[1]
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def active(self) -> int:
        with self._lock:
            return len(self._pairs)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.create_connection((HOST, PORT))
            with self._lock:
                self._pairs.append((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        self._forget(src, dst)

    def _forget(self, *sockets) -> None:
        with self._lock:
            self._pairs = [p for p in self._pairs if p[0] not in sockets and p[1] not in sockets]
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def drop(self) -> int:
        with self._lock:
            pairs = list(self._pairs)
        for pair in pairs:
            self._forget(*pair)
        return len(pairs)

    def close(self) -> None:
        self._server.close()
        self.drop()


@pytest.fixture
def proxy():
    made = Proxy()
    yield made
    made.close()


@pytest.fixture
def peer():
    needs_amqp10()
    made = Peer()
    yield made
    made.cleanup()
