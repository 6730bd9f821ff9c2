"""tbproject/waits.py across processes (Redis db of REDIS_URL): a notification made in one process
wakes a waiter armed in another, both ways, on a channel of that Redis database, leaving no key.
(The in-process and ASGI side: test_waits.py.)"""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tbproject import waits

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("REDIS_URL", "")
BOUND = 60  # seconds: a bound on a step, never a measurement
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="needs Redis (set REDIS_URL; .ci/run does)")


NOTIFIER = """
import sys, django
django.setup()
from tbproject import deferred, waits
waits.notify(sys.argv[1], {"from": "another process"})
"""

WAITER = """
import sys, django
django.setup()
from tbproject import deferred, waits
waiter = waits.arm(sys.argv[1])
print("armed", flush=True)
print("woken" if waiter.wait(60) else "timeout", waiter.payload, flush=True)
"""


def _python(code, *args, stdin=None):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tbproject.settings", "REDIS_URL": REDIS_URL}
    return subprocess.Popen([sys.executable, "-c", code, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


@needs_redis
def test_a_notification_crosses_processes_both_ways(settings):
    settings.REDIS_URL = REDIS_URL
    key = f"test:{uuid.uuid4()}"
    waiter = waits.arm(key)
    try:
        notifier = _python(NOTIFIER, key)
        out, err = notifier.communicate(timeout=BOUND)
        assert notifier.returncode == 0, err[-2000:]
        assert waiter.wait(BOUND) and waiter.payload == {"from": "another process"}
    finally:
        waits.disarm(waiter)
    other = _python(WAITER, key)
    try:
        assert other.stdout.readline().strip() == "armed"
        waits.notify(key, [1, "two"])
        out, err = other.communicate(timeout=BOUND)
    finally:
        other.kill()
    assert out.strip() == "woken [1, 'two']", err[-2000:]


@needs_redis
def test_notifications_use_a_channel_of_the_redis_database_and_leave_no_key(settings):
    import redis

    settings.REDIS_URL = REDIS_URL
    client = redis.Redis.from_url(REDIS_URL)
    key = f"test:{uuid.uuid4()}"
    waits.notify(key, None)
    db = client.connection_pool.connection_kwargs.get("db", 0)
    assert waits._channel(client) == f"{waits.CHANNEL}:{db}"
    assert not client.keys(f"*{key}*")
