"""Real MQTT peers for tests: private Mosquitto instances, a publisher, and TLS material.

Each broker is the real ``mosquitto`` binary on a free local port with its own config file, so a
test can stop, kill and restart it, require client certificates or a password file, and never
disturbs (nor depends on) the machine's own broker. Tests skip, saying why, where the binary is
not installed.
"""

import asyncio
import contextlib
import datetime
import getpass
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from gmqtt import Client

__all__ = ["MOSQUITTO", "needs_mosquitto", "free_port", "Broker", "publish", "Certificates", "wait_until",
           "wait_for_value", "running", "accepts_connections",
           "run_async", "unique_name", "PeerProcess", "RecordingSink", "unique_topic"]

MOSQUITTO = shutil.which("mosquitto") or next(
    (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if os.path.exists(p)), None)
MOSQUITTO_PASSWD = shutil.which("mosquitto_passwd")
needs_mosquitto = pytest.mark.skipif(
    MOSQUITTO is None, reason="mosquitto is not installed (apt-get install mosquitto): MQTT tests need a real broker")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def unique_topic(prefix: str = "t") -> str:
    return f"{prefix}/{uuid.uuid4().hex[:10]}"


def unique_name(prefix: str) -> str:
    """A topic, queue or subscription name no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def run_async(coroutine, timeout: float = 60):
    """Run a test's scenario coroutine in a fresh event loop, within ``timeout`` seconds."""
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.05, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {message}")


async def wait_for_value(read, expected, timeout: float = 10.0) -> None:
    """In a test's event loop: wait until ``read()`` reaches ``expected``."""
    deadline = time.monotonic() + timeout
    while read() < expected:
        if time.monotonic() > deadline:
            raise AssertionError(f"{read()} < {expected} after {timeout} s")
        await asyncio.sleep(0.02)


def accepts_connections(port: int, host: str = "127.0.0.1") -> bool:
    """True when something on ``host:port`` accepts a TCP connection."""
    try:
        socket.create_connection((host, port), 0.2).close()
        return True
    except OSError:
        return False


