"""A remote integration end to end: the server (uvicorn) and the remote runner (``python -m remote``)
as separate processes (uvicorn behind TLS, the remote trusting its CA; and daphne), devices on the
remote's local TCP listener and on an MQTT broker it subscribes to.

The server is stopped for a while and restarted: every message the device sent meanwhile reaches
the server's storage exactly once (telemetry rows and processed counts), a downlink reaches the
device through the remote, and a wrong secret is refused at the websocket handshake.
"""

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from converters.choices import EventType
from converters.models import DebugEvent
from devices.models import Device
from devices.telemetry.reads import history
from integrations.downlinks import submit
from integrations.models import Integration, IntegrationStats, OutgoingDownlink, RemoteStatus
from integrations.remote import protocol
from integrations.tests.brokers import Certificates, free_port, publish_sync, unique_topic, wait_until
from integrations.tests.downlinks import attributes_msg, make_encoder
from integrations.tests.factories import make_integration, make_uplink_converter
from integrations.tests.processes import ROOT
from integrations.tests.sockets import host_tenant  # noqa: F401 (fixture)
from integrations.tests.test_uvicorn import _database_env

pytestmark = pytest.mark.server

#: One telemetry row per message: the message's own ts, so that a duplicate would be a second row.
DECODER = """
var data = JSON.parse(String.fromCharCode.apply(null, payload));
return {deviceName: data.id, deviceType: 'meter', telemetry: {ts: data.ts, values: {n: data.n}}};
"""
ENCODER = "return {contentType: 'TEXT', data: 'set ' + msg.firmware, metadata: {}};"
SECRET = "remote-s3cret-value"


class Process:
    """A child process whose output is collected line by line."""

    def __init__(self, args, env, name):
        self.name, self.lines = name, []
        self.process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line)

    def output(self) -> str:
        return "".join(self.lines)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


