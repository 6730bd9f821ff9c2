"""The HTTP integration endpoint (reference 3.7), through the Django test client and the real ASGI app.

Every status-code test runs on both transports: ``django`` (test client -> URLconf -> view) and
``asgi`` (tbproject.asgi.application, where the lean ingress app answers before Django).
"""

import asyncio
import json

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import ApplicationCommunicator, HttpCommunicator
from django.test import Client

from integrations import queue
from integrations.ingress import routes
from integrations.ingress.handler import content_kind
from integrations.messages import RawUplink
from integrations.models import Integration
from integrations.tests.factories import make_integration
from tbproject.clock import now_ms

TRANSPORTS = ["django", "asgi"]


@pytest.fixture(autouse=True)
def _empty_route_cache():
    routes.CACHE.clear()
    yield
    routes.CACHE.clear()


@pytest.fixture
def queued(monkeypatch) -> list[RawUplink]:
    """What the ingress hands to integrations.queue.accept (the queue itself is the pipeline's)."""
    received: list[RawUplink] = []

    async def accept(uplink: RawUplink) -> None:
        received.append(uplink)

    monkeypatch.setattr(queue, "accept", accept)
    return received


@pytest.fixture
def http(tenant):
    return make_integration(tenant, "HTTP in", routing_key="key-1",
                            configuration={"baseUrl": "http://localhost", "metadata": {"site": "north"}})


class Answer:
    def __init__(self, status: int, headers: dict[str, str], body: bytes):
        self.status, self.headers, self.body = status, headers, body

    def error(self, status: int, message: str = "") -> dict:
        assert self.status == status, (self.status, self.body[:300])
        assert self.headers.get("content-type") == "application/json"
        body = json.loads(self.body)
        assert body["status"] == status and isinstance(body["errorCode"], int) and message in body["message"]
        return body


def call(transport: str, method: str, path: str, body: bytes = b"", headers: dict | None = None) -> Answer:
    headers = dict(headers or {})
    if transport == "django":
        extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items() if k.lower() != "content-type"}
        if "content-type" in headers:  # as META, so that an empty body keeps it too
            extra["CONTENT_TYPE"] = headers["content-type"]
        res = Client().generic(method, path, body, **extra)
        return Answer(res.status_code, {k.lower(): v for k, v in res.headers.items()}, res.content)
    from tbproject.asgi import application

    raw = [(k.lower().encode(), v.encode("latin-1")) for k, v in headers.items()]
    if body and "content-length" not in {k.lower() for k in headers}:
        raw.append((b"content-length", str(len(body)).encode()))
    communicator = HttpCommunicator(application, method, path, body=body, headers=raw)
    # 10 s, not the default 1: the process's first request runs the start-up gc.collect() (tbproject/
    # gc_tuning.py), which took over a second in a large test session on a loaded machine
    res = async_to_sync(communicator.get_response)(timeout=10)
    return Answer(res["status"], {k.decode().lower(): v.decode() for k, v in res["headers"]}, res["body"])


def post(transport, key="key-1", body=b'{"id": "m1", "t": 21.5}', content_type="application/json", method="POST",
         **headers) -> Answer:
    headers = {k.replace("_", "-"): v for k, v in headers.items()}
    if content_type is not None:
        headers["content-type"] = content_type
    return call(transport, method, f"/api/v1/integrations/http/{key}", body, headers)


# --- accepted ------------------------------------------------------------------------------------

