"""Uplinks converted on the remote runner, end to end: the server (uvicorn behind TLS) and the
remote runner (``python -m remote``) as separate processes, a device on the remote's TCP listener,
the integration set to ``convertRemotely``.

The remote runs the converter the server sent (its log says so; the converter's debug events
name the remote as their server), the server stores the output, also of the uplinks converted
while the server was stopped (each once); a message the script throws on
becomes a dead letter on the server with its raw payload; a converter saved on the server is
pushed to the running remote, whose next uplinks are converted by the new version.
"""

import json
import socket

import pytest

from converters.choices import EventType
from converters.models import DebugEvent
from integrations.models import DeadLetter
from integrations.tests.brokers import Certificates, free_port, wait_until
from integrations.tests.factories import make_integration
from integrations.tests.sockets import host_tenant  # noqa: F401 (fixture)
from integrations.tests.test_remote_e2e import (
    SECRET,
    Device_,
    Server,
    connected,
    processed,
    start_remote,
    stored,
    wait_for_port,
)
from integrations.tests.uplinks import converter, debug_all

pytestmark = pytest.mark.server

DECODER = """
var data = JSON.parse(String.fromCharCode.apply(null, payload));
if (data.n === 13) throw new Error('unlucky ' + data.n);
return {deviceName: data.id, deviceType: 'meter', telemetry: {ts: data.ts, values: {n: data.n}}};
"""


@pytest.fixture
def server(host_tenant, tmp_path):  # noqa: F811
    instance = Server(free_port(), "uvicorn", Certificates(tmp_path / "certs"))
    # the pipeline's cache of converters (2 s) would run the old version on the first uplinks
    # the remote converted with the new one (they are converted again, by the version it has)
    instance.env["PIPELINE_CACHE_SECONDS"] = "0"
    instance.start()
    yield instance
    instance.stop()


def remote_events(conv, version: int | None = None) -> list:
    rows = DebugEvent.objects.filter(entity_id=conv.pk, event_type=EventType.DEBUG_CONVERTER,
                                     server=f"remote:{socket.gethostname()}")
    if version is not None:
        rows = rows.filter(body__converterVersionNumber=version)
    return list(rows.order_by("created_time"))


@pytest.mark.django_db(transaction=True)
def test_a_remote_runner_converts_uplinks_and_takes_a_saved_converter_live(server, host_tenant, tmp_path):  # noqa: F811
    device_port = free_port()
    conv = debug_all(converter(host_tenant, DECODER, name="meter decoder"))
    integration = make_integration(
        host_tenant, "Plant TCP", kind="TCP", remote=True, secret=SECRET, converter=conv,
        configuration={"convertRemotely": True, "clientConfiguration": {
            "port": device_port, "bindAddress": "127.0.0.1", "handlerConfiguration": {"handlerType": "TEXT"}}})
    remote = start_remote(server, integration, tmp_path)
    try:
        connected(integration, remote)
        wait_for_port(device_port, remote)
        assert f"uplink converter {conv.pk} version 1 (JS) received" in remote.output()

        device = Device_(device_port)
        device.send(5)
        wait_until(lambda: stored(host_tenant) == [1, 2, 3, 4, 5], timeout=30, message="the first 5 messages")
        wait_until(lambda: len(remote_events(conv)) == 5, timeout=10, message="the remote's 5 converter events")
        by_n = {json.loads(e.body["in"])["n"]: e for e in remote_events(conv)}
        assert sorted(by_n) == [1, 2, 3, 4, 5] and not any(e.is_error for e in by_n.values())
        assert json.loads(by_n[1].body["out"])["telemetry"]["values"] == {"n": 1}

        # converted while the server is away: kept in the outbox, each stored once after the restart
        server.stop()
        device.send(7)
        wait_until(lambda: remote.output().count("unreachable") >= 2, timeout=20,
                   message=f"the remote to try (and fail) to reconnect:\n{remote.output()}")
        server.start()
        wait_until(lambda: len(stored(host_tenant)) == 12, timeout=60, message=f"6..12:\n{remote.output()[-2000:]}")
        assert stored(host_tenant) == list(range(1, 13))
        wait_until(lambda: processed(integration) == 12, timeout=10, message="12 processed, once each")
        wait_until(lambda: len(remote_events(conv)) == 12, timeout=10, message="the 12 converter events")

        # the script throws on n == 13: a dead letter on the server, raw payload kept; the rest stored
        device.send(1)
        wait_until(lambda: DeadLetter.objects.filter(integration=integration).exists(), timeout=10,
                   message="the dead letter of n=13")
        letter = DeadLetter.objects.get(integration=integration)
        assert json.loads(bytes(letter.payload)) == {"id": "remote-meter", "n": 13, "ts": 1_700_000_000_013}
        assert letter.stage == "convert" and "unlucky 13" in letter.error
        # the dead letter and the debug event are separate writes of the same batch
        failed = wait_until(lambda: [e for e in remote_events(conv) if e.is_error], timeout=10,
                            message="the converter's failure event")
        assert len(failed) == 1 and "unlucky 13" in failed[0].body["error"]

        # a converter saved on the server reaches the running remote; its next uplinks use it
        conv.refresh_from_db()
        conv.configuration = {**conv.configuration, "decoder": DECODER.replace("n: data.n}", "n: data.n * 100}")}
        _save_beside_the_server(conv)
        wait_until(lambda: f"uplink converter {conv.pk} version 2 (JS) received" in remote.output(), timeout=20,
                   message=f"the new converter on the remote:\n{remote.output()[-2000:]}")
        device.send(1)
        wait_until(lambda: 1400 in stored(host_tenant), timeout=30, message="n=14 converted by version 2")
        wait_until(lambda: len(remote_events(conv, version=2)) == 1, timeout=10, message="version 2's event")
        assert stored(host_tenant) == [*range(1, 13), 1400]
        assert "(TCP) updated" not in remote.output()  # the listener kept running: only the converter changed
    finally:
        remote.stop()


def _save_beside_the_server(obj, attempts: int = 4) -> None:
    """On SQLite the server process may hold the write lock past the busy timeout on a loaded
    machine (CI runs two suites on two cores): try the test's own write again."""
    from django.db import OperationalError

    for attempt in range(attempts):
        try:
            obj.save()
            return
        except OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
