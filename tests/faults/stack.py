"""The production stack the fault suite breaks: every part a real process of its own.

- PostgreSQL: a database of the suite's own (``faults_<random>``) on the server of DATABASE_URL,
  migrated, dropped afterwards. Faults terminate the sessions of that database only.
- Redis: a ``redis-server`` of the suite's own on a free port (never the machine's shared one),
  with ``appendonly yes`` and ``appendfsync always``: a task message Redis acknowledged is on
  disk, so a Redis that is killed and restarted still holds every queued uplink batch. That is
  what a production deployment must configure too (README, "Production processes").
- Mosquitto: bench/mqtt_uplinks.broker(), the broker the MQTT benchmark uses.
- The project's processes as production runs them (bench/procs.py): the web process (uvicorn),
  one Celery worker, and two ``runintegrations`` hosts: the MQTT integration runs on one, the
  other takes its lease over when that one dies.

Settings that differ from the defaults, and why: ``INTEGRATION_LEASE_SECONDS`` 3 (takeover within
seconds), ``BROKER_VISIBILITY_TIMEOUT`` 20 (a killed worker's unacknowledged batches go back to
the queue after this; the default is 300 s), ``INTEGRATION_DEBUG_EVENTS_PER_HOUR`` unlimited (one
DEBUG_INTEGRATION event per pipeline run of each uplink is how duplicates are counted).
"""

import itertools
import shutil
import time
import uuid
from contextlib import ExitStack

import psycopg

from bench import mqtt_uplinks, procs
from integrations.tests.processes import manage, postgres_database, shell

__all__ = ["Stack", "REDIS_SERVER", "WATCHER", "VISIBILITY_TIMEOUT", "LEASE_SECONDS"]

REDIS_SERVER = shutil.which("redis-server")
#: application_name of the suite's own database sessions: the faults spare them
WATCHER = "faults-watcher"
VISIBILITY_TIMEOUT = 20
LEASE_SECONDS = 3
LOGS = procs.ROOT / "var" / "faults" / "logs"

DECODER = r"""
var d = JSON.parse(String.fromCharCode.apply(String, payload));
return {deviceName: 'fault-' + d.src, deviceType: 'fault', telemetry: {ts: d.ts, values: {seq: d.seq}}};
"""

SETUP = """
from converters.models import Converter
from integrations.models import Integration
from tenants.models import Tenant
from tbproject.clock import now_ms
tenant = Tenant.objects.create(title="Faults")
conv = Converter.objects.create(tenant=tenant, name="fault decoder", type="UPLINK",
                                configuration={{"scriptLang": "JS", "decoder": {decoder!r}}})
debug = now_ms() + 3_600_000  # every pipeline run of an uplink leaves a DEBUG_INTEGRATION event
http = Integration.objects.create(tenant=tenant, name="fault http", type="HTTP", default_converter=conv,
                                  configuration={{"baseUrl": "http://127.0.0.1"}}, debug_all_enabled_until=debug)
mqtt = Integration.objects.create(tenant=tenant, name="fault mqtt", type="MQTT", default_converter=conv,
                                  configuration={mqtt!r}, debug_all_enabled_until=debug)
result = {{"routing_key": http.routing_key, "mqtt": str(mqtt.pk)}}
"""