@pytest.mark.parametrize("transport", TRANSPORTS)
def test_it_queues_the_raw_body_with_its_metadata_and_answers_204(transport, http, queued):
    before = now_ms()
    answer = post(transport, X_Device_Token="abc", User_Agent="meter/1.0")
    assert answer.status == 204 and answer.body == b""
    [uplink] = queued
    assert uplink.integration_id == str(http.pk) and uplink.payload == b'{"id": "m1", "t": 21.5}'
    assert uplink.content_type == "JSON" and before <= uplink.received_ts <= now_ms()
    metadata = uplink.metadata
    assert metadata["integrationName"] == "HTTP in" and metadata["site"] == "north"
    assert metadata["Header:content-type"] == "application/json"
    assert metadata["Header:x-device-token"] == "abc" and metadata["Header:user-agent"] == "meter/1.0"
    assert all(k in ("integrationName", "site") or k.startswith("Header:") and k == k[:7] + k[7:].lower()
               for k in metadata)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_it_accepts_put_and_answers_200_with_replace_no_content_to_ok(transport, http, queued):
    assert post(transport, method="PUT").status == 204
    Integration.objects.filter(pk=http.pk).update(configuration={"replaceNoContentToOk": True})
    routes.CACHE.clear()  # update() sends no signal
    answer = post(transport)
    assert answer.status == 200 and answer.body == b"" and len(queued) == 2


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(("content_type", "body", "kind"), [
    ("application/json; charset=utf-8", b'[{"a": 1}, {"a": 2}]', "JSON"),
    ("application/vnd.api+json", b'{"a": 1}', "JSON"),
    ("text/plain", "température 21,5".encode(), "TEXT"),
    ("text/plain; charset=iso-8859-1", "température".encode("latin-1"), "TEXT"),
    ("application/octet-stream", bytes([0x0E, 0x10, 0xFF, 0x38, 0x00]), "BINARY"),
    ("application/x-www-form-urlencoded", b"id=m1&t=21.5", "TEXT"),
    ("multipart/form-data; boundary=XyZ",
     b'--XyZ\r\nContent-Disposition: form-data; name="f"\r\n\r\n\xff\x00\r\n--XyZ--\r\n', "BINARY"),
    (None, bytes([1, 2, 3]), "BINARY"),
])
def test_it_accepts_every_content_type_as_raw_bytes(transport, http, queued, content_type, body, kind):
    assert post(transport, body=body, content_type=content_type).status == 204
    assert queued[0].payload == body and queued[0].content_type == kind


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_get_and_head_are_health_checks(transport, http, queued):
    for method in ("GET", "HEAD"):
        answer = call(transport, method, "/api/v1/integrations/http/key-1")
        assert answer.status == 200 and answer.body == b""
    assert call(transport, "GET", "/api/v1/integrations/http/unknown").status == 404
    assert queued == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_the_header_filter_admits_only_matching_requests(transport, tenant, queued):
    make_integration(tenant, "secured", routing_key="key-s", configuration={
        "enableSecurity": True, "headersFilter": {"X-Api-Key": "k1", "X-Site": "north"}})
    post(transport, "key-s").error(403, "header filter")
    post(transport, "key-s", X_Api_Key="k1").error(403)
    post(transport, "key-s", X_Api_Key="wrong", X_Site="north").error(403)
    assert queued == []
    assert post(transport, "key-s", X_API_KEY="k1", x_site="north").status == 204
    assert queued[0].metadata["Header:x-api-key"] == "k1"


# --- refused -------------------------------------------------------------------------------------

