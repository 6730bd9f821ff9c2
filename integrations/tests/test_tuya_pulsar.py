"""The TUYA integration's message-service adapter (pulsar-client) against a real Pulsar-protocol
peer: pulsar-lite, a third-party Pulsar-compatible broker in a wheel (not Apache Pulsar and not
Tuya's service: it does not check Tuya's authentication, which pulsar-client still sends). Its
metrics listener is disabled so that nothing binds beyond 127.0.0.1. The OpenAPI is the mocked
cloud of integrations/tests/tuya_fake.py.

Encrypted messages published to ``{accessId}/out/event`` are decrypted into uplinks and
acknowledged once queued; a listener stopped before queueing leaves them to the next one; the
broker killed and restarted on the same storage loses nothing.
"""

import asyncio
import contextlib
import socket
import subprocess
import time
from pathlib import Path

import pytest

from integrations.listeners.tuya import TuyaListener
from integrations.tests.brokers import RecordingSink, free_port, running, wait_until
from integrations.tests.test_tuya import ACCESS_ID, SECRET, cloud  # noqa: F401 (fixture)
from integrations.tests.tuya_fake import envelope
from integrations.types.tuya import TuyaConfig

pulsar = pytest.importorskip("pulsar", reason="pulsar-client is not installed")
try:
    import pulsar_lite

    BROKER = Path(pulsar_lite.__file__).parent / "bin" / "pulsar-lite"
except ImportError:
    BROKER = None



class Broker:
    def __init__(self, directory: Path):
        self.directory, self.port = directory, free_port()
        (directory / "broker.toml").write_text("[metrics]\nenabled = false\n")
        self.process = None

    def start(self) -> "Broker":
        self.process = subprocess.Popen([str(BROKER), "--config", str(self.directory / "broker.toml"), "--addr",
                                         f"127.0.0.1:{self.port}", "--db-path", str(self.directory / "db")],
                                        stdout=subprocess.DEVNULL, stderr=(self.directory / "log").open("ab"))
        wait_until(lambda: self.process.poll() is not None or _listening(self.port), 10, message="pulsar-lite")
        if self.process.poll() is not None:
            pytest.skip(f"pulsar-lite cannot start: {(self.directory / 'log').read_text()[-300:]}")
        return self

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(5)

    @property
    def url(self) -> str:
        return f"pulsar://127.0.0.1:{self.port}"


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), 0.2).close()
        return True
    except OSError:
        return False


@pytest.fixture
def broker(tmp_path):
    if BROKER is None or not BROKER.exists():
        pytest.skip("pulsar-lite (pip) is not installed: no Pulsar-protocol peer")
    made = Broker(tmp_path).start()
    yield made
    made.kill()


@contextlib.contextmanager
def producer(broker):
    client = pulsar.Client(broker.url)
    try:
        yield client.create_producer(f"{ACCESS_ID}/out/event")
    finally:
        client.close()


def publish(broker, *data_ids: str) -> None:
    with producer(broker) as out:
        for data_id in data_ids:
            out.send(envelope({"devId": "vdevo1", "dataId": data_id, "status": []}, SECRET),
                     properties={"em": "aes_gcm"})


def config(cloud, broker) -> TuyaConfig:  # noqa: F811
    return TuyaConfig.model_validate({"clientConfiguration": {
        "accessId": ACCESS_ID, "accessKey": SECRET, "openApiUrl": cloud.url, "messageServiceUrl": broker.url}})


def listening(configuration, sink, *, stop_timeout: float = 5.0):
    return running(TuyaListener(configuration, sink, metadata={}, integration_id="i-1"), stop_timeout=stop_timeout,
                   connect_timeout=20)


def data_ids(sink) -> list[str]:
    return [u.metadata["dataId"] for u in sink.uplinks]


def test_messages_are_decrypted_acknowledged_once_queued_and_given_to_the_next_listener_when_not(cloud, broker):  # noqa: F811
    publish(broker, "m0", "m1", "m2")
    first, stuck, last = RecordingSink(), RecordingSink(), RecordingSink()

    async def scenario():
        async with listening(config(cloud, broker), first):
            await first.wait_for(3, timeout=20)
            await asyncio.sleep(0.3)
        await asyncio.to_thread(publish, broker, "late")
        stuck.block = asyncio.Event()  # the pipeline's queue never answers
        async with listening(config(cloud, broker), stuck, stop_timeout=0.3):
            while not stuck.calls:
                await asyncio.sleep(0.02)
        async with listening(config(cloud, broker), last):
            await last.wait_for(1, timeout=20)
            await asyncio.sleep(0.5)

    asyncio.run(asyncio.wait_for(scenario(), 90))
    assert data_ids(first) == ["m0", "m1", "m2"] and first.uplinks[0].metadata["devId"] == "vdevo1"
    assert stuck.uplinks == [] and data_ids(last) == ["late"]  # acknowledged ones never come again


def test_the_broker_killed_and_restarted_loses_nothing(cloud, broker):  # noqa: F811
    publish(broker, "before")
    sink = RecordingSink()

    async def scenario():
        async with listening(config(cloud, broker), sink):
            await sink.wait_for(1, timeout=20)
            await asyncio.sleep(0.3)
            await asyncio.to_thread(broker.kill)
            await asyncio.sleep(0.5)
            await asyncio.to_thread(broker.start)
            await asyncio.to_thread(publish, broker, "after-1", "after-2")
            deadline = time.monotonic() + 40
            while set(data_ids(sink)) < {"before", "after-1", "after-2"} and time.monotonic() < deadline:
                await asyncio.sleep(0.1)

    asyncio.run(asyncio.wait_for(scenario(), 90))
    assert set(data_ids(sink)) == {"before", "after-1", "after-2"}
