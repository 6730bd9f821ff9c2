"""tbproject/waits.py: one waiting mechanism for replies, RPC polls and attribute polls.

Many waiting requests under the ASGI app hold no thread each (threading.active_count() before and
while they wait; a bound on loops, never a measured time), notifications reach them in process and
across processes (Redis db of REDIS_URL, when set), the caps answer ThingsBoard's 429, and a
client that goes away gives its slot back."""

import asyncio
import json
import os
import threading
import time
import uuid

import pytest
from django.core.asgi import get_asgi_application
from django.db import connections

from devices import attribute_updates
from devices.api import device_http
from devices.models import DeviceCredentials
from rulechains import rpc_calls
from rulechains.models import Rpc
from tbproject import deferred, waits
from tbproject.clock import now_ms
from tbproject.testing.factories import make_device

REDIS_URL = os.environ.get("REDIS_URL", "")
BOUND = 60  # seconds: a bound on a step, never a measurement
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="needs Redis (set REDIS_URL; .ci/run does)")


@pytest.fixture(params=["embedded", pytest.param("redis", marks=needs_redis)])
def mode(request, settings):
    settings.REDIS_URL = REDIS_URL if request.param == "redis" else ""
    return request.param


@pytest.fixture(autouse=True)
def no_cached_tokens():
    device_http._TOKENS.forget()


@pytest.fixture(autouse=True)
def connections_closed_after_each_request(monkeypatch):
    """As the web process runs (tbproject/asgi.py: DB_CONN_MAX_AGE=0): each request's thread closes its
    database connection when the request is done. With the suite's CONN_MAX_AGE (60 s on PostgreSQL) the
    hundreds of request threads below would each keep one open, past PostgreSQL's max_connections, for
    every later test of the run."""
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)
    yield
    connections.close_all()


def token(device) -> str:
    return DeviceCredentials.objects.get(device=device).credentials_id


async def _until(check, what: str):
    deadline = time.monotonic() + BOUND
    while not check():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        await asyncio.sleep(0.01)


async def _in_waves(request, tenant, n: int = 200, wave: int = 25) -> list:
    """``n`` waiting requests, started ``wave`` at a time: each wave is waiting (its threads and database
    connections gone) before the next starts, as a fleet's polls arrive over time. All at once, each
    request's thread holds a connection while its view runs: 200 of them pass PostgreSQL's
    max_connections (a deployment bounds that with DB_POOL_SIZE)."""
    polls: list = []
    while len(polls) < n:
        polls += [asyncio.create_task(request()) for _ in range(min(wave, n - len(polls)))]
        started = len(polls)
        await _until(lambda started=started: waits.count(tenant.pk) == started, f"{started} polls waiting")
    return polls


class Asgi:
    """Drives an ASGI app the way a server does: one task per request, a disconnect on demand."""

    def __init__(self):
        self.app = deferred.with_waits(get_asgi_application())

    async def request(self, path: str, query: str = "", method: str = "GET", gone: asyncio.Event | None = None,
                      body: bytes = b"", headers=(), full: bool = False):
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
                 "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query.encode(),
                 "root_path": "", "headers": [(b"host", b"testserver"), *headers], "client": ("127.0.0.1", 5000),
                 "server": ("testserver", 80)}
        sent, body_given = [], False
        gone = gone or asyncio.Event()

        async def receive():
            nonlocal body_given
            if not body_given:
                body_given = True
                return {"type": "http.request", "body": body, "more_body": False}
            await gone.wait()
            return {"type": "http.disconnect"}

        async def send(message):
            sent.append(message)

        await self.app(scope, receive, send)
        if not sent:
            return None, b""
        answer = sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])
        return (*answer, dict(sent[0]["headers"])) if full else answer


def test_one_timeout_rule():
    assert waits.wait_ms(None, 60_000) == 60_000
    assert waits.wait_ms(0, 10_000) == 10_000 and waits.wait_ms(-5, 10_000) == 10_000
    assert waits.wait_ms(20_000, 60_000) == 20_000
    assert waits.wait_ms(10**12, 60_000) == waits.MAX_WAIT_MS == 300_000


