"""The atomic receive of tbproject/broker.py, against a redis-server of the test's own.

A consumer takes a task message into an in-flight list of its own and records it as
unacknowledged in the same transaction that removes it from there; a consumer that dies in
between (here: SIGKILLed by its own QoS.append, the instant before recording) or a Redis
restarted meanwhile leaves the message in that list, and the restore sweep puts it back once the
list's heartbeat is older than the visibility timeout. Nothing here is mocked: the "death" is a
real process killed at that point.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import uuid
from contextlib import closing, contextmanager

import pytest

from tbproject.broker import INFLIGHT_INDEX, INFLIGHT_PREFIX, INFLIGHT_QUEUES

REDIS_SERVER = shutil.which("redis-server")
TRANSPORT = "tbproject.broker:Transport"
#: short, so that the sweep's staleness is reached in a test
VISIBILITY = 1.0

pytestmark = pytest.mark.skipif(REDIS_SERVER is None, reason="needs redis-server (apt-get install redis-server)")


class RedisServer:
    """A redis-server on a free port, append-only (fsync always) like production's; kill and restart."""

    def __init__(self, directory: str):
        with closing(socket.socket()) as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.argv = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                     "--appendonly", "yes", "--appendfsync", "always", "--dir", directory]
        self.proc = None

    def start(self) -> "RedisServer":
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while True:
            try:
                if self.client().ping():
                    return self
            except Exception:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def client(self):
        import redis

        return redis.Redis(port=self.port)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


@pytest.fixture
def server():
    with tempfile.TemporaryDirectory() as directory:
        started = RedisServer(directory).start()
        try:
            yield started
        finally:
            started.kill()


def connection(server, **options):
    from kombu import Connection

    options = {"visibility_timeout": VISIBILITY, "priority_steps": [0], **options}
    return Connection(server.url, transport=TRANSPORT, transport_options=options)


def publish(server, bodies) -> None:
    """kombu's normal producer, as the web process and the listeners publish task messages."""
    from kombu import Queue

    with connection(server) as conn:
        producer = conn.Producer()
        for body in bodies:
            producer.publish(body, routing_key="celery", declare=[Queue("celery")], serializer="json")


@contextmanager
def consuming(server, received: list, *, ack: bool = False, **options):
    from kombu import Queue

    with connection(server, **options) as conn:
        def on_message(body, message):
            received.append(body)
            if ack:
                message.ack()

        with conn.Consumer([Queue("celery")], callbacks=[on_message], accept=["json"]):
            yield conn


def drain(conn, until, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not until():
        assert time.monotonic() < deadline, "the messages did not arrive"
        try:
            conn.drain_events(timeout=0.2)
        except TimeoutError:
            pass


def inflight(client) -> dict:
    """Each registered in-flight list and what it holds."""
    return {key.decode(): client.lrange(key, 0, -1) for key in client.zrange(INFLIGHT_INDEX, 0, -1)}


def sweep(server) -> None:
    """What the worker's periodic restore runs (kombu's unacked restore, with the in-flight sweep)."""
    with connection(server) as conn:
        conn.default_channel.qos.restore_visible(num=None, interval=1)


def test_normal_path_records_each_message_once_and_leaves_the_inflight_list_empty(server):
    bodies = [{"n": n} for n in range(50)]
    publish(server, bodies)
    received = []
    with consuming(server, received) as conn:
        drain(conn, lambda: len(received) == 50)
        client = server.client()
        lists = inflight(client)
        assert len(lists) == 1 and list(lists.values()) == [[]], lists  # recorded: out of the in-flight list
        assert client.hlen("unacked") == 50 and client.zcard("unacked_index") == 50
        assert client.llen("celery") == 0
        for message in list(conn.default_channel.qos._delivered.values()):
            message.ack()
        assert client.hlen("unacked") == 0
    assert sorted(b["n"] for b in received) == list(range(50))  # each once


def test_acknowledged_messages_are_not_handed_out_again_by_the_sweep(server):
    publish(server, [{"n": n} for n in range(20)])
    received = []
    with consuming(server, received, ack=True) as conn:
        drain(conn, lambda: len(received) == 20)
    time.sleep(VISIBILITY + 0.2)
    sweep(server)
    client = server.client()
    assert client.llen("celery") == 0 and client.hlen("unacked") == 0
    assert inflight(client) == {}  # the closed consumer's list went with the sweep


DIES_BEFORE_RECORDING = """
import os, signal, sys
from kombu import Connection, Queue
from tbproject import broker

def die(self, message, delivery_tag):  # the instant between taking the message and recording it
    os.kill(os.getpid(), signal.SIGKILL)

broker.QoS.append = die
with Connection(sys.argv[1], transport="tbproject.broker:Transport",
                transport_options={"visibility_timeout": 1.0, "priority_steps": [0]}) as conn:
    with conn.Consumer([Queue("celery")], callbacks=[lambda body, message: None], accept=["json"]):
        while True:
            try:
                conn.drain_events(timeout=1)
            except TimeoutError:
                pass
"""


def test_a_consumer_killed_before_recording_leaves_the_message_for_the_sweep(server):
    publish(server, [{"n": "in-the-window"}])
    child = subprocess.run([sys.executable, "-c", textwrap.dedent(DIES_BEFORE_RECORDING), server.url],
                           cwd=os.getcwd(), timeout=60, capture_output=True)
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-2000:]
    client = server.client()
    # kombu's BRPOP would have lost it here: off the queue, not in "unacked"
    assert client.llen("celery") == 0 and client.hlen("unacked") == 0
    assert [items for items in inflight(client).values() if items] == [[client.lindex(
        next(iter(inflight(client))), 0)]]
    sweep(server)  # heartbeat not yet stale: nothing moves
    assert client.llen("celery") == 0
    time.sleep(VISIBILITY + 0.2)
    sweep(server)
    assert client.llen("celery") == 1 and inflight(client) == {}
    received = []
    with consuming(server, received, ack=True) as conn:
        drain(conn, lambda: received)
    assert received == [{"n": "in-the-window"}]


