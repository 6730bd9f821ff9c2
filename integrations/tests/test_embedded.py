"""`make run` (manage.py serve) as a user runs it: one process that serves HTTP and websockets
and also hosts the MQTT integrations. An MQTT message becomes a device, and its debug event
reaches a browser's websocket at once (in-memory channel layer, published from a pipeline
thread onto daphne's loop). SIGTERM stops it all and releases the lease.
"""

import base64
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time

import pytest

from integrations.tests.brokers import free_port, publish_sync, unique_topic
from integrations.tests.processes import ROOT, shell

pytestmark = pytest.mark.server


class WebSocket:
    """Just enough of a websocket client (RFC 6455) to read a server's text frames."""

    def __init__(self, port: int, path: str):
        self.sock = socket.create_connection(("127.0.0.1", port), 5)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
                          .encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.sock.recv(1)
        assert head.startswith(b"HTTP/1.1 101"), head

    def _exact(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("websocket closed")
            data += chunk
        return data

    def receive_json(self, timeout: float):
        """The next text frame as JSON, or None when nothing came within ``timeout``."""
        self.sock.settimeout(timeout)
        try:
            first, second = self._exact(2)
        except TimeoutError:
            return None
        self.sock.settimeout(5)
        length = second & 0x7F
        if length == 126:
            length = struct.unpack("!H", self._exact(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self._exact(8))[0]
        payload = self._exact(length)
        assert first & 0x0F == 1, f"not a text frame: {first:#x} {payload!r}"
        return json.loads(payload)

    def close(self):
        self.sock.close()


def test_serve_hosts_an_mqtt_integration_and_streams_its_debug_events(broker, tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    env.update(SQLITE_PATH=str(tmp_path / "serve.sqlite3"), LOAD_DEMO_DATA="false", RUN_INTEGRATIONS_IN_WEB="true",
               PYTHONUNBUFFERED="1", DJANGO_SETTINGS_MODULE="tbproject.settings",
               RUN_DEVICE_MQTT_IN_WEB="false",  # no device MQTT on 1883 beside the other suites of CI
               RUN_DEVICE_COAP_IN_WEB="false")  # nor device CoAP on UDP 5683
    port = free_port()
    server = subprocess.Popen([sys.executable, "manage.py", "serve", "--port", str(port)], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:  # serve migrates the fresh database first
            assert server.poll() is None, server.stdout.read()
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "serve did not listen"
                time.sleep(0.2)
        topic = unique_topic("embedded")
        config = broker.config(topic, qos=1)
        made = shell(env, f"""
from tbproject.api.tokens import issue_pair
from tenants.choices import Authority
from tbproject.clock import now_ms
from tenants.models import Tenant, User
from integrations.tests.factories import make_integration
tenant = Tenant.objects.create(title="Embedded")
admin = User.objects.create_user("admin@embedded.test", "pw-123456", authority=Authority.TENANT_ADMIN, tenant=tenant)
integration = make_integration(tenant, "embedded", kind="MQTT", configuration={config!r},
                               debug_all_enabled_until=now_ms() + 600_000)
result = {{"id": str(integration.pk), "token": issue_pair(admin)["token"]}}
""")
        ws = WebSocket(port, f"/ws/events/INTEGRATION/{made['id']}?token={made['token']}")
        uplink = None
        deadline = time.monotonic() + 30
        while uplink is None:  # until the host subscribed: messages before that go nowhere
            assert time.monotonic() < deadline, "no uplink debug event arrived"
            publish_sync(broker, [(topic, json.dumps({"id": "embedded-1", "t": 3}).encode())])
            while (frame := ws.receive_json(0.5)) is not None:
                if frame["type"] == "DEBUG_INTEGRATION":
                    uplink = frame
        ws.close()
        assert uplink["entityId"] == {"entityType": "INTEGRATION", "id": made["id"]}
        assert uplink["body"]["status"] == "OK"
        assert json.loads(uplink["body"]["message"]) == {"id": "embedded-1", "t": 3}

        server.send_signal(signal.SIGTERM)
        assert server.wait(30) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(10)
    state = shell(env, f"""
from devices.models import Device
from integrations.models import IntegrationLease
result = {{"devices": list(Device.objects.values_list("name", flat=True)),
          "leases": IntegrationLease.objects.filter(integration_id="{made['id']}").count()}}
""")
    assert state == {"devices": ["embedded-1"], "leases": 0}