@pytest.mark.parametrize("transport", TRANSPORTS)
def test_it_answers_404_for_an_unknown_key_or_the_wrong_type(transport, tenant, http, queued):
    make_integration(tenant, "mqtt", kind="MQTT", routing_key="key-m")
    post(transport, "nothing").error(404, "wasn't found")
    post(transport, "key-m").error(404)
    assert call(transport, "POST", "/api/v1/integrations/sigfox/key-1", b"{}",
                {"content-type": "application/json"}).status == 404
    assert queued == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_it_answers_503_for_a_disabled_integration(transport, http, queued):
    http.enabled = False
    http.save()  # the signal drops the cached route at once
    post(transport).error(503, "Integration is disabled")
    assert call(transport, "GET", "/api/v1/integrations/http/key-1").status == 503
    assert queued == []


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(("content_type", "body", "message"), [
    ("application/json", b'{"id": ', "Invalid JSON body"),
    ("application/json", b"", "Invalid JSON body"),
    ("application/json", b"[" * 100_000 + b"]" * 100_000, "Invalid JSON body"),
    ("text/plain", b"\xff\xfe\xfa", "not valid utf-8 text"),
    ("text/plain; charset=klingon", b"abc", "Unknown charset"),
])
def test_it_answers_400_for_a_body_its_content_type_cannot_carry(transport, http, queued, content_type, body,
                                                                  message, settings):
    settings.HTTP_INTEGRATION_MAX_BODY_BYTES = 1_000_000
    post(transport, body=body, content_type=content_type).error(400, message)
    assert queued == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_it_answers_413_for_a_body_over_the_limit(transport, http, queued, settings):
    settings.HTTP_INTEGRATION_MAX_BODY_BYTES = 100
    assert post(transport, body=b"x" * 100, content_type="text/plain").status == 204
    post(transport, body=b"x" * 101, content_type="text/plain").error(413, "larger than 100 bytes")
    assert len(queued) == 1


def test_the_asgi_app_stops_reading_a_streamed_body_past_the_limit(http, queued, settings):
    settings.HTTP_INTEGRATION_MAX_BODY_BYTES = 100
    from tbproject.asgi import application

    async def run():
        scope = {"type": "http", "http_version": "1.1", "method": "POST", "scheme": "http", "query_string": b"",
                 "path": "/api/v1/integrations/http/key-1", "headers": [(b"content-type", b"text/plain")]}
        communicator = ApplicationCommunicator(application, scope)
        for _ in range(3):  # no content-length: chunks of 60 bytes, the second one crosses the limit
            await communicator.send_input({"type": "http.request", "body": b"y" * 60, "more_body": True})
        start = await communicator.receive_output(1)
        body = await communicator.receive_output(1)
        return start["status"], body["body"]

    status, body = async_to_sync(run)()
    assert status == 413 and b"larger than 100 bytes" in body and queued == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_it_answers_503_when_the_queue_refuses(transport, http, queued, monkeypatch):
    async def broken(uplink):
        raise OSError("disk full")

    monkeypatch.setattr(queue, "accept", broken)
    answer = post(transport)
    answer.error(503, "could not be queued")
    assert answer.headers["retry-after"] == "1"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_it_answers_503_when_the_database_cannot_say_which_integration(transport, http, queued, monkeypatch):
    """Found by the fault suite (tests/faults/): a lookup cut by pg_terminate_backend answered 500."""
    from django.db import OperationalError

    def down(key):
        raise OperationalError("terminating connection due to administrator command")

    monkeypatch.setattr(routes, "_load", sync_to_async(down))
    answer = post(transport)
    answer.error(503, "could not be looked up")
    assert answer.headers["retry-after"] == "1" and queued == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_an_uplink_is_queued_when_the_database_cannot_say_whether_a_downlink_waits(transport, http, queued,
                                                                                 monkeypatch):
    from django.db import OperationalError

    from integrations.ingress import downlinks

    async def down(integration_id):
        raise OperationalError("the connection is lost")

    monkeypatch.setattr(downlinks, "pending", down)
    assert post(transport).status == 204 and len(queued) == 1


def test_a_read_runs_once_more_on_a_new_connection_when_the_server_broke_the_first(transactional_db):
    from django.db import OperationalError, connection

    seen = []

    def query():
        connection.ensure_connection()
        seen.append(connection.connection)  # kept: a new one cannot reuse its id
        if len(seen) == 1:
            raise OperationalError("terminating connection due to administrator command")
        return "row"

    assert routes.read(query) == "row"
    assert len(seen) == 2 and seen[0] is not seen[1]


def test_a_read_that_fails_twice_raises(transactional_db):
    from django.db import OperationalError

    def query():
        raise OperationalError("could not connect to server")

    with pytest.raises(OperationalError):
        routes.read(query)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_other_methods_are_refused(transport, http, queued):
    answer = call(transport, "DELETE", "/api/v1/integrations/http/key-1")
    answer.error(405)
    assert answer.headers["allow"] == "GET, HEAD, POST, PUT"


