"""Two `runintegrations` processes: an integration runs on exactly one; when that host is killed
(SIGKILL: no goodbye, its lease just stops being renewed) the other takes the integration over
within the lease TTL, and the broker hands it what arrived meanwhile (persistent session, same
client id). SIGTERM stops a host cleanly and releases its lease.

The hosts share a database of their own (a fresh SQLite file, or a fresh PostgreSQL database when
the suite runs on PostgreSQL) and a private Mosquitto.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from contextlib import ExitStack

import pytest
from django.db import connection

from integrations.tests.brokers import publish_sync, unique_topic
from integrations.tests.processes import ROOT, manage, postgres_database, shell

LEASE_SECONDS = 3


@pytest.fixture
def host_env(tmp_path):
    """Environment of processes sharing a freshly migrated database of their own."""
    env = {**os.environ, "LOAD_DEMO_DATA": "false", "CELERY_TASK_ALWAYS_EAGER": "true", "LOG_LEVEL": "INFO",
           "PYTHONUNBUFFERED": "1", "DJANGO_SETTINGS_MODULE": "tbproject.settings"}
    with ExitStack() as stack:
        if connection.vendor == "postgresql":
            env["DATABASE_URL"], _ = stack.enter_context(postgres_database(connection.settings_dict, "intlisten_hosts"))
        else:
            env.pop("DATABASE_URL", None)
            env["SQLITE_PATH"] = str(tmp_path / "hosts.sqlite3")
        manage(env, "migrate", "-v", "0")
        yield env


class Host:
    """One `runintegrations` process whose output is collected line by line."""

    def __init__(self, env, holder: str):
        self.holder, self.lines = holder, []
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "runintegrations", "--lease-seconds", str(LEASE_SECONDS), "--holder", holder],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line)

    def saw(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    def wait_for(self, text: str, timeout: float = 20.0) -> float:
        deadline = time.monotonic() + timeout
        while not self.saw(text):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise AssertionError(f"{self.holder} never logged {text!r}:\n{''.join(self.lines)[-3000:]}")
            time.sleep(0.05)
        return time.monotonic()

    def end(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def test_the_other_host_takes_over_within_the_lease_when_one_is_killed(broker, host_env):
    topic = unique_topic("failover")
    config = broker.config(topic, qos=1, cleanSession=False, clientId=f"failover-{uuid.uuid4().hex[:8]}")
    created = shell(host_env, f"""
from tenants.models import Tenant
from integrations.tests.factories import make_integration
tenant = Tenant.objects.create(title="Hosts")
result = str(make_integration(tenant, "failover", kind="MQTT", configuration={config!r}).pk)
""")
    a = Host(host_env, "host-a")
    b = None
    try:
        a.wait_for(f"({created}) STARTED on host-a")
        b = Host(host_env, "host-b")
        b.wait_for("listener host host-b started")
        time.sleep(LEASE_SECONDS * 0.7)  # a few of B's looks at the database
        assert not b.saw("STARTED on host-b"), "the integration runs twice"

        a.process.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        a.process.wait(10)
        # nobody is subscribed now: the broker keeps this for the integration's session
        publish_sync(broker, [(topic, json.dumps({"id": "failover-dev", "t": 7}).encode())])
        taken = b.wait_for(f"({created}) STARTED on host-b", timeout=LEASE_SECONDS + 10)
        assert taken - killed < 2 * LEASE_SECONDS  # the TTL, one look at the database, and slack
        # the broker delivers the kept message once B has resubscribed: wait for it to be stored
        # before stopping B (a stop may come before the delivery, which is not what this tests)
        deadline = time.monotonic() + 20
        while not shell(host_env, "from devices.models import Device\n"
                                  "result = Device.objects.filter(name='failover-dev').exists()"):
            assert time.monotonic() < deadline, "the message kept for the session never arrived at host-b"
            time.sleep(0.2)

        b.process.send_signal(signal.SIGTERM)
        assert b.process.wait(20) == 0
        assert b.saw("listener host host-b stopped")
    finally:
        a.end()
        if b is not None:
            b.end()

    state = shell(host_env, f"""
from converters.models import DebugEvent
from devices.models import Device
from integrations.models import Integration, IntegrationLease
integration = Integration.objects.get(pk="{created}")
events = DebugEvent.objects.filter(entity_id=integration.pk, event_type="LC_EVENT").order_by("created_time")
result = {{"leases": IntegrationLease.objects.count(), "service_id": integration.service_id,
          "devices": list(Device.objects.values_list("name", flat=True)),
          "events": [e.body["event"] for e in events]}}
""")
    assert state == {"leases": 0, "service_id": "host-b", "devices": ["failover-dev"],
                     "events": ["STARTED", "STARTED", "STOPPED"]}
