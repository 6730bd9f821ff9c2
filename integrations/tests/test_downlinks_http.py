"""The HTTP integration's downlink (reference 3.7) through the real ingress: the Django view and
the lean ASGI app. A device's next uplink is answered 200 with its pending downlink as the body
(content type from the encoder), once; other devices and later uplinks get the usual 204."""

import json

import pytest

from integrations import queue
from integrations.downlinks import submit
from integrations.ingress import downlinks, routes
from integrations.models import DownlinkStatus, OutgoingDownlink
from integrations.tests.downlinks import attributes_msg, with_downlink
from integrations.tests.test_http_ingress import TRANSPORTS, post

S = DownlinkStatus
ENCODER = "return {contentType: msg.kind || 'JSON', data: msg.kind === 'BINARY' ? btoa('\\x01\\xfe') : " \
          "JSON.stringify({setpoint: msg.setpoint}), metadata: {}};"


@pytest.fixture(autouse=True)
def _fresh_caches():
    routes.CACHE.clear()
    downlinks.PENDING.clear()
    yield
    routes.CACHE.clear()
    downlinks.PENDING.clear()


@pytest.fixture(autouse=True)
def queued(monkeypatch) -> list:
    """What the ingress queues: the worker's side of uplinks is the pipeline's tests' business."""
    got = []

    async def accept(u):
        got.append(u)

    monkeypatch.setattr(queue, "accept", accept)
    return got


@pytest.fixture
def http(tenant):
    return with_downlink(tenant, ENCODER, name="HTTP downlinks", routing_key="dl-key",
                         configuration={"baseUrl": "http://localhost"})


@pytest.fixture
def send(tenant, django_capture_on_commit_callbacks):
    def run(integration, device, **data):
        with django_capture_on_commit_callbacks(execute=True):
            submit(tenant.pk, integration.pk, attributes_msg(tenant, device, data))

    return run


def uplink(transport, device: str, t: float = 21.5):
    return post(transport, key="dl-key", body=json.dumps({"id": device, "t": t}).encode())


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_the_devices_next_uplink_is_answered_with_its_downlink_once(transport, tenant, http, send):
    send(http, "m1", setpoint=18)
    answer = uplink(transport, "m1")
    assert answer.status == 200, answer.body
    assert json.loads(answer.body) == {"setpoint": 18} and answer.headers["content-type"] == "application/json"
    row = OutgoingDownlink.objects.get(integration=http)
    assert row.status == S.DELIVERED and row.delivered_ts and row.attempts == 1
    assert uplink(transport, "m1", 22.0).status == 204  # nothing waits any more


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_only_the_last_downlink_of_a_device_is_returned(transport, http, send):
    send(http, "m1", setpoint=17)
    send(http, "m1", setpoint=19)
    answer = uplink(transport, "m1")
    assert answer.status == 200 and json.loads(answer.body) == {"setpoint": 19}
    assert sorted(OutgoingDownlink.objects.values_list("status", flat=True)) == [S.DELIVERED, S.SUPERSEDED]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_another_devices_uplink_leaves_the_downlink_waiting(transport, http, send):
    send(http, "m1", setpoint=17)
    assert uplink(transport, "m2").status == 204
    assert OutgoingDownlink.objects.get().status == S.PENDING
    assert uplink(transport, "m1").status == 200


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_binary_and_text_downlinks_keep_their_content_type(transport, http, send):
    send(http, "m1", kind="BINARY")
    answer = uplink(transport, "m1")
    assert answer.status == 200 and answer.body == b"\x01\xfe"
    assert answer.headers["content-type"] == "application/octet-stream"
    send(http, "m1", kind="TEXT", setpoint=5)
    answer = uplink(transport, "m1")
    assert answer.body == b'{"setpoint":5}' and answer.headers["content-type"].startswith("text/plain")


def test_without_pending_downlinks_the_uplink_is_only_queued(tenant, http, monkeypatch, queued):
    monkeypatch.setattr(downlinks, "_decode", lambda *a: pytest.fail("decoded in the ingress"))
    assert uplink("asgi", "m1").status == 204 and len(queued) == 1
    assert downlinks.PENDING.get(str(http.pk)) == downlinks.NONE  # cached: later requests ask no query


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_an_uplink_is_queued_as_always_also_when_it_takes_a_downlink(transport, tenant, http, send, queued):
    send(http, "m1", setpoint=18)
    assert uplink(transport, "m2").status == 204  # decoded here: another device, nothing taken
    assert uplink(transport, "m1").status == 200
    assert [json.loads(u.payload)["id"] for u in queued] == ["m2", "m1"]


def test_an_encoder_failure_is_never_answered(tenant, http, send):
    http.downlink_converter.configuration = {"scriptLang": "JS", "encoder": "throw new Error('bad');"}
    http.downlink_converter.save()
    send(http, "m1", setpoint=1)
    assert OutgoingDownlink.objects.get().status == S.FAILED
    assert uplink("django", "m1").status == 204


def test_a_queue_failure_answers_503_and_keeps_the_downlink(tenant, http, send, monkeypatch):
    send(http, "m1", setpoint=1)

    async def broken(u):
        raise RuntimeError("broker down")

    monkeypatch.setattr(queue, "accept", broken)
    assert uplink("asgi", "m1").status == 503
    assert OutgoingDownlink.objects.get().status == S.PENDING


def test_a_decoder_that_fails_in_the_ingress_means_no_downlink_not_an_error(tenant, http, send):
    send(http, "m1", setpoint=1)
    assert post("asgi", key="dl-key", body=b"[not json").status == 400
    assert post("asgi", key="dl-key", body=b'"just a string"').status == 204
    assert OutgoingDownlink.objects.get().status == S.PENDING


def test_a_replace_no_content_integration_answers_200_without_body_when_nothing_waits(tenant, send):
    integration = with_downlink(tenant, ENCODER, name="OK", routing_key="dl-key",
                                configuration={"baseUrl": "http://x", "replaceNoContentToOk": True})
    send(integration, "m1", setpoint=3)
    first, second = uplink("asgi", "m1"), uplink("asgi", "m1")
    assert (first.status, json.loads(first.body)) == (200, {"setpoint": 3})
    assert (second.status, second.body) == (200, b"")


def test_concurrent_uplinks_that_miss_the_pending_cache_share_one_query(http, monkeypatch):
    import asyncio

    from asgiref.sync import async_to_sync

    loads = []
    original = downlinks._load_async

    async def counting(key):
        loads.append(key)
        await asyncio.sleep(0.01)
        return await original(key)

    monkeypatch.setattr(downlinks, "_load_async", counting)

    async def many():
        return await asyncio.gather(*(downlinks.pending(str(http.pk)) for _ in range(20)))

    assert async_to_sync(many)() == [downlinks.NONE] * 20
    assert loads == [str(http.pk)]
