"""/healthz, /readyz and /metrics through the Django view and the production ASGI application:
status codes, what /readyz names when a part is down (a real unreachable database, a real
unreachable Redis, a real Redis without or with a worker or beat heartbeat, a real beat process),
the metrics token."""

import json
import os
import signal
import subprocess
import sys

import pytest
from asgiref.sync import async_to_sync
from channels.testing import HttpCommunicator

from integrations.tests.brokers import free_port, wait_until
from integrations.tests.processes import manage
from integrations.tests.test_http_ingress import call
from tbproject.ops import heartbeat
from tbproject.ops.endpoints import OpsApp

REDIS_URL = os.environ.get("REDIS_URL", "")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="needs Redis (set REDIS_URL; .ci/run does)")
TRANSPORTS = ["django", "asgi"]


@pytest.fixture
def redis_client():
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.delete(heartbeat.KEY, heartbeat.BEAT_KEY)
    yield client
    client.delete(heartbeat.KEY, heartbeat.BEAT_KEY)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_healthz_answers_ok(transport, db):
    answer = call(transport, "GET", "/healthz")
    assert (answer.status, json.loads(answer.body)) == (200, {"status": "ok"})
    assert answer.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_readyz_in_embedded_mode_needs_only_the_database(transport, db, settings):
    settings.REDIS_URL, settings.CELERY_TASK_ALWAYS_EAGER = "", True
    answer = call(transport, "GET", "/readyz")
    body = json.loads(answer.body)
    assert answer.status == 200 and body["status"] == "ok" and body["down"] == []
    assert body["checks"]["database"]["ok"] is True
    assert "embedded" in body["checks"]["redis"]["mode"] and "embedded" in body["checks"]["worker"]["mode"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_readyz_names_redis_and_the_worker_when_redis_is_unreachable(transport, db, settings):
    settings.REDIS_URL, settings.CELERY_TASK_ALWAYS_EAGER = f"redis://127.0.0.1:{free_port()}/0", False
    answer = call(transport, "GET", "/readyz")
    body = json.loads(answer.body)
    assert answer.status == 503 and body["status"] == "unavailable"
    assert body["down"] == ["redis", "worker"]
    assert "Connection" in body["checks"]["redis"]["error"]
    assert body["checks"]["worker"]["error"] == "unknown: Redis is unreachable"
    assert body["checks"]["database"]["ok"] is True


def test_readyz_names_the_database_when_it_is_unreachable():
    """A real process whose DATABASE_URL points at a port where no server listens."""
    env = {**os.environ, "DATABASE_URL": f"postgres://postgres@127.0.0.1:{free_port()}/nothing", "REDIS_URL": ""}
    out = manage(env, "shell", "-c", "from tbproject.ops.endpoints import readyz\n"
                                     "a = readyz()\nprint('STATUS', a.status, a.body.decode())")
    status, body = out.split("STATUS ", 1)[1].split(" ", 1)
    body = json.loads(body)
    assert status == "503" and body["down"] == ["database"]
    assert "OperationalError" in body["checks"]["database"]["error"]


@needs_redis
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_readyz_needs_a_recent_worker_heartbeat(transport, db, settings, redis_client):
    settings.REDIS_URL, settings.CELERY_TASK_ALWAYS_EAGER = REDIS_URL, False
    settings.WORKER_HEARTBEAT_TIMEOUT_SECONDS = 30
    answer = call(transport, "GET", "/readyz")
    assert answer.status == 503
    assert json.loads(answer.body)["down"] == ["worker"]
    assert json.loads(answer.body)["checks"]["worker"]["error"] == "no worker heartbeat within 30 s"

    beat = heartbeat.Heartbeat("celery@test-host", REDIS_URL).start()
    try:
        answer = call(transport, "GET", "/readyz")
        assert answer.status == 200, answer.body
        assert json.loads(answer.body)["checks"]["worker"]["workers"] == ["celery@test-host"]
    finally:
        beat.stop()  # a clean stop removes the heartbeat
    assert call(transport, "GET", "/readyz").status == 503


@needs_redis
def test_a_heartbeat_older_than_the_timeout_does_not_count(db, settings, redis_client):
    settings.REDIS_URL, settings.CELERY_TASK_ALWAYS_EAGER = REDIS_URL, False
    settings.WORKER_HEARTBEAT_TIMEOUT_SECONDS = 30
    seconds, _ = redis_client.time()
    redis_client.zadd(heartbeat.KEY, {"celery@stale": seconds - 31, "celery@fresh": seconds - 29})
    assert heartbeat.alive(redis_client, 30) == ["celery@fresh"]
    redis_client.zrem(heartbeat.KEY, "celery@fresh")
    answer = call("asgi", "GET", "/readyz")
    assert answer.status == 503 and json.loads(answer.body)["down"] == ["worker"]


@needs_redis
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_readyz_needs_a_recent_beat_heartbeat_only_when_a_beat_is_expected(transport, db, settings, redis_client):
    settings.REDIS_URL, settings.CELERY_TASK_ALWAYS_EAGER = REDIS_URL, False
    settings.WORKER_HEARTBEAT_TIMEOUT_SECONDS, settings.EXPECT_BEAT = 30, False
    worker = heartbeat.Heartbeat("celery@test-host", REDIS_URL).start()
    try:
        answer = call(transport, "GET", "/readyz")
        assert answer.status == 200 and "EXPECT_BEAT" in json.loads(answer.body)["checks"]["beat"]["mode"]
        settings.EXPECT_BEAT = True
        answer = call(transport, "GET", "/readyz")
        assert answer.status == 503 and json.loads(answer.body)["down"] == ["beat"]
        assert json.loads(answer.body)["checks"]["beat"]["error"] == "no beat heartbeat within 30 s"
        beat = heartbeat.Heartbeat("beat@test-host", REDIS_URL, key=heartbeat.BEAT_KEY).start()
        try:
            answer = call(transport, "GET", "/readyz")
            assert answer.status == 200, answer.body
            assert json.loads(answer.body)["checks"]["beat"]["beats"] == ["beat@test-host"]
        finally:
            beat.stop()  # a clean stop removes the heartbeat
        assert json.loads(call(transport, "GET", "/readyz").body)["down"] == ["beat"]
    finally:
        worker.stop()


def test_readyz_in_embedded_mode_expects_no_beat_process(db, settings):
    settings.REDIS_URL, settings.CELERY_TASK_ALWAYS_EAGER, settings.EXPECT_BEAT = "", True, True
    answer = call("asgi", "GET", "/readyz")
    assert answer.status == 200 and "embedded" in json.loads(answer.body)["checks"]["beat"]["mode"]


@needs_redis
def test_a_real_celery_beat_writes_its_heartbeat_and_removes_it_when_stopped(redis_client, tmp_path):
    # the file scheduler: this test is about the heartbeat, not django-celery-beat's tables
    env = {**os.environ, "REDIS_URL": REDIS_URL, "CELERY_TASK_ALWAYS_EAGER": "false", "LOAD_DEMO_DATA": "false"}
    process = subprocess.Popen([sys.executable, "-m", "celery", "-A", "tbproject", "beat", "--scheduler",
                                "celery.beat:PersistentScheduler", "-s", str(tmp_path / "schedule"), "-l", "warning"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        names = wait_until(lambda: process.poll() is None and heartbeat.alive(redis_client, 30, heartbeat.BEAT_KEY),
                           30, message="beat's heartbeat")
        assert names[0].startswith("beat@") and names[0].endswith(f"-{process.pid}")
        process.send_signal(signal.SIGTERM)
        _, errors = process.communicate(timeout=30)
        assert heartbeat.alive(redis_client, 30, heartbeat.BEAT_KEY) == [], errors.decode()[-2000:]
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_metrics_are_off_without_a_token_and_need_the_right_one(transport, db, settings):
    settings.METRICS_TOKEN = ""
    answer = call(transport, "GET", "/metrics", headers={"authorization": "Bearer anything"})
    assert answer.status == 403 and "METRICS_TOKEN" in json.loads(answer.body)["message"]
    settings.METRICS_TOKEN = "s3cret-token"
    for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": "Basic s3cret-token"},
                    {"authorization": "Bearer s3cret-token-and-more"}):
        answer = call(transport, "GET", "/metrics", headers=headers)
        assert answer.status == 401, headers
        assert answer.headers["www-authenticate"] == 'Bearer realm="metrics"'
        assert b"s3cret" not in answer.body
    answer = call(transport, "GET", "/metrics", headers={"authorization": "Bearer s3cret-token"})
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("text/plain; version=")
    assert b"# TYPE tb_uplinks_accepted_total counter" in answer.body


def test_metrics_answer_503_while_redis_is_unreachable(db, settings):
    settings.METRICS_TOKEN = "t"
    settings.REDIS_URL, settings.CELERY_TASK_ALWAYS_EAGER = f"redis://127.0.0.1:{free_port()}/0", False
    answer = call("asgi", "GET", "/metrics", headers={"authorization": "Bearer t"})
    assert answer.status == 503 and "Metrics unavailable" in json.loads(answer.body)["message"]


def test_the_asgi_app_refuses_other_methods_answers_head_and_hands_other_paths_on(db):
    seen = []

    async def fallback(scope, receive, send):
        seen.append(scope["path"])
        await send({"type": "http.response.start", "status": 418, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    def request(method, path):
        return async_to_sync(HttpCommunicator(OpsApp(fallback), method, path).get_response)()

    answer = request("POST", "/healthz")
    assert answer["status"] == 405 and dict(answer["headers"])[b"allow"] == b"GET, HEAD"
    answer = request("HEAD", "/healthz")
    assert answer["status"] == 200 and answer["body"] == b""
    assert request("GET", "/healthz/x")["status"] == 418 and request("GET", "/api/x")["status"] == 418
    assert seen == ["/healthz/x", "/api/x"]