def test_redis_restarted_with_a_message_in_flight(server):
    """Redis wrote the BLMOVE to its append-only file and died before the consumer read the reply:
    the consumer reconnects to the restarted Redis with a new list, and the sweep puts back the
    old one's message."""
    from kombu import Queue

    publish(server, [{"n": "moved"}])
    received = []
    with connection(server) as conn:
        with conn.Consumer([Queue("celery")], callbacks=[lambda body, message: (received.append(body), message.ack())],
                           accept=["json"]):
            channel = conn.default_channel
            conn.transport.cycle.on_poll_start()  # sends the BLMOVE
            client = server.client()
            deadline = time.monotonic() + 10
            while client.llen("celery"):
                assert time.monotonic() < deadline
                time.sleep(0.01)
            first = channel._inflight[0]
            server.kill()
            channel.client.connection.disconnect()  # the reply never reached the consumer
            server.start()
            client = server.client()
            assert client.llen("celery") == 0 and client.hlen("unacked") == 0
            assert inflight(client) == {first: [client.lindex(first, 0)]}
            drain(conn, lambda: channel._inflight[0] != first)  # reconnected: a new list
            time.sleep(VISIBILITY + 0.2)
            channel.qos.restore_visible(num=None, interval=1)  # the old list's heartbeat is stale
            drain(conn, lambda: received)
            assert set(inflight(client)) == {channel._inflight[0]}
    assert received == [{"n": "moved"}]
    assert server.client().hlen("unacked") == 0


def test_a_reconnected_channel_takes_a_new_list(server):
    publish(server, [{"n": 1}])
    received = []
    with consuming(server, received, ack=True) as conn:
        drain(conn, lambda: received)
        channel = conn.default_channel
        first = channel._inflight[0]
        channel.client.connection.disconnect()
        publish(server, [{"n": 2}])
        drain(conn, lambda: len(received) == 2)
        assert channel._inflight[0] != first and channel._inflight[0].startswith(INFLIGHT_PREFIX)
        assert set(inflight(server.client())) == {first, channel._inflight[0]}
        assert server.client().hget(INFLIGHT_QUEUES, channel._inflight[0]) == b"celery"
    assert received == [{"n": 1}, {"n": 2}]


def test_multiple_consumers_share_the_queue_each_message_once(server):
    total = 300
    publish(server, [{"n": n} for n in range(total)])
    received: list = []
    stop = threading.Event()
    errors = []

    def consumer():
        try:
            with consuming(server, received, ack=True) as conn:
                while not stop.is_set():
                    try:
                        conn.drain_events(timeout=0.2)
                    except TimeoutError:
                        pass
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=consumer) for _ in range(3)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while len(received) < total and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    for t in threads:
        t.join(10)
    assert not errors, errors
    assert sorted(b["n"] for b in received) == list(range(total))  # none lost, none twice
    client = server.client()
    assert len(inflight(client)) == 3 and not any(inflight(client).values())
    assert client.hlen("unacked") == 0 and client.llen("celery") == 0


def test_several_queues_fall_back_to_kombus_brpop(server):
    from kombu import Queue

    other = f"other-{uuid.uuid4().hex[:6]}"
    publish(server, [{"n": 1}])
    received = []
    with connection(server) as conn:
        with conn.Consumer([Queue("celery"), Queue(other)], callbacks=[lambda b, m: (received.append(b), m.ack())],
                           accept=["json"]):
            drain(conn, lambda: received)
            assert conn.default_channel._inflight is None
    assert received == [{"n": 1}] and inflight(server.client()) == {}


def test_one_client_per_pool_serves_acks_and_publishes_and_a_new_pool_gets_a_new_one(server):
    """kombu built a redis.Redis for each pipeline and publish (about 100 us each with redis-py 8);
    the channel hands out one per connection pool, and the messages still go through it; a new
    pool (kombu makes one after it resets the connection) gets a new client."""
    received = []
    with consuming(server, received, ack=True) as conn:
        channel = conn.default_channel
        with channel.conn_or_acquire() as first, channel.conn_or_acquire() as second:
            assert first is second and first.connection_pool is channel.pool
        publish(server, [{"n": n} for n in range(20)])
        drain(conn, lambda: len(received) == 20)
        client = server.client()
        assert client.hlen("unacked") == 0 and client.zcard("unacked_index") == 0  # acked through it
        with channel.conn_or_acquire() as still:
            assert still is first
        channel._pool = None  # what kombu does when it resets the connection
        with channel.conn_or_acquire() as renewed:
            assert renewed is not first and renewed.connection_pool is channel.pool
            assert renewed.ping()
    assert [b["n"] for b in received] == list(range(20))
