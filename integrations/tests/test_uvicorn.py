"""The production web process under uvicorn (README, "Production processes"): the same ASGI
application serves uplinks through the lean ingress, Django pages, and websockets."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from django.db import connection

from devices.models import Device
from integrations.tests.brokers import free_port
from integrations.tests.processes import ROOT
from integrations.tests.test_embedded import WebSocket
from integrations.tests.uplinks import integration, values
from tbproject.api.tokens import issue_pair
from tbproject.clock import now_ms
from tenants.choices import Authority
from tenants.models import User

pytestmark = pytest.mark.server


def _database_env() -> dict:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return {"SQLITE_PATH": db["NAME"], "DATABASE_URL": ""}
    return {"DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"}


@pytest.fixture
def uvicorn_server(transactional_db):
    port = free_port()
    env = {**os.environ, **_database_env(), "REDIS_URL": "", "CELERY_TASK_ALWAYS_EAGER": "true",
           "LOAD_DEMO_DATA": "false", "RUN_INTEGRATIONS_IN_WEB": "false"}
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "tbproject.asgi:application", "--host", "127.0.0.1",
                               "--port", str(port), "--loop", "uvloop", "--http", "httptools", "--ws", "websockets",
                               "--no-access-log"],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, server.stdout.read()
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "uvicorn did not listen"
                time.sleep(0.1)
        yield port
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)


def _post(port: int, key: str, body: bytes) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/integrations/http/{key}", data=body,
                                     method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as e:
        return e.code


def test_uvicorn_serves_uplinks_django_pages_and_live_debug_events(uvicorn_server, tenant):
    port = uvicorn_server
    integ = integration(tenant, debug_all_enabled_until=now_ms() + 600_000)
    admin = User.objects.create_user("admin@uvicorn.test", "pw-123456", authority=Authority.TENANT_ADMIN,
                                     tenant=tenant)
    ws = WebSocket(port, f"/ws/events/INTEGRATION/{integ.pk}?token={issue_pair(admin)['token']}")
    try:
        time.sleep(0.5)  # the consumer joins its group after the handshake
        assert _post(port, integ.routing_key, b'{"name": "uv-1", "telemetry": {"t": 5}}') == 204
        frames = []
        deadline = time.monotonic() + 15
        while not any(f["type"] == "DEBUG_INTEGRATION" for f in frames):
            assert time.monotonic() < deadline, f"no uplink debug event arrived: {frames}"
            frame = ws.receive_json(0.5)
            if frame is not None:
                frames.append(frame)
    finally:
        ws.close()
    assert values(Device.objects.get(tenant=tenant, name="uv-1")) == {"t": 5}
    assert _post(port, "no-such-key", b"{}") == 404
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/admin/login/", timeout=10) as page:  # Django
        assert page.status == 200 and b"csrfmiddlewaretoken" in page.read()
