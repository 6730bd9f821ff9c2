"""Helpers of the MQTT-family tests (TTN/TTI, AWS IoT, Azure IoT Hub): Mosquitto stands in for
each cloud's MQTT endpoint, configured for its scheme (users, topic ACLs, client certificates);
the test itself plays the cloud's other side (a network server publishing uplinks, a subscriber
receiving what ThingsBoard publishes)."""

import asyncio
import subprocess
import threading
import uuid
from pathlib import Path

import pytest

from integrations.models import Integration
from integrations.runner import Runner, RunnerThread
from integrations.tests.brokers import MOSQUITTO_PASSWD
from tbproject.testing.telemetry import forget_tenant_telemetry

__all__ = ["passwords", "acl", "start_host", "forget_telemetry", "connected", "AuthSubscriber"]

#: the stand-in for the cloud's internals: may publish and read anything
SERVER_USER, SERVER_PASSWORD = "cloud-internal", "internal-secret"


def passwords(directory: Path, users: dict[str, str]) -> Path:
    """A Mosquitto password file with ``users`` (and the cloud's internal user)."""
    if MOSQUITTO_PASSWD is None:
        pytest.skip("mosquitto_passwd is not installed (part of the mosquitto package)")
    path = Path(directory) / "passwords"
    path.write_text("")
    for username, password in {**users, SERVER_USER: SERVER_PASSWORD}.items():
        subprocess.run([MOSQUITTO_PASSWD, "-b", str(path), username, password], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    path.chmod(0o600)
    return path


def acl(directory: Path, rules: dict[str, list[str]]) -> Path:
    """A Mosquitto ACL file: ``{username: [topic patterns it may read and write]}``."""
    lines = [f"user {SERVER_USER}", "topic readwrite #", ""]
    for username, topics in rules.items():
        lines += [f"user {username}", *(f"topic readwrite {t}" for t in topics), ""]
    path = Path(directory) / "acl"
    path.write_text("\n".join(lines))
    return path


def start_host() -> RunnerThread:
    """The listener host in a thread, as in ``serve``; stop it with ``.stop()``."""
    runner = Runner(lease_seconds=3, poll_seconds=0.3)
    runner.outbox.poll = 0.3
    thread = RunnerThread(runner).start()
    assert runner.started.wait(10), "the host did not look at the database"
    return thread


forget_telemetry = forget_tenant_telemetry


def connected(integration) -> bool:
    return Integration.objects.filter(pk=integration.pk, connected=True).exists()


class AuthSubscriber:
    """A gmqtt subscriber in its own thread, with credentials and TLS, recording ``(topic, payload)``."""

    def __init__(self, broker, topic_filter: str, *, auth=(SERVER_USER, SERVER_PASSWORD), ssl=False):
        self.broker, self.topic_filter, self.auth, self.ssl = broker, topic_filter, auth, ssl
        self.received: list[tuple[str, bytes]] = []
        self._ready = threading.Event()
        self._loop = self._stop = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    def __enter__(self) -> "AuthSubscriber":
        self._thread.start()
        assert self._ready.wait(10), "the subscriber did not connect"
        return self

    def __exit__(self, *exc) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    async def _main(self) -> None:
        from gmqtt import Client

        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        client = Client(f"sub-{uuid.uuid4().hex[:8]}")
        if self.auth:
            client.set_auth_credentials(*self.auth)
        subscribed = asyncio.Event()
        client.on_message = lambda c, topic, payload, qos, props: self.received.append((topic, payload)) or 0
        client.on_subscribe = lambda *args: subscribed.set()
        await client.connect(self.broker.host, self.broker.port, version=4, ssl=self.ssl)
        client.subscribe(self.topic_filter, qos=1)
        await asyncio.wait_for(subscribed.wait(), 10)
        self._ready.set()
        await self._stop.wait()
        await client.disconnect()