def test_the_asgi_app_hands_every_other_request_to_django(db):
    from tbproject.asgi import application

    res = async_to_sync(HttpCommunicator(application, "GET", "/healthz").get_response)()
    assert res["status"] == 200 and json.loads(res["body"]) == {"status": "ok"}
    res = async_to_sync(HttpCommunicator(application, "GET", "/api/v1/integrations/http").get_response)()
    assert res["status"] == 404  # not an ingress path: Django's JSON 404


# --- the routing-key cache -----------------------------------------------------------------------

def test_a_cached_key_costs_no_query(http, queued, django_assert_num_queries):
    assert post("django").status == 204 and post("django", "nothing").status == 404
    with django_assert_num_queries(0):
        assert post("django").status == 204
        assert post("django", "nothing").status == 404  # unknown keys are cached too
    assert len(queued) == 2


def test_saves_and_deletes_drop_the_cached_route_and_other_changes_expire(http, queued, monkeypatch):
    assert post("django").status == 204
    http.routing_key = "key-2"
    http.save()
    assert post("django", "key-1").status == 404 and post("django", "key-2").status == 204
    later = routes.CACHE.clock() + routes.TTL_SECONDS + 1
    monkeypatch.setattr(routes.CACHE, "clock", lambda: later)  # TTL_SECONDS have passed
    Integration.objects.filter(pk=http.pk).update(enabled=False)  # another process's change: no signal here
    assert post("django", "key-2").status == 503
    http.delete()
    assert post("django", "key-2").status == 404


def test_concurrent_misses_share_one_load(http, monkeypatch):
    loads = []
    original = routes._load

    async def counting(key):
        loads.append(key)
        await asyncio.sleep(0.01)
        return await original(key)

    monkeypatch.setattr(routes, "_load", counting)

    async def many():
        return await asyncio.gather(*(routes.lookup("key-1") for _ in range(20)))

    found = async_to_sync(many)()
    assert loads == ["key-1"] and {route.integration_id for route in found} == {str(http.pk)}


def test_a_load_racing_an_invalidation_is_not_stored():
    generation = routes.CACHE.generation
    routes.CACHE.invalidate("k")
    routes.CACHE.put("k", None, generation)
    assert routes.CACHE.get("k") == (False, None)


def test_the_cache_is_bounded():
    cache = routes.RouteCache(ttl=60, max_entries=3)
    for key in "abcd":
        cache.put(key, None, cache.generation)
    assert [cache.get(k)[0] for k in "abcd"] == [False, True, True, True]


def test_content_kinds():
    assert content_kind("Application/JSON; charset=UTF-8") == ("JSON", "UTF-8")
    assert content_kind("text/csv") == ("TEXT", "")
    assert content_kind("application/soap+xml; charset=\"utf-16\"") == ("TEXT", "utf-16")
    assert content_kind("image/png") == ("BINARY", "")
    assert content_kind("") == ("BINARY", "")


# --- end to end: POST -> queue -> pipeline (eager, embedded mode) -> device and telemetry ----------

@pytest.mark.django_db(transaction=True)  # the queue runs the pipeline in its own thread and connection
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_post_becomes_a_device_with_telemetry(transport, tenant, settings):
    from devices.models import Device
    from devices.telemetry import latest

    settings.CELERY_TASK_ALWAYS_EAGER = True
    make_integration(tenant, "HTTP e2e", routing_key=f"e2e-{transport}")
    answer = post(transport, f"e2e-{transport}", body=json.dumps({"id": f"meter-{transport}", "t": 21.5}).encode())
    assert answer.status == 204, answer.body
    device = Device.objects.get(tenant=tenant, name=f"meter-{transport}")
    assert {key: value for key, (_, value) in latest(device.pk, ["t"]).items()} == {"t": 21.5}
