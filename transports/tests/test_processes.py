"""The device MQTT transport as its own process (`manage.py rundevicemqtt`) beside this one, which plays the
web and worker processes: a shared-attribute save and a two-way RPC call made here reach the device connected
there over Redis pub/sub, and the device's reply completes the call here. Needs PostgreSQL and Redis (the
processes share them), as .ci/run provides."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
from django.conf import settings as django_settings
from django.db import connection

from integrations.tests.brokers import free_port
from integrations.tests.processes import ROOT
from transports.tests.conftest import token
from transports.tests.mqtt_client import BOUND, DeviceClient

REDIS_URL = os.environ.get("REDIS_URL", "")

pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(not REDIS_URL, reason="needs Redis (set REDIS_URL; .ci/run does)"),
    pytest.mark.skipif(not django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
                       reason="the processes need a shared database server (PostgreSQL; set DATABASE_URL)"),
]


def _database_url() -> str:
    s = connection.settings_dict
    auth = f"{s['USER']}:{s['PASSWORD']}@" if s["PASSWORD"] else f"{s['USER']}@"
    return f"postgres://{auth}{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def transport_process(committed, settings):
    settings.REDIS_URL = REDIS_URL
    port = free_port()
    env = {**os.environ, "DATABASE_URL": _database_url(), "REDIS_URL": REDIS_URL, "DB_POOL_SIZE": "0"}
    process = subprocess.Popen([sys.executable, "manage.py", "rundevicemqtt", "--host", "127.0.0.1", "--port",
                                str(port)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + BOUND
    while True:  # until it listens (a bound on attempts, not a measured time)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert process.poll() is None, process.stdout.read().decode()[-3000:]
            assert time.monotonic() < deadline, "rundevicemqtt never listened"
            time.sleep(0.05)
    yield port
    process.send_signal(signal.SIGTERM)
    try:
        output = process.communicate(timeout=BOUND)[0].decode()
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    assert process.returncode == 0 and "Device MQTT transport stopped" in output, output[-3000:]


def test_a_separate_transport_process_gets_updates_and_calls_and_completes_the_rest_call(api, device,
                                                                                       transport_process):
    client = DeviceClient(transport_process, token(device)).connect()
    try:
        client.subscribe("v1/devices/me/attributes")
        client.subscribe("v1/devices/me/rpc/request/+")
        client.publish("v1/devices/me/telemetry", {"t": 7})
        assert client.request_attributes() == {}
        assert api.get(f"/api/plugins/telemetry/DEVICE/{device.pk}/values/timeseries", {"keys": "t"}).json()["t"]
        assert api.post(f"/api/plugins/telemetry/DEVICE/{device.pk}/SHARED_SCOPE", {"target": 3},
                        format="json").status_code == 200
        assert client.message("v1/devices/me/attributes") == ("v1/devices/me/attributes", {"target": 3})
        answered = {}
        call = threading.Thread(target=lambda: answered.update(res=api.post(
            f"/api/rpc/twoway/{device.pk}", {"method": "ping", "params": {}, "timeout": 30_000}, format="json")))
        call.start()
        try:
            topic, request = client.message("v1/devices/me/rpc/request/")
            assert request == {"method": "ping", "params": {}}
            client.publish(f"v1/devices/me/rpc/response/{topic.rpartition('/')[2]}", {"pong": True})
        finally:
            call.join(BOUND)
        assert answered["res"].status_code == 200 and answered["res"].json() == {"pong": True}
    finally:
        client.close()