def test_a_notification_wakes_every_waiter_of_its_key_once_and_no_other(settings):
    settings.REDIS_URL = ""
    a1, a2, b = waits.arm("k:a"), waits.arm("k:a"), waits.arm("k:b")
    try:
        waits.notify("k:a", {"n": 1})
        waits.notify("k:a", {"n": 2})
        assert a1.wait(BOUND) and a2.wait(BOUND)
        assert a1.payload == a2.payload == {"n": 1}  # one-shot: the first one
        assert not b.wait(0) and b.payload is None
    finally:
        for w in (a1, a2, b):
            waits.disarm(w)
    assert waits.waiting("k:a") == waits.waiting("k:b") == 0


def test_the_caps_count_per_tenant_and_per_process(settings):
    settings.MAX_WAITING_REQUESTS, settings.MAX_WAITING_REQUESTS_PER_TENANT = 3, 2
    mine, theirs = uuid.uuid4(), uuid.uuid4()
    held = [waits.reserve(mine), waits.reserve(mine)]
    with pytest.raises(waits.TooManyWaiting):
        waits.reserve(mine)  # the tenant's share
    held.append(waits.reserve(theirs))
    with pytest.raises(waits.TooManyWaiting):
        waits.reserve(uuid.uuid4())  # the process's
    held[0].release()
    held[0].release()  # idempotent
    held.append(waits.reserve(mine))
    for slot in held:
        slot.release()
    assert waits.count() == 0


def test_the_caps_count_per_device_poll_kind_and_the_defaults_keep_tenants_apart(settings):
    from tbproject import settings as defaults

    assert defaults.MAX_WAITING_REQUESTS_PER_TENANT * 2 < defaults.MAX_WAITING_REQUESTS  # two cannot fill it
    assert defaults.MAX_WAITING_REQUESTS_PER_DEVICE == 2
    settings.MAX_WAITING_REQUESTS, settings.MAX_WAITING_REQUESTS_PER_TENANT = 100, 50
    settings.MAX_WAITING_REQUESTS_PER_DEVICE = 2
    tenant, device = uuid.uuid4(), uuid.uuid4()
    attrs, rpc = attribute_updates.key(device), rpc_calls.poll_key(device)
    held = [waits.reserve(tenant, attrs), waits.reserve(tenant, attrs), waits.reserve(tenant, rpc)]
    with pytest.raises(waits.TooManyWaiting):
        waits.reserve(tenant, attrs)  # the device's share of attribute polls
    held += [waits.reserve(tenant, rpc), waits.reserve(tenant, attribute_updates.key(uuid.uuid4())),
             waits.reserve(tenant)]  # its RPC polls count apart; other devices and other waits go on
    with pytest.raises(waits.TooManyWaiting):
        waits.reserve(tenant, rpc)
    assert waits.count(device=attrs) == 2 and waits.count(tenant) == 6
    held[0].release()
    held[0].release()  # idempotent
    held.append(waits.reserve(tenant, attrs))
    for slot in held:
        slot.release()
    assert waits.count() == 0 and waits.count(device=attrs) == 0


@pytest.mark.django_db(transaction=True)
def test_one_device_cannot_take_its_tenants_share_of_waiting_polls(tenant, settings):
    settings.REDIS_URL = ""
    settings.MAX_WAITING_REQUESTS_PER_DEVICE = 2
    device, other = make_device(tenant, "greedy"), make_device(tenant, "polite")
    tok, other_tok, asgi, gone = token(device), token(other), Asgi(), asyncio.Event()

    async def scenario():
        waiting = [asyncio.create_task(asgi.request(f"/api/v1/{tok}/{kind}", "timeout=120000", gone=gone))
                   for kind in ("attributes/updates", "attributes/updates", "rpc", "rpc")]
        await _until(lambda: waits.count(tenant.pk) == 4, "4 polls waiting")
        refused = [await asgi.request(f"/api/v1/{tok}/{kind}", "timeout=1000")
                   for kind in ("attributes/updates", "rpc")]
        others = await asgi.request(f"/api/v1/{other_tok}/attributes/updates", "timeout=1")
        gone.set()
        await asyncio.wait_for(asyncio.gather(*waiting), BOUND)
        return refused, others

    refused, others = asyncio.run(scenario())
    assert [status for status, _ in refused] == [429, 429]
    assert "Too many requests" in json.loads(refused[0][1])["message"]
    assert others == (408, b"")  # the tenant's other devices still poll
    assert waits.count() == 0