class Stack:
    """Start with ``with Stack(database_settings) as stack:``; the parts are Services (bench/procs.py)."""

    def __init__(self, database_settings: dict):
        self.database_settings = database_settings
        self.seq = itertools.count()
        #: telemetry ts of seq 0: an hour ago, inside retention and the partitions made at migrate
        self.base_ts = int(time.time() * 1000) - 3_600_000
        self.topic_prefix = f"faults/{uuid.uuid4().hex[:8]}"
        self._exit = ExitStack()

    def __enter__(self) -> "Stack":
        try:
            self._start()
        except BaseException:
            self._exit.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self._exit.close()

    def _start(self) -> None:
        LOGS.mkdir(parents=True, exist_ok=True)
        self.database_url, self.database = self._exit.enter_context(
            postgres_database(self.database_settings, "faults"))
        self.redis_port = procs.free_port()
        redis_dir = LOGS.parent / f"redis-{self.redis_port}"
        redis_dir.mkdir(parents=True, exist_ok=True)
        self._exit.callback(shutil.rmtree, redis_dir, True)
        self.redis = procs.Service("redis", [REDIS_SERVER, "--port", str(self.redis_port), "--bind", "127.0.0.1",
                                             "--save", "", "--appendonly", "yes", "--appendfsync", "always",
                                             "--dir", str(redis_dir)], {}, port=self.redis_port, logs=LOGS)
        self._exit.enter_context(self.redis)
        self.mqtt_port = self._exit.enter_context(mqtt_uplinks.broker(logs=LOGS))
        self.env = procs.production_env(
            f"redis://127.0.0.1:{self.redis_port}/0", DATABASE_URL=self.database_url,
            INTEGRATION_LEASE_SECONDS=str(LEASE_SECONDS), BROKER_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT),
            INTEGRATION_DEBUG_EVENTS_PER_HOUR="100000000", LOG_LEVEL="INFO")
        manage(self.env, "migrate", "-v", "0", timeout=300)
        self.watch = psycopg.connect(self.database_url, autocommit=True, application_name=WATCHER)
        self._exit.callback(self.watch.close)
        mqtt = {"clientConfiguration": {"host": "127.0.0.1", "port": self.mqtt_port, "cleanSession": False,
                                        "clientId": f"faults-{uuid.uuid4().hex[:8]}", "connectTimeoutSec": 3},
                "topicFilters": [{"filter": f"{self.topic_prefix}/+", "qos": 1}]}
        made = shell(self.env, SETUP.format(decoder=DECODER, mqtt=mqtt))
        self.http_path = f"/api/v1/integrations/http/{made['routing_key']}"
        self.mqtt_integration = made["mqtt"]
        self.web_port = procs.free_port()
        self.web = self._exit.enter_context(procs.web(self.env, self.web_port, logs=LOGS))
        self.worker = self._exit.enter_context(procs.worker(self.env, concurrency=1, ready_line=" ready.", logs=LOGS))
        self.hosts = {}
        for holder in ("host-a", "host-b"):
            self.hosts[holder] = self._exit.enter_context(procs.listener_host(
                self.env, holder, "--holder", holder, "--lease-seconds", str(LEASE_SECONDS), logs=LOGS))
            if holder == "host-a":  # host-a runs the integration first, host-b waits for its lease
                self.wait_connected("host-a")

    # --- reading the database ------------------------------------------------------------------

    def rows(self, query: str, params=()) -> list[tuple]:
        return self.watch.execute(query, params).fetchall()

    def lease_holder(self) -> str | None:
        found = self.rows("SELECT holder FROM integrations_integrationlease WHERE integration_id = %s "
                          "AND expires_at > now()", [self.mqtt_integration])
        return found[0][0] if found else None

    def wait_connected(self, holder: str, timeout: float = 30.0) -> float:
        """Seconds until ``holder`` runs the MQTT integration, connected."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.rows("SELECT 1 FROM integrations_integration WHERE id = %s AND connected AND service_id = %s",
                         [self.mqtt_integration, holder]):
                return time.monotonic() - started
            time.sleep(0.1)
        raise AssertionError(f"{holder} did not run the MQTT integration within {timeout} s: see {LOGS}")

    # --- faults ---------------------------------------------------------------------------------

    def terminate_sessions(self) -> int:
        """pg_terminate_backend on every session of the suite's database except its own watcher's."""
        with psycopg.connect(self.database_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
            return len(admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                "AND application_name <> %s AND pid <> pg_backend_pid()", [self.database, WATCHER]).fetchall())

    def unacked(self) -> int:
        """Task messages Redis has delivered to the worker that it has not acknowledged yet."""
        return self._redis().hlen("unacked")

    def broker_state(self) -> dict:
        """Task messages waiting in the queue and delivered but unacknowledged (for failure messages)."""
        client = self._redis()
        inflight = [client.llen(key) for key in client.zrange("inflight_index", 0, -1)]
        return {"queued": client.llen("celery"), "unacked": client.hlen("unacked"),
                "unacked_index": client.zcard("unacked_index"), "unacked_mutex_ttl": client.ttl("unacked_mutex"),
                "inflight_lists": len(inflight), "inflight": sum(inflight)}

    def _redis(self):
        import redis

        return redis.Redis(port=self.redis_port)
