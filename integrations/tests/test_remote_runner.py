"""The remote runner's own parts (the top-level ``remote`` package): its outbox, what it does
while the server is away, and that it imports without Django settings or models. The run with a
real server is test_remote_e2e.py."""

import asyncio
import base64
import json
import os
import subprocess
import sys

import pytest

from integrations.tests.brokers import free_port
from integrations.tests.processes import ROOT
from remote.client import RemoteRunner, websocket_url
from remote.outbox import Outbox
from remote.sink import chunks


def items(*texts: str) -> list:
    return [[base64.b64encode(t.encode()).decode(), {}, 1, "TEXT"] for t in texts]


def test_the_outbox_numbers_batches_keeps_them_until_acknowledged_and_never_reuses_a_number(tmp_path):
    path = str(tmp_path / "outbox.sqlite3")
    outbox = Outbox(path)
    outbox.append(items("a", "b"))
    outbox.append(items("c"))
    first, second = outbox.pending(0, 10)
    assert (first.seq, first.count, second.seq, outbox.depth) == (1, 2, 2, 3)
    outbox.ack(2)
    outbox.append(items("d"))
    outbox.close()
    again = Outbox(path)  # what was written survives the process
    assert again.outbox_id == outbox.outbox_id and again.depth == 1
    (batch,) = again.pending(0, 10)
    assert batch.seq == 3 and base64.b64decode(batch.uplinks[0][0]) == b"d"
    again.ack(3)
    again.append(items("e"))
    assert again.pending()[0].seq == 4  # AUTOINCREMENT: a number is never handed out twice
    assert os.stat(path).st_mode & 0o077 == 0  # it holds the configuration and its credentials
    assert Outbox(str(tmp_path / "other.sqlite3")).outbox_id != again.outbox_id


def test_the_oldest_batches_travel_together_up_to_the_frame_limit(tmp_path):
    outbox = Outbox(str(tmp_path / "o.sqlite3"))
    assert outbox.next_group(5) is None
    for texts in (("a", "b"), ("c",), ("d", "e", "f"), ("g",)):
        outbox.append(items(*texts))
    group = outbox.next_group(5)
    assert (group.seq, group.count) == (2, 3)  # a, b, c: adding d, e, f would make 6
    assert [base64.b64decode(u[0]) for u in group.uplinks] == [b"a", b"b", b"c"]
    outbox.ack(group.seq)
    assert outbox.next_group(2).count == 3  # one batch larger than the limit still goes, alone
    outbox.ack(3)
    assert (outbox.next_group(5).seq, outbox.depth) == (4, 1)
    outbox.append(items("h" * 3000))
    assert outbox.next_group(5, max_bytes=1000).seq == 4  # and about so many bytes
    assert outbox.next_group(5, max_bytes=10_000).seq == 5


def test_past_its_size_the_outbox_drops_new_uplinks_and_counts_them(tmp_path):
    outbox = Outbox(str(tmp_path / "o.sqlite3"), max_messages=3)
    assert outbox.append(items("a", "b")) == 0
    assert outbox.append(items("c", "d", "e")) == 2
    assert outbox.append(items("f")) == 1
    assert (outbox.depth, outbox.dropped) == (3, 3)
    outbox.discard(2, 3)  # refused by the server for good
    assert (outbox.depth, outbox.dropped) == (0, 6)
    outbox.close()
    assert Outbox(str(tmp_path / "o.sqlite3")).dropped == 6


def test_batches_are_cut_to_what_one_frame_carries():
    from integrations.remote.protocol import MAX_BATCH

    assert [len(c) for c in chunks(items(*["x"] * (MAX_BATCH + 3)))] == [MAX_BATCH, 3]
    big = [[("A" * 400_000), {}, 1, "BINARY"]] * 5
    assert [len(c) for c in chunks(big)] == [2, 2, 1]


def test_the_server_url_becomes_the_websocket_endpoint():
    assert websocket_url("https://iot.example.com/") == "wss://iot.example.com/ws/integrations/remote"
    assert websocket_url("http://10.0.0.1:8000") == "ws://10.0.0.1:8000/ws/integrations/remote"
    assert websocket_url("iot.local:8000") == "ws://iot.local:8000/ws/integrations/remote"


CUSTOM = "integrations.custom_examples.line_server.LineServerIntegration"


