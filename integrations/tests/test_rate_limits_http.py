"""Rate limits of the HTTP ingress (issue 19, item 4): 429 with Retry-After over the tenant
profile's limits, normal answers under them, SUSPENDED / ACTIVATED lifecycle events, and one
budget shared by two server processes through a real Redis."""

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from converters.choices import EventType
from converters.models import DebugEvent
from integrations import throttle
from integrations.ingress import routes
from integrations.tests.brokers import free_port
from integrations.tests.factories import make_integration
from integrations.tests.processes import ROOT, shell
from integrations.tests.test_http_ingress import TRANSPORTS, call
from integrations.tests.test_runner_hosts import host_env  # noqa: F401  (fixture)
from tbproject.testing.limits import limit_tenant
from tenants import limits

#: the suite's Redis when it has one (CI: db 15), else a local one (db 8)
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/8"


@pytest.fixture(autouse=True)
def _fresh():
    routes.CACHE.clear()
    limits.reset()
    throttle.EPISODES.reset()
    yield
    routes.CACHE.clear()


@pytest.fixture
def queued(monkeypatch):
    from integrations import queue

    received = []

    async def accept(uplink):
        received.append(uplink)

    monkeypatch.setattr(queue, "accept", accept)
    return received


def post(transport, key):
    return call(transport, "POST", f"/api/v1/integrations/http/{key}", b'{"id": "m1", "t": 1}',
                {"content-type": "application/json"})


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_it_answers_429_with_retry_after_over_the_integration_limit(transport, tenant, queued):
    limit_tenant(tenant, integrationMsgsPerIntegrationRateLimit="3:60")
    make_integration(tenant, "limited", routing_key="lim-1")
    make_integration(tenant, "other", routing_key="lim-2")
    answers = [post(transport, "lim-1") for _ in range(5)]
    assert [a.status for a in answers] == [204, 204, 204, 429, 429]
    refused = answers[3]
    body = refused.error(429, "integrationMsgsPerIntegrationRateLimit (3:60)")
    assert body["errorCode"] == 33  # ThingsBoard's TOO_MANY_REQUESTS
    assert 1 <= int(refused.headers["retry-after"]) <= 20  # one token every 20 s
    assert len(queued) == 3  # refused uplinks are not queued
    assert post(transport, "lim-2").status == 204  # each integration has its own budget


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_the_tenant_limit_is_shared_by_its_integrations_and_not_by_other_tenants(transport, tenant, other_tenant,
                                                                                queued):
    limit_tenant(tenant, integrationMsgsPerTenantRateLimit="2:3600")
    make_integration(tenant, "a", routing_key="t-a")
    make_integration(tenant, "b", routing_key="t-b")
    make_integration(other_tenant, "c", routing_key="t-c")
    assert [post(transport, k).status for k in ("t-a", "t-b", "t-a", "t-b")] == [204, 204, 429, 429]
    assert [post(transport, "t-c").status for _ in range(5)] == [204] * 5  # the default profile: no limit


def test_no_profile_limit_means_no_429(tenant, queued):
    make_integration(tenant, "free", routing_key="free-1")
    assert {post("asgi", "free-1").status for _ in range(50)} == {204}


def test_a_changed_profile_applies_at_once_in_this_process(tenant, queued):
    profile = limit_tenant(tenant, integrationMsgsPerIntegrationRateLimit="1:3600")
    make_integration(tenant, "changing", routing_key="chg-1")
    assert [post("asgi", "chg-1").status for _ in range(2)] == [204, 429]
    profile.profile_data = {"configuration": {"type": "DEFAULT"}}
    profile.save()
    assert post("asgi", "chg-1").status == 204


@pytest.mark.django_db(transaction=True)
def test_it_records_one_suspended_event_per_episode_and_activated_after(tenant, queued, monkeypatch):
    limit_tenant(tenant, integrationMsgsPerIntegrationRateLimit="2:1")
    integration = make_integration(tenant, "episodes", routing_key="ep-1")
    clock = [1000.0]
    monkeypatch.setattr(throttle.EPISODES, "clock", lambda: clock[0])
    statuses = [post("asgi", "ep-1").status for _ in range(6)]
    assert statuses[:2] == [204, 204] and set(statuses[2:]) == {429}
    time.sleep(1.1)  # the bucket refills (2 per second)
    clock[0] += throttle.QUIET_SECONDS + 0.1  # and nothing was refused for a while
    assert post("asgi", "ep-1").status == 204
    throttle.EPISODES.flush()
    lifecycle = list(DebugEvent.objects.filter(entity_id=integration.pk, event_type=EventType.LC_EVENT)
                     .order_by("created_time", "id").values_list("body", flat=True))
    assert [e["event"] for e in lifecycle] == ["SUSPENDED", "ACTIVATED"]
    assert lifecycle[0]["status"] == "Failure"
    assert "integrationMsgsPerIntegrationRateLimit (2:1)" in lifecycle[0]["error"]
    assert lifecycle[1]["status"] == "Success"


def _redis_or_skip():
    try:
        import redis

        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
        client.ping()
    except Exception as exc:
        pytest.skip(f"needs a Redis server at {REDIS_URL} (apt-get install redis-server): {exc}")
    return client


class Server:
    """A daphne process serving tbproject.asgi (the lean ingress ahead of Django)."""

    def __init__(self, env):
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), "tbproject.asgi:application"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def wait_ready(self, key: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v1/integrations/http/{key}", timeout=2)
                return
            except (urllib.error.URLError, ConnectionError, OSError):
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise AssertionError(f"server did not start: {self.process.stderr.read()[-2000:]}") from None
                time.sleep(0.2)

    def post(self, key: str) -> tuple[int, str | None]:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/api/v1/integrations/http/{key}",
                                         data=b'{"id": "x", "t": 1}', headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, None
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("Retry-After")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def test_two_processes_share_one_budget_through_redis(host_env):  # noqa: F811
    _redis_or_skip()
    env = {**host_env, "REDIS_URL": REDIS_URL, "CELERY_TASK_ALWAYS_EAGER": "true"}
    key = f"shared-{os.getpid()}-{time.monotonic_ns()}"
    shell(env, f"""
from tenants.models import Tenant
from integrations.tests.brokers import free_port
from integrations.tests.factories import make_integration
from tbproject.testing.limits import limit_tenant
tenant = Tenant.objects.create(title="Shared budget")
limit_tenant(tenant, integrationMsgsPerIntegrationRateLimit="10:3600")
make_integration(tenant, "shared", routing_key={key!r})
result = 1
""")
    servers = [Server(env), Server(env)]
    try:
        for server in servers:
            server.wait_ready(key)
        answers = [servers[i % 2].post(key) for i in range(16)]  # 8 to each
    finally:
        for server in servers:
            server.stop()
    statuses = [status for status, _ in answers]
    assert statuses.count(204) == 10 and statuses.count(429) == 6, statuses
    # each process alone would have let 8 through: the 429s came from the shared count
    assert all(retry and int(retry) >= 1 for status, retry in answers if status == 429)
    stored = shell(env, "from integrations.models import IntegrationStats\n"
                        "result = sum(IntegrationStats.objects.values_list('messages_processed', flat=True))")
    assert stored == 10