class Server:
    """The web process: uvicorn (production) or daphne (`make run`), restartable on the same port."""

    def __init__(self, port: int, kind: str = "uvicorn", certs: Certificates | None = None):
        self.port, self.kind, self.certs, self.process = port, kind, certs, None
        self.env = {**os.environ, **_database_env(), "REDIS_URL": "", "CELERY_TASK_ALWAYS_EAGER": "true",
                    "LOAD_DEMO_DATA": "false", "RUN_INTEGRATIONS_IN_WEB": "false", "REMOTE_POLL_SECONDS": "0.3"}

    def start(self):
        if self.kind == "daphne":
            args = ["-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), "tbproject.asgi:application"]
        else:
            args = ["-m", "uvicorn", "tbproject.asgi:application", "--host", "127.0.0.1", "--port", str(self.port),
                    "--ws", "websockets", "--no-access-log"]
            if self.certs is not None:  # behind TLS, as in production: the remote connects with wss
                args += ["--ssl-keyfile", str(self.certs.directory / "server.key"),
                         "--ssl-certfile", str(self.certs.directory / "server.pem")]
        self.process = Process([sys.executable, *args], self.env, "server")
        wait_for_port(self.port, self.process, 60)

    def stop(self):
        self.process.stop()

    @property
    def url(self) -> str:
        return f"{'https' if self.certs else 'http'}://127.0.0.1:{self.port}"


def wait_for_port(port: int, process: Process | None = None, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while True:
        if process is not None:
            assert process.process.poll() is None, process.output()[-3000:]
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            assert time.monotonic() < deadline, f"nothing listens on {port}"
            time.sleep(0.1)


@pytest.fixture
def server(request, host_tenant, tmp_path):  # noqa: F811
    kind = getattr(request, "param", "uvicorn")
    certs = Certificates(tmp_path / "certs") if kind == "uvicorn" else None
    instance = Server(free_port(), kind, certs)
    instance.start()
    yield instance
    instance.stop()


def remote_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "SQLITE_PATH")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def start_remote(server: Server, integration, tmp_path, secret: str = SECRET) -> Process:
    tls = ["--ca-file", str(server.certs.directory / "ca.pem")] if server.certs else []
    return Process([sys.executable, "-m", "remote", "--server", server.url, "--routing-key", integration.routing_key,
                    "--secret", secret, "--outbox", str(tmp_path / "outbox.sqlite3"), "--reconnect-seconds", "0.5",
                    *tls], remote_env(), "remote")


def refused_status(server: Server, key: str, secret: str) -> int:
    """The HTTP status of a websocket handshake with ``key`` and ``secret`` (101 when accepted)."""
    tls = {"ssl": ssl.create_default_context(cafile=str(server.certs.directory / "ca.pem"))} if server.certs else {}
    scheme = "wss" if server.certs else "ws"
    try:
        connect(f"{scheme}://127.0.0.1:{server.port}{protocol.PATH}", open_timeout=10, **tls,
                additional_headers={protocol.KEY_HEADER: key, protocol.SECRET_HEADER: secret}).close()
    except InvalidStatus as exc:
        return exc.response.status_code
    return 101


class Device_:
    """A device on the remote's TCP listener: sends JSON lines, reads what comes back."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), 5)
        self.n = 0

    def send(self, count: int) -> None:
        for _ in range(count):
            self.n += 1
            line = f'{{"id": "remote-meter", "n": {self.n}, "ts": {1_700_000_000_000 + self.n}}}\n'
            self.sock.sendall(line.encode())

    def read_line(self, timeout: float = 20) -> bytes:
        self.sock.settimeout(timeout)
        data = b""
        while not data.endswith(b"\n"):
            chunk = self.sock.recv(1024)
            assert chunk, "the remote closed the device's connection"
            data += chunk
        return data


def stored(tenant) -> list:
    device = Device.objects.filter(tenant=tenant, name="remote-meter").first()
    if device is None:
        return []
    rows = history(device.pk, ["n"], 0, 2_000_000_000_000, limit=10_000, order="ASC").get("n", [])
    return [int(v) for _, v in rows]


def processed(integration) -> int:
    return sum(IntegrationStats.objects.filter(integration=integration).values_list("messages_processed", flat=True))


def connected(integration, remote: Process) -> None:
    wait_until(lambda: RemoteStatus.objects.filter(pk=integration.pk, connected=True).exists(), timeout=30,
               message=f"the remote to connect:\n{remote.output()}")


def through_an_outage(server: Server, remote: Process, send, tenant, integration, *, before: int, total: int) -> None:
    """Stop the server, ``send()`` while it is away and the remote retries, restart it, and check
    that every one of ``total`` messages was stored and processed exactly once."""
    server.stop()
    send()
    wait_until(lambda: remote.output().count("unreachable") >= 3, timeout=20,
               message=f"the remote to try (and fail) to reconnect a few times:\n{remote.output()}")
    assert len(stored(tenant)) == before
    server.start()
    wait_until(lambda: len(stored(tenant)) == total, timeout=60,
               message=f"all {total} messages after the restart:\n{remote.output()[-3000:]}")
    assert stored(tenant) == list(range(1, total + 1))  # each once, none lost
    wait_until(lambda: processed(integration) == total, timeout=10, message=f"{total} processed")
    time.sleep(1)
    assert processed(integration) == total


@pytest.mark.django_db(transaction=True)
def test_a_remote_runner_buffers_through_a_server_outage_and_carries_downlinks(server, host_tenant, tmp_path):  # noqa: F811
    device_port = free_port()
    integration = make_integration(
        host_tenant, "Plant TCP", kind="TCP", remote=True, secret=SECRET,
        converter=make_uplink_converter(host_tenant, "meter decoder", DECODER),
        downlink_converter=make_encoder(host_tenant, ENCODER),
        configuration={"clientConfiguration": {"port": device_port, "bindAddress": "127.0.0.1",
                                               "handlerConfiguration": {"handlerType": "TEXT"}}})
    remote = start_remote(server, integration, tmp_path)
    try:
        connected(integration, remote)
        wait_for_port(device_port, remote)
        status = RemoteStatus.objects.get(pk=integration.pk)
        assert status.version and status.host == socket.gethostname() and status.address == "127.0.0.1"
        wait_until(lambda: f"connected to wss://127.0.0.1:{server.port}/ws/integrations/remote" in remote.output(),
                   timeout=10, message="the remote's log of its wss connection")

        device = Device_(device_port)
        device.send(10)
        wait_until(lambda: len(stored(host_tenant)) == 10, timeout=30, message="the first 10 messages")

        through_an_outage(server, remote, lambda: (device.send(30), time.sleep(1), device.send(20)), host_tenant,
                          integration, before=10, total=60)

        # a downlink reaches the device through the remote, on the connection it sends from
        submit(host_tenant.pk, integration.pk, attributes_msg(host_tenant, "remote-meter", {"firmware": "2.1"}))
        assert device.read_line() == b"set 2.1\n"
        wait_until(lambda: OutgoingDownlink.objects.filter(integration=integration, status="DELIVERED").exists(),
                   timeout=10, message="the downlink delivered")

        # a wrong secret is refused at the handshake, logged without the secret, and recorded
        assert refused_status(server, integration.routing_key, "not-the-secret") == 403
        wait_until(lambda: DebugEvent.objects.filter(entity_id=integration.pk, event_type=EventType.LC_EVENT,
                                                     body__event="FAILED").exists(), timeout=10,
                   message="the refusal's lifecycle event")
        event = DebugEvent.objects.get(entity_id=integration.pk, event_type=EventType.LC_EVENT, body__event="FAILED")
        assert "wrong integration secret" in event.body["error"]
        assert "not-the-secret" not in server.process.output() and SECRET not in server.process.output()
    finally:
        remote.stop()
    assert RemoteStatus.objects.get(pk=integration.pk).outbox_depth == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("server", ["daphne"], indirect=True)
def test_a_remote_mqtt_integration_acknowledges_into_its_outbox_while_the_server_is_away(server, host_tenant, broker,  # noqa: F811
                                                                                         tmp_path):
    topic = unique_topic("plant")
    integration = make_integration(host_tenant, "Plant MQTT", kind="MQTT", remote=True, secret=SECRET,
                                   converter=make_uplink_converter(host_tenant, "meter decoder", DECODER),
                                   configuration=broker.config(f"{topic}/+", qos=1))
    remote = start_remote(server, integration, tmp_path)

    def messages(first: int, count: int) -> list:
        return [(f"{topic}/m", json.dumps({"id": "remote-meter", "n": n, "ts": 1_700_000_000_000 + n}).encode())
                for n in range(first, first + count)]

    try:
        connected(integration, remote)
        wait_until(lambda: Integration.objects.get(pk=integration.pk).connected, timeout=20,
                   message=f"the remote's MQTT client to connect:\n{remote.output()}")
        publish_sync(broker, messages(1, 5))
        wait_until(lambda: len(stored(host_tenant)) == 5, timeout=30, message="the first 5 messages")
        # QoS 1: publish_sync returns once the broker has them, and the broker hands them on only
        # as fast as the remote acknowledges, which it does once they are in its outbox
        through_an_outage(server, remote, lambda: publish_sync(broker, messages(6, 45)), host_tenant, integration,
                          before=5, total=50)
        # daphne refuses the handshake as uvicorn does
        assert refused_status(server, integration.routing_key, "not-the-secret") == 403
    finally:
        remote.stop()