@pytest.mark.django_db(transaction=True)
def test_one_device_cannot_take_its_tenants_share_with_client_side_rpc_calls(tenant, settings):
    settings.REDIS_URL = ""
    settings.MAX_WAITING_REQUESTS_PER_DEVICE = 2
    device, other = make_device(tenant, "chatty"), make_device(tenant, "quiet")
    tok, other_tok, asgi, gone = token(device), token(other), Asgi(), asyncio.Event()
    call = json.dumps({"method": "getTime", "params": {}}).encode()
    json_type = [(b"content-type", b"application/json")]

    async def scenario():
        # nothing in the root chain answers a client-side call: each waits until the client goes
        waiting = [asyncio.create_task(asgi.request(f"/api/v1/{tok}/rpc", method="POST", body=call, gone=gone,
                                                    headers=json_type)) for _ in range(2)]
        await _until(lambda: waits.count(tenant.pk) == 2, "2 client-side calls waiting")
        refused = await asgi.request(f"/api/v1/{tok}/rpc", method="POST", body=call, headers=json_type)
        others = asyncio.create_task(asgi.request(f"/api/v1/{other_tok}/rpc", method="POST", body=call, gone=gone,
                                                  headers=json_type))
        await _until(lambda: waits.count(tenant.pk) == 3, "the other device's call waiting")
        gone.set()
        await asyncio.wait_for(asyncio.gather(*waiting, others), BOUND)
        return refused

    status, body = asyncio.run(scenario())
    assert status == 429 and "Too many requests" in json.loads(body)["message"]
    assert waits.count() == 0


@pytest.mark.django_db(transaction=True)
def test_200_waiting_attribute_polls_hold_no_thread_each_and_all_get_the_change(tenant, mode, settings):
    settings.MAX_WAITING_REQUESTS_PER_DEVICE = 1000  # one device stands in for a fleet
    device = make_device(tenant, "fleet-1")
    path = f"/api/v1/{token(device)}/attributes/updates"
    asgi = Asgi()

    async def scenario():
        before = threading.active_count()
        polls = await _in_waves(lambda: asgi.request(path, "timeout=120000"), tenant)
        # each request's thread (Django's per-request executor) ends once its view deferred
        await _until(lambda: threading.active_count() <= before + 8, "the request threads to end")
        during = threading.active_count()
        await asyncio.to_thread(attribute_updates._publish, [(str(device.pk), {"target": 21}, [])])
        done = await asyncio.wait_for(asyncio.gather(*polls), BOUND)
        return before, during, done

    before, during, done = asyncio.run(scenario())
    assert during <= before + 8  # not 200 more: at most the Redis listener and the waits pool (4)
    assert {status for status, _ in done} == {200}
    assert all(json.loads(body) == {"target": 21} for _, body in done)
    assert waits.count() == 0 and attribute_updates.waiting(device.pk) == 0


@pytest.mark.django_db(transaction=True)
def test_200_waiting_rpc_polls_one_call_is_taken_once_and_the_rest_time_out(tenant, mode, settings):
    settings.MAX_WAITING_REQUESTS_PER_DEVICE = 1000  # one device stands in for a fleet
    device = make_device(tenant, "fleet-2")
    path = f"/api/v1/{token(device)}/rpc"
    asgi = Asgi()

    async def scenario():
        before = threading.active_count()
        # 8 s: every wave must be waiting before the first times out (3 s was too short on a loaded CI machine)
        polls = await _in_waves(lambda: asgi.request(path, "timeout=8000"), tenant)
        await _until(lambda: threading.active_count() <= before + 8, "the request threads to end")
        during = threading.active_count()
        await asyncio.to_thread(_queue_call, device)
        done = await asyncio.wait_for(asyncio.gather(*polls), BOUND)
        return before, during, done

    before, during, done = asyncio.run(scenario())
    assert during <= before + 8
    taken = [json.loads(body) for status, body in done if status == 200]
    assert [c["method"] for c in taken] == ["setValve"]  # exactly one poll got it
    assert sorted({status for status, _ in done}) == [200, 408]
    assert not Rpc.objects.exists()  # a lightweight one-way call is gone once taken
    assert waits.count() == 0