def test_a_runner_restarted_while_the_server_is_away_runs_its_last_configuration_and_buffers(tmp_path, settings):
    settings.CUSTOM_INTEGRATION_CLASSES = ["integrations.custom_examples."]
    path, device_port = str(tmp_path / "outbox.sqlite3"), free_port()
    outbox = Outbox(path)
    outbox.remember_config({"id": "5b0e4c56-8d52-4a9e-9a4e-0d6c1f3f7c11", "name": "Lines", "type": "CUSTOM",
                            "enabled": True, "version": 3, "configuration": {
                                "clazz": CUSTOM, "configuration": {"port": device_port, "host": "127.0.0.1"},
                                "metadata": {"site": "plant-1"}}})
    outbox.close()

    async def scenario():
        runner = RemoteRunner(f"http://127.0.0.1:{free_port()}", "key", "secret", outbox_path=path, max_messages=5,
                              reconnect_seconds=0.1)  # nothing listens there: the server is away
        task = asyncio.get_running_loop().create_task(runner.run())
        for _ in range(100):
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", device_port)
                break
            except OSError:
                await asyncio.sleep(0.05)
        for n in range(7):
            writer.write(f"meter: {n}\n".encode())
            assert await reader.readline() == b"OK\n"  # the devices are answered, dropped or not
        writer.close()
        assert (runner.outbox.depth, runner.outbox.dropped) == (5, 2)
        assert not runner.connected.is_set()
        runner.request_stop()
        await asyncio.wait_for(task, 15)
        assert runner.frames[0] == '{"type":"lifecycle","event":"STARTED"}'  # told to the server later

    asyncio.run(asyncio.wait_for(scenario(), 30))
    kept = Outbox(path)
    sent = [base64.b64decode(u[0]) for b in kept.pending(0, 10) for u in b.uplinks]
    assert sent == [f"meter: {n}".encode() for n in range(5)] and kept.dropped == 2
    metadata = kept.pending()[0].uplinks[0][1]
    assert metadata["site"] == "plant-1" and metadata["integrationName"] == "Lines"


def test_the_runner_imports_without_django_settings_and_loads_no_model():
    code = """
import sys, json
import remote.__main__, remote.client, remote.convert, remote.host, remote.http, remote.sink, integrations.custom
from integrations.types import TYPES
from django.apps import apps
from django.conf import settings
from tbproject.conf import setting
listeners = sorted(kind for kind, cls in TYPES.all().items() if cls.listener)
configured = settings.configured
remote.__main__.configure(None)
models = sorted(m for m in sys.modules if m.endswith(".models") and m.split(".")[0] in
                ("tenants", "devices", "converters", "integrations", "rulechains", "django_celery_beat"))
print(json.dumps({"models": models, "ready": apps.ready, "configured": configured, "listeners": listeners,
                  "custom": setting("CUSTOM_INTEGRATION_CLASSES"), "batch_ms": setting("UPLINK_BATCH_MS"),
                  "listener_batch_ms": setting("LISTENER_BATCH_MS"), "configured_after": settings.configured}))
"""
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["models"] == [] and not result["ready"] and not result["configured"]
    assert not result["configured_after"]  # the runner's values live in tbproject/conf.py, not in Django
    assert {"TCP", "UDP", "MQTT", "COAP", "OPC_UA", "CUSTOM"} <= set(result["listeners"])
    assert result["custom"] == ["integrations.custom_examples."] and result["batch_ms"] == 5
    assert result["listener_batch_ms"] == 20