class PeerProcess:
    """A peer's process: ``await_listening()`` after starting it, ``kill()`` (SIGKILL) and ``stop()``
    (SIGTERM, then SIGKILL), by its own pid."""

    process: subprocess.Popen | None = None

    def await_listening(self, port: int, timeout: float, name: str, details=lambda: "") -> None:
        """Wait until the process listens on ``port``; RuntimeError (with its stderr and ``details()``)
        when it exits first or does not listen in time (then it is stopped)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{name} exited: {self.process.stderr.read().decode()[-500:]} {details()}")
            if accepts_connections(port):
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{name} did not listen on {port} in {timeout} s {details()}")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(5)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.kill()


class Broker(PeerProcess):
    """A private Mosquitto: ``start()``, ``kill()`` (SIGKILL), ``stop()``; same port across restarts."""

    def __init__(self, directory: Path, *, conf: str = "", port: int | None = None):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.host, self.port = "127.0.0.1", port or free_port()
        self.conf_path = self.directory / "mosquitto.conf"
        # `user`: mosquitto started as root would drop to the "mosquitto" user and could not read
        # the test's private files; as any other user the option does nothing.
        lines = [f"listener {self.port} 127.0.0.1", "persistence false", f"user {getpass.getuser()}",
                 f"log_dest file {self.directory / 'mosquitto.log'}", conf or "allow_anonymous true"]
        self.conf_path.write_text("\n".join(lines) + "\n")
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 10.0) -> "Broker":
        self.process = subprocess.Popen([MOSQUITTO, "-c", str(self.conf_path)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE)
        self.await_listening(self.port, timeout, "mosquitto", self.log)
        return self

    def log(self) -> str:
        path = self.directory / "mosquitto.log"
        return path.read_text() if path.exists() else ""

    def config(self, topic_filter: str, *, qos: int = 1, **client) -> dict:
        """An MQTT integration configuration (ThingsBoard keys) for this broker."""
        return {"clientConfiguration": {"host": self.host, "port": self.port, "connectTimeoutSec": 3, **client},
                "topicFilters": [{"filter": topic_filter, "qos": qos}]}


PUBLISH_WINDOW = 10


async def publish(broker: Broker, messages, *, qos: int = 1, version: int = 4, auth=None, **connect) -> None:
    """Publish ``[(topic, payload), ...]``; returns once the broker has them (they precede DISCONNECT)."""
    client = Client(f"pub-{uuid.uuid4().hex[:8]}")
    if auth:
        client.set_auth_credentials(*auth)
    await client.connect(broker.host, broker.port, version=version, **connect)
    # Through a window: Mosquitto disconnects a client that sends QoS 1 faster than it takes
    # them ("out of memory" in its log), and gmqtt has no flow control of its own.
    for n, (topic, payload) in enumerate(messages, 1):
        client.publish(topic, payload, qos=qos)
        if qos and n % PUBLISH_WINDOW == 0:
            await asyncio.wait_for(client._persistent_storage.wait_empty(), 10)
    if qos:
        await asyncio.wait_for(client._persistent_storage.wait_empty(), 10)
    try:
        await client.disconnect()
    except ssl.SSLError:  # TLS close_notify races the broker's last bytes; all was acknowledged
        pass


def publish_sync(broker: Broker, messages, **kwargs) -> None:
    asyncio.run(publish(broker, messages, **kwargs))


class RecordingSink:
    """An UplinkSink (types/base.py) that records; ``fail`` makes the next n hand-overs raise;
    ``delay`` makes each hand-over take that many seconds, as queueing in Redis takes a round trip."""

    def __init__(self, fail: int = 0, delay: float = 0.0):
        self.uplinks, self.reports, self.drops, self.calls, self.fail = [], [], [], 0, fail
        self.block: asyncio.Event | None = None
        self.delay = delay

    async def __call__(self, uplinks) -> None:
        self.calls += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.block is not None:
            await self.block.wait()
        if self.fail:
            self.fail -= 1
            raise RuntimeError("queue unavailable")
        self.uplinks.extend(uplinks)

    def report(self, *, method: str = "connect", **status) -> None:
        self.reports.append(status)

    def dropped(self, metadata, payload, reason) -> None:
        self.drops.append((metadata, payload, reason))

    async def wait_for(self, count: int, timeout: float = 10.0) -> list:
        deadline = time.monotonic() + timeout
        while len(self.uplinks) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"got {len(self.uplinks)} of {count} uplinks in {timeout} s")
            await asyncio.sleep(0.02)
        return self.uplinks


@contextlib.asynccontextmanager
async def running(listener, *, stop_timeout: float = 5.0, connect_timeout: float = 15.0):
    """A listener (start, stop, ``connected``) started, connected, and stopped after the block."""
    listener.stop_timeout = stop_timeout
    await listener.start()
    try:
        try:
            await asyncio.wait_for(listener.connected.wait(), connect_timeout)
        except TimeoutError:
            reports = getattr(listener.sink, "reports", [])[-3:]
            raise AssertionError(f"not connected in {connect_timeout} s; its last reports: {reports}") from None
        yield listener
    finally:
        await listener.stop()


class Certificates:
    """A CA, a server certificate for 127.0.0.1/localhost and a client certificate, as PEM text
    (what ThingsBoard's cert.PEM credentials hold) and as files (what Mosquitto reads)."""

    def __init__(self, directory: Path):
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        now = datetime.datetime.now(datetime.UTC)

        def name(cn):
            return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

        def pem_key(key):
            return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()).decode()

        def issue(subject, key, issuer, issuer_key, *, ca=False, san=None, usage=None):
            builder = (x509.CertificateBuilder().subject_name(name(subject)).issuer_name(name(issuer))
                       .public_key(key.public_key()).serial_number(x509.random_serial_number())
                       .not_valid_before(now - datetime.timedelta(minutes=5))
                       .not_valid_after(now + datetime.timedelta(days=1))
                       .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
            if ca:
                builder = builder.add_extension(x509.KeyUsage(
                    digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                    key_encipherment=False, data_encipherment=False, key_agreement=False,
                    encipher_only=False, decipher_only=False), critical=True)
            if san:
                builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
            if usage:
                builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            return builder.sign(issuer_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()

        import ipaddress

        ca_key, server_key, client_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
        self.ca = issue("Test CA", ca_key, "Test CA", ca_key, ca=True)
        self.server = issue("localhost", server_key, "Test CA", ca_key, usage=ExtendedKeyUsageOID.SERVER_AUTH,
                            san=[x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
        self.server_key = pem_key(server_key)
        self.client = issue("device-client", client_key, "Test CA", ca_key, usage=ExtendedKeyUsageOID.CLIENT_AUTH)
        self.client_key = pem_key(client_key)
        for filename, text in (("ca.pem", self.ca), ("server.pem", self.server), ("server.key", self.server_key)):
            (self.directory / filename).write_text(text)

    def mosquitto_conf(self, *, require_certificate: bool = True) -> str:
        d = self.directory
        return (f"allow_anonymous true\ncafile {d / 'ca.pem'}\ncertfile {d / 'server.pem'}\n"
                f"keyfile {d / 'server.key'}\nrequire_certificate {'true' if require_certificate else 'false'}\n")


def password_file(directory: Path, username: str, password: str) -> Path:
    """A Mosquitto password file made by ``mosquitto_passwd`` (skips when it is missing)."""
    if MOSQUITTO_PASSWD is None:
        pytest.skip("mosquitto_passwd is not installed (part of the mosquitto package)")
    path = Path(directory) / "passwords"
    subprocess.run([MOSQUITTO_PASSWD, "-c", "-b", str(path), username, password], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    path.chmod(0o600)
    return path
