"""The systemd units' commands, run here: each ExecStart of deploy/systemd/ (web, worker, beat,
integrations, devicemqtt) starts as written (the install prefix replaced by this checkout, ${HOST} and ${PORT}
from the test's environment), against this run's PostgreSQL and Redis; then /healthz, /readyz and
/metrics answer, an uplink is counted from accepted to stored, and a stopped worker makes /readyz
answer 503 naming it while the next uplink waits in the queue."""

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request

import pytest
from django.conf import settings as django_settings
from django.db import connection
from prometheus_client.parser import text_string_to_metric_families

from devices.models import Device
from integrations.tests.brokers import free_port
from integrations.tests.uplinks import integration, values
from tbproject.tests.deploy_files import ROOT, SERVICES, UNITS, exec_start, parse_unit, unit_environment
from tenants.models import Tenant

REDIS_URL = os.environ.get("REDIS_URL", "")
TOKEN = "scrape-token-of-the-test"

pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(not REDIS_URL, reason="needs Redis (set REDIS_URL; .ci/run does)"),
    pytest.mark.skipif(not django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
                       reason="the processes need a shared database server (PostgreSQL; set DATABASE_URL)"),
]


def _get(port: int, path: str, token: str | None = None) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def _wait(check, what: str, procs: dict, timeout: float = 90):
    deadline = time.monotonic() + timeout
    while True:
        for name, proc in procs.items():
            assert proc.poll() is None, f"{name} exited: {proc.stdout.read()[-3000:]}"
        try:
            result = check()
        except OSError:
            result = None
        if result:
            return result
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.3)


def _samples(text: bytes) -> dict:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text.decode()) for s in family.samples}


@pytest.fixture
def processes(transactional_db, tmp_path):
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.delete("celery", "unacked", "unacked_index", "tb:metrics", "tb:workers", "tb:beats")
    db = connection.settings_dict
    port = free_port()
    env = {**os.environ, "REDIS_URL": REDIS_URL, "CELERY_TASK_ALWAYS_EAGER": "false", "LOAD_DEMO_DATA": "false",
           "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
           "METRICS_TOKEN": TOKEN, "HOST": "127.0.0.1", "PORT": str(port), "DATA_DIR": str(tmp_path),
           "CONVERTER_WORKERS": "1", "EXPECT_BEAT": "true",
           # tb-devicemqtt's transport on a free port of 127.0.0.1: CI runs suites side by side
           "DEVICE_MQTT_BIND_ADDRESS": "127.0.0.1", "DEVICE_MQTT_PORT": str(free_port()),
           # and tb-devicecoap's on a free UDP port (0: the transport picks one)
           "DEVICE_COAP_BIND_ADDRESS": "127.0.0.1", "DEVICE_COAP_PORT": "0"}
    procs = {}
    try:
        for name, unit_name in SERVICES.items():
            unit = parse_unit(UNITS / unit_name)
            argv = exec_start(unit, {**unit_environment(unit), **env})
            procs[name] = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                           text=True, start_new_session=True)
        yield port, procs, client
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs.values():
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        client.delete("celery", "unacked", "unacked_index", "tb:metrics", "tb:workers", "tb:beats")


def test_the_units_commands_serve_probes_and_metrics_and_count_an_uplink_to_storage(processes):
    port, procs, _ = processes
    _wait(lambda: _get(port, "/healthz")[0] == 200, "web to answer /healthz", procs)
    status, body = _wait(lambda: (answer := _get(port, "/readyz"))[0] == 200 and answer, "/readyz 200", procs)
    ready = json.loads(body)
    assert ready["down"] == [] and ready["checks"]["database"]["vendor"] == "postgresql"
    assert ready["checks"]["worker"]["workers"]  # the worker's heartbeat
    assert ready["checks"]["beat"]["beats"]  # and beat's (EXPECT_BEAT)

    tenant = Tenant.objects.create(title="Deployed")
    integ = integration(tenant)
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/integrations/http/{integ.routing_key}",
                                     data=json.dumps({"name": "unit-1", "telemetry": {"t": 7}}).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 204  # ThingsBoard answers an accepted HTTP uplink without a body
    device = _wait(lambda: Device.objects.filter(tenant=tenant, name="unit-1").first(), "the worker to store", procs)
    _wait(lambda: values(device) == {"t": 7}, "the telemetry", procs)

    assert _get(port, "/metrics")[0] == 401
    assert _get(port, "/metrics", "wrong")[0] == 401
    wanted = {("tb_uplinks_accepted_total", (("integration", str(integ.pk)),)): 1.0,
              ("tb_uplinks_stored_total", (("integration", str(integ.pk)),)): 1.0}

    def counted():
        status, text = _get(port, "/metrics", TOKEN)
        assert status == 200, text
        samples = _samples(text)
        return samples if all(samples.get(k) == v for k, v in wanted.items()) else None

    samples = _wait(counted, "the counts to reach /metrics", procs, timeout=30)  # flushed every second
    assert samples[("tb_converter_latency_seconds_count", (("kind", "decoder"),))] >= 1
    assert samples[("tb_workers", ())] >= 1
    assert samples[("tb_queue_depth", ())] >= 0 and ("tb_queue_lag_seconds", ()) in samples

    for name in ("beat", "integrations", "devicemqtt"):
        assert procs[name].poll() is None, f"{name} exited"
    procs["worker"].send_signal(signal.SIGTERM)  # a clean stop removes its heartbeat at once
    procs["worker"].wait(60)
    status, body = _get(port, "/readyz")
    assert status == 503
    assert json.loads(body)["down"] == ["worker"]

    # with no worker, an accepted uplink waits in the queue: /metrics shows it there
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 204
    status, text = _get(port, "/metrics", TOKEN)
    samples = _samples(text)
    assert samples[("tb_queue_depth", ())] >= 1 and samples[("tb_queue_lag_seconds", ())] > 0  # beat queues too
    assert samples[("tb_workers", ())] == 0