@pytest.mark.parametrize("command", [["-m", "remote"], ["manage.py", "runremote"]])
def test_the_command_line_says_what_is_missing(command):
    env = {k: v for k, v in os.environ.items() if k not in ("INTEGRATION_ROUTING_KEY", "INTEGRATION_SECRET",
                                                           "REMOTE_SERVER", "DJANGO_SETTINGS_MODULE")}
    done = subprocess.run([sys.executable, *command, "--server", "http://127.0.0.1:9"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--server, --routing-key and --secret" in done.stderr


class _Runner:
    """What the Host calls back on its runner: recorded."""

    def __init__(self):
        self.events, self.states = [], []

    def lifecycle(self, event, error=None):
        self.events.append((event, error))

    def listener_state(self, **state):
        self.states.append(state)


def test_the_host_starts_restarts_and_stops_the_integration_as_its_configuration_changes(settings):
    from remote.host import Host

    settings.CUSTOM_INTEGRATION_CLASSES = ["integrations.custom_examples."]
    config = {"id": "5b0e4c56-8d52-4a9e-9a4e-0d6c1f3f7c11", "name": "Lines", "type": "CUSTOM", "enabled": True,
              "version": 1, "configuration": {"clazz": CUSTOM, "configuration": {"port": 0}}}

    async def scenario():
        runner = _Runner()
        host = Host(runner)
        await host.apply(config)
        first = host.instance
        await host.apply({**config, "version": 2})  # saved without a change that matters: keeps running
        assert host.instance is first
        await host.apply({**config, "version": 3, "configuration": {"clazz": CUSTOM, "configuration": {"port": 0,
                                                                                                       "x": 1}}})
        assert host.instance is not first and first._instance is None  # the old one was stopped
        await host.apply({**config, "version": 4, "enabled": False})
        assert host.instance is None
        await host.apply({**config, "version": 5, "type": "NO_SUCH_TYPE"})  # every real type runs remotely
        assert host.instance is None
        await host.apply({**config, "version": 6, "configuration": {"clazz": "os.path.join"}})
        await host.stop()
        return runner.events

    events = asyncio.run(asyncio.wait_for(scenario(), 30))
    assert events[:4] == [("STARTED", None), ("UPDATED", None), ("STOPPED", None),
                          ("FAILED", "NO_SUCH_TYPE integrations cannot run on a remote runner")]
    assert events[4][0] == "FAILED" and "'os.path.join' is not allowed on this host" in events[4][1]
    assert len(events) == 5


def test_http_family_integrations_are_served_on_the_runners_own_port(tmp_path):
    import urllib.error
    import urllib.request

    path, port, key = str(tmp_path / "outbox.sqlite3"), free_port(), "3f1c2a9e-http-key"
    outbox = Outbox(path)
    outbox.remember_config({"id": "5b0e4c56-8d52-4a9e-9a4e-0d6c1f3f7c12", "name": "Plant HTTP", "type": "HTTP",
                            "enabled": True, "version": 1, "configuration": {
                                "baseUrl": "http://plant", "enableSecurity": True, "headersFilter": {"X-Site": "p1"},
                                "metadata": {"site": "plant-1"}}})
    outbox.close()

    def request(method: str, body: bytes | None = None, *, path_key: str = key, site: str = "p1") -> int:
        headers = {"X-Site": site, "Content-Type": "application/json"}
        url = f"http://127.0.0.1:{port}/api/v1/integrations/http/{path_key}"
        try:
            with urllib.request.urlopen(urllib.request.Request(url, data=body, method=method, headers=headers),
                                        timeout=10) as answer:
                return answer.status
        except urllib.error.HTTPError as error:
            return error.code

    async def scenario():
        runner = RemoteRunner(f"http://127.0.0.1:{free_port()}", key, "secret", outbox_path=path,
                              reconnect_seconds=0.1, http={"host": "127.0.0.1", "port": port, "max_body": 64})
        task = asyncio.get_running_loop().create_task(runner.run())
        ask = lambda *args, **kwargs: asyncio.to_thread(request, *args, **kwargs)  # noqa: E731
        for _ in range(100):
            if runner.host.instance is not None:
                break
            await asyncio.sleep(0.05)
        assert await ask("POST", b'{"name": "m-1", "t": 21}') == 204
        assert await ask("GET") == 200
        assert await ask("POST", b'{"t": 1}', site="p2") == 403  # header filter
        assert await ask("POST", b'{"t": 1}', path_key="other-key") == 404
        assert await ask("POST", b'{"t": ') == 400  # not the JSON it says it is
        assert await ask("POST", b'{"pad": "' + b"x" * 64 + b'"}') == 413
        assert await ask("DELETE") == 405
        assert runner.outbox.depth == 1
        runner.request_stop()
        await asyncio.wait_for(task, 15)

    asyncio.run(asyncio.wait_for(scenario(), 30))
    (batch,) = Outbox(path).pending(0, 10)
    payload, metadata, _, kind = batch.uplinks[0]
    assert base64.b64decode(payload) == b'{"name": "m-1", "t": 21}' and kind == "JSON"
    assert metadata["site"] == "plant-1" and metadata["Header:x-site"] == "p1"
    assert metadata["integrationName"] == "Plant HTTP"