def _queue_call(device):
    from django.db import connection

    try:
        rpc_calls.record(device.tenant_id, device.pk, str(uuid.uuid4()), {"method": "setValve", "params": "{}"},
                         oneway=True, persistent=False, expiration_time=now_ms() + 600_000)
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_past_the_cap_a_poll_is_thingsboards_429_and_a_gone_client_gives_its_slot_back(tenant, settings):
    settings.REDIS_URL = ""
    settings.MAX_WAITING_REQUESTS_PER_TENANT = 2
    device = make_device(tenant, "fleet-3")
    tok, asgi, gone = token(device), Asgi(), asyncio.Event()

    async def scenario():
        waiting = [asyncio.create_task(asgi.request(f"/api/v1/{tok}/attributes/updates", "timeout=120000", gone=gone))
                   for _ in range(2)]
        await _until(lambda: waits.count(tenant.pk) == 2, "2 polls waiting")
        refused = await asgi.request(f"/api/v1/{tok}/rpc", "timeout=1000")
        gone.set()  # both clients hang up
        ended = await asyncio.wait_for(asyncio.gather(*waiting), BOUND)
        return refused, ended

    (status, body), ended = asyncio.run(scenario())
    assert status == 429
    assert json.loads(body)["errorCode"] == 33 and "Too many requests" in json.loads(body)["message"]
    assert ended == [(None, b""), (None, b"")]  # nothing sent to a client that is gone
    assert waits.count() == 0 and attribute_updates.waiting(device.pk) == 0


@pytest.mark.django_db(transaction=True)
def test_the_web_process_application_answers_long_polls_without_a_thread(tenant, settings):
    from tbproject.asgi import application

    settings.REDIS_URL = ""
    settings.MAX_WAITING_REQUESTS_PER_DEVICE = 1000  # one device stands in for a fleet
    device = make_device(tenant, "fleet-4")
    path = f"/api/v1/{token(device)}/attributes/updates"
    asgi = Asgi()
    asgi.app = application

    async def scenario():
        before = threading.active_count()
        polls = [asyncio.create_task(asgi.request(path, "timeout=120000")) for _ in range(20)]
        await _until(lambda: waits.count(tenant.pk) == 20, "20 polls waiting")
        await _until(lambda: threading.active_count() <= before + 8, "the request threads to end")
        await asyncio.to_thread(attribute_updates._publish, [(str(device.pk), {"on": True}, [])])
        return await asyncio.wait_for(asyncio.gather(*polls), BOUND)

    assert asyncio.run(scenario()) == [(200, b'{"on": true}')] * 20


@pytest.mark.django_db(transaction=True)
def test_rule_engine_calls_wait_without_a_thread_and_answer_in_drf_shape(tenant, tenant_admin, mode):
    """The DRF view (JWT, originator checks) runs in the request's thread; the wait goes on without it."""
    from rulechains import nodes, replies
    from rulechains.tests.helpers import install_root, node
    from tbproject.api.tokens import issue_pair

    install_root(tenant, [node(nodes.SWITCH, "Message Type Switch", version=0)], [])  # nobody replies
    device = make_device(tenant, "thermo-9")
    auth = [(b"x-authorization", f"Bearer {issue_pair(tenant_admin)['token']}".encode()),
            (b"content-type", b"application/json")]
    asgi = Asgi()

    async def scenario():
        before = threading.active_count()
        calls = [asyncio.create_task(asgi.request(f"/api/rule-engine/DEVICE/{device.pk}/120000", method="POST",
                                                  body=b'{"n": %d}' % i, headers=auth, full=True))
                 for i in range(20)]
        await _until(lambda: waits.count(tenant.pk) == 20, "20 calls waiting")
        await _until(lambda: threading.active_count() <= before + 8, "the request threads to end")
        with waits._lock:
            keys = [k for k in waits._waiters if k.startswith(f"reply:{tenant.pk}:")]
        await asyncio.to_thread(replies.send, tenant.pk, [(k.rsplit(":", 1)[1], '{"ok": 1}', None) for k in keys])
        answered = await asyncio.wait_for(asyncio.gather(*calls), BOUND)
        late = await asgi.request(f"/api/rule-engine/DEVICE/{device.pk}/50", method="POST", body=b"{}",
                                  headers=auth, full=True)
        return answered, late

    answered, (status, body, headers) = asyncio.run(scenario())
    assert [(s, b) for s, b, _ in answered] == [(200, b'{"ok": 1}')] * 20
    assert all(h[b"content-type"] == b"application/json" for _, _, h in answered)
    assert all(h.get(b"x-content-type-options") == b"nosniff" for _, _, h in answered)  # middleware's headers kept
    assert status == 408 and "no reply within 50 ms" in json.loads(body)["message"]
    assert waits.count() == 0
