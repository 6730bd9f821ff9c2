"""Per-integration deduplication (integrations/dedup.py): through the real ingress and pipeline,
on the database store (embedded) and on Redis when REDIS_URL is set (CI)."""

import json
import os

import pytest
from asgiref.sync import async_to_sync
from channels.testing import HttpCommunicator

from converters.models import DebugEvent
from devices.models import Device
from devices.telemetry.reads import history
from integrations import dedup, pipeline, stats
from integrations.ingress import routes
from integrations.models import Integration, IntegrationStats, UplinkSeen
from integrations.tests.factories import make_integration, make_uplink_converter
from integrations.tests.uplinks import debug_all, integration, json_uplink

T0 = 1_790_000_000_000
DECODER = ("var d = JSON.parse(String.fromCharCode.apply(null, payload)); "
           "return {deviceName: d.name, deviceType: 'sensor', telemetry: {t: d.t}};")
CS_DECODER = ("var d = JSON.parse(String.fromCharCode.apply(null, payload)); "
              "return {deviceName: d.deviceInfo.devEui, deviceType: 'lora', telemetry: {t: d.object.t}};")
EUI = "a84041000181c3d1"


@pytest.fixture(autouse=True)
def _isolated(settings):
    routes.CACHE.clear()
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.REDIS_URL = os.environ.get("REDIS_URL", "")
    yield
    routes.CACHE.clear()


@pytest.fixture
def clock(monkeypatch):
    """The pipeline's clock, moved by the test (the window is measured on it)."""
    now = [T0]
    monkeypatch.setattr(pipeline, "now_ms", lambda: now[0])
    return now


def post(endpoint, key, body, query=""):
    """POST through the real ASGI app; it answers once the pipeline ran (eager), so a cold
    converter engine on a busy machine may take seconds: a generous timeout, no timing asserted."""
    from tbproject.asgi import application

    path = f"/api/v1/integrations/{endpoint}/{key}" + (f"?{query}" if query else "")
    data = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    communicator = HttpCommunicator(application, "POST", path, body=data, headers=headers)
    answer = async_to_sync(communicator.get_response)(timeout=60)
    assert answer["status"] in (200, 204), answer["body"]


def points(name: str) -> list:
    device = Device.objects.get(name=name)
    return history(device.pk, ["t"], 0, 2**62, limit=100)["t"]


def stats_of(integ) -> tuple[int, int]:
    row = IntegrationStats.objects.get(integration=integ)
    return row.messages_processed, row.duplicates


def http_integration(tenant, dedup_config, key):
    conv = make_uplink_converter(tenant, f"decoder {key}", DECODER)
    return make_integration(tenant, f"http {key}", converter=conv, routing_key=key,
                            configuration={"baseUrl": "http://localhost", "deduplication": dedup_config})


@pytest.mark.django_db(transaction=True)  # the queue runs the pipeline in its own thread and connection
def test_the_same_body_posted_twice_within_the_window_is_stored_once(tenant, clock):
    integ = http_integration(tenant, {"key": "jsonpath:$.msgId", "windowSeconds": 60}, "dedup-1")
    body = {"name": "dd-1", "t": 1, "msgId": "m-1"}
    post("http", "dedup-1", body)
    clock[0] += 59_000
    post("http", "dedup-1", {**body, "t": 2})  # same msgId: a redelivery
    assert [v for _, v in points("dd-1")] == [1]
    assert stats_of(integ) == (1, 1)
    clock[0] += 2_000  # 61 s after the first: the window is over
    post("http", "dedup-1", {**body, "t": 3})
    assert sorted(v for _, v in points("dd-1")) == [1, 3]
    assert stats_of(integ) == (2, 1)


@pytest.mark.django_db(transaction=True)
def test_chirpstack_uplinks_with_the_same_deveui_and_fcnt_are_stored_once(tenant, clock):
    conv = make_uplink_converter(tenant, "cs decoder", CS_DECODER)
    integ = make_integration(tenant, "cs", kind="CHIRPSTACK", converter=conv, routing_key="dedup-cs",
                             configuration={"deduplication": {"key": "lorawan", "windowSeconds": 300}})
    up = {"deviceInfo": {"devEui": EUI, "deviceName": "dev"}, "fPort": 2, "fCnt": 41, "data": "AQI=",
          "object": {"t": 20}}
    post("chirpstack", "dedup-cs", up, "event=up")
    clock[0] += 1_000  # a second gateway's copy, forwarded by another network server instance
    post("chirpstack", "dedup-cs", {**up, "deviceInfo": {"devEui": EUI.upper()}, "object": {"t": 99}}, "event=up")
    clock[0] += 1_000
    post("chirpstack", "dedup-cs", {**up, "fCnt": 42, "object": {"t": 21}}, "event=up")
    assert sorted(v for _, v in points(EUI)) == [20, 21]
    assert stats_of(integ) == (2, 1)


@pytest.mark.django_db(transaction=True)
def test_an_http_integration_reads_a_chirpstack_body_as_lorawan(tenant, clock):
    conv = make_uplink_converter(tenant, "cs over http", CS_DECODER)
    integ = make_integration(tenant, "http-lora", converter=conv, routing_key="dedup-hl",
                             configuration={"baseUrl": "http://localhost",
                                            "deduplication": {"key": "lorawan"}})
    up = {"deviceInfo": {"devEui": EUI}, "fPort": 2, "fCnt": 7, "data": "AQI=", "object": {"t": 5}}
    post("http", "dedup-hl", up)
    post("http", "dedup-hl", up)
    assert stats_of(integ) == (1, 1)


def test_metadata_keys_and_duplicates_inside_one_batch(tenant, clock):
    integ = integration(tenant, configuration={"baseUrl": "x", "deduplication": {"key": "metadata:msgId"}})
    batch = [json_uplink(integ, {"name": "dm", "telemetry": {"a": i}}, ts=T0 + i, msgId=mid)
             for i, mid in enumerate(["a", "b", "a", "c"])]
    batch.append(json_uplink(integ, {"name": "dm", "telemetry": {"a": 9}}, ts=T0 + 9))  # no key: never a duplicate
    outcomes = pipeline.process(batch)
    assert [o.status for o in outcomes] == ["ok", "ok", "duplicate", "ok", "ok"]
    assert [o.status for o in pipeline.process(batch[1:2])] == ["duplicate"]
    assert stats_of(integ) == (4, 2)
    assert stats.persist(now=T0 + stats.HOUR_MS) == 1  # the hour's STATS event carries the count
    body = DebugEvent.objects.get(entity_id=integ.pk, event_type="STATS").body
    assert (body["messagesProcessed"], body["errorsOccurred"], body["duplicates"]) == (4, 0, 2)


def test_a_duplicate_is_a_debug_event_while_debug_all_is_on(tenant, clock):
    integ = integration(tenant, configuration={"baseUrl": "x", "deduplication": {"key": "metadata:id"}})
    debug_all(integ)
    up = json_uplink(integ, {"name": "dbg", "telemetry": {"v": 1}}, id="d1")
    pipeline.process([up, up])
    rows = DebugEvent.objects.filter(entity_id=integ.pk, event_type="DEBUG_INTEGRATION").order_by("id")
    assert sorted(e.body["status"] for e in rows) == ["DUPLICATE", "OK"]
    assert not any(e.is_error for e in rows)


def test_integrations_do_not_share_keys_and_others_are_untouched(tenant, clock):
    cfg = {"baseUrl": "x", "deduplication": {"key": "jsonpath:$.telemetry.n"}}
    one, two = integration(tenant, configuration=cfg), integration(tenant, configuration=cfg)
    plain = integration(tenant)
    body = {"name": "dx", "telemetry": {"n": 1}}
    outcomes = pipeline.process([json_uplink(one, body), json_uplink(two, body), json_uplink(plain, body),
                                 json_uplink(plain, body)])
    assert [o.status for o in outcomes] == ["ok"] * 4


def test_a_failed_batch_releases_its_keys_so_that_the_retry_is_stored(tenant, clock, monkeypatch):
    integ = integration(tenant, configuration={"baseUrl": "x", "deduplication": {"key": "metadata:id"}})
    up = json_uplink(integ, {"name": "dr", "telemetry": {"v": 1}}, id="x1")

    def broken(_):
        raise RuntimeError("database went away")

    monkeypatch.setattr(pipeline.store, "write", broken)
    with pytest.raises(RuntimeError):
        pipeline.process([up])
    monkeypatch.undo()
    monkeypatch.setattr(pipeline, "now_ms", lambda: T0)
    assert [o.status for o in pipeline.process([up])] == ["ok"]


def test_replays_are_not_deduplicated(tenant, clock):
    integ = integration(tenant, configuration={"baseUrl": "x", "deduplication": {"key": "metadata:id"}})
    up = json_uplink(integ, {"name": "dp", "telemetry": {"v": 1}}, id="r1")
    assert [o.status for o in pipeline.process([up])] == ["ok"]
    assert [o.status for o in pipeline.process([up], replay=True)] == ["ok"]


def test_expired_database_keys_are_pruned(tenant, settings):
    settings.REDIS_URL = ""
    integ = integration(tenant)
    assert dedup.claim([(str(integ.pk), "h1", 1000), (str(integ.pk), "h2", 5000)], now=T0) == {
        (str(integ.pk), "h1"), (str(integ.pk), "h2")}
    assert dedup.claim([(str(integ.pk), "h1", 1000)], now=T0 + 500) == set()
    assert dedup.claim([(str(integ.pk), "h1", 1000)], now=T0 + 1000) == {(str(integ.pk), "h1")}  # reclaimed
    assert dedup.prune(now=T0 + 2500) == 1 and list(UplinkSeen.objects.values_list("key_hash", flat=True)) == ["h2"]


@pytest.mark.parametrize("spec, payload, metadata, key", [
    ("jsonpath:$.a[1].b", b'{"a": [{}, {"b": 5}]}', {}, "5"),
    ("jsonpath:$['x y']", b'{"x y": "v"}', {}, '"v"'),
    ("jsonpath:$.missing", b'{"a": 1}', {}, None),
    ("jsonpath:$.a", b"\x00\xff not json", {}, None),
    ("metadata:topic", b"", {"topic": "t/1"}, "t/1"),
    ("lorawan", b'{"cmd": "rx", "EUI": "AB", "fcnt": 3, "data": "00"}', {}, "ab/3"),  # LORIOT, tried by HTTP
    ("lorawan", b'{"cmd": "rx"}', {}, None),
])
def test_keys(spec, payload, metadata, key):
    assert dedup.key_of(spec, "HTTP", payload, metadata) == key


@pytest.mark.parametrize("bad, message", [
    ({"key": "header:x"}, "deduplication.key"),
    ({"key": "jsonpath:$..x"}, "deduplication.key"),
    ({"key": "lorawan", "windowSeconds": 0}, "deduplication.windowSeconds"),
    ({"key": "lorawan", "window": 60}, "deduplication.window"),
    ("lorawan", "deduplication"),
])
def test_the_api_refuses_a_bad_deduplication_setting_and_keeps_the_rest(tenant, api, bad, message):
    conv = make_uplink_converter(tenant, "c", DECODER)
    body = {"name": "bad dedup", "type": "HTTP", "defaultConverterId": {"entityType": "CONVERTER", "id": str(conv.pk)},
            "configuration": {"baseUrl": "http://localhost", "deduplication": bad}}
    res = api.post("/api/integration", body, format="json")
    assert res.status_code == 400 and message in res.json()["message"], res.json()
    body["configuration"]["deduplication"] = {"key": "metadata:eui"}
    res = api.post("/api/integration", body, format="json")
    assert res.status_code == 200
    saved = api.get(f"/api/integration/{res.json()['id']['id']}").json()
    assert saved["configuration"]["deduplication"] == {"key": "metadata:eui"}  # read back as saved


@pytest.mark.django_db(transaction=True)  # each thread has its own database connection
def test_concurrent_workers_claiming_one_key_store_it_once(tenant):
    import threading

    from django.db import connection

    integ = integration(tenant)
    barrier, won = threading.Barrier(4), []

    def worker():
        try:
            barrier.wait()
            won.append(dedup.claim([(str(integ.pk), "same-key", 60_000)], now=T0))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(len(w) for w in won) == [0, 0, 0, 1]


def test_a_thingsboard_client_that_drops_unknown_keys_keeps_the_setting(tenant, api):
    conv = make_uplink_converter(tenant, "c", DECODER)
    body = {"name": "kept", "type": "HTTP", "defaultConverterId": {"entityType": "CONVERTER", "id": str(conv.pk)},
            "configuration": {"baseUrl": "http://localhost", "deduplication": {"key": "lorawan"}}}
    saved = api.post("/api/integration", body, format="json").json()
    as_thingsboard_ui = {**saved, "configuration": {"baseUrl": "http://localhost", "replaceNoContentToOk": True}}
    again = api.post("/api/integration", as_thingsboard_ui, format="json").json()
    assert again["configuration"] == {"baseUrl": "http://localhost", "replaceNoContentToOk": True,
                                      "deduplication": {"key": "lorawan"}}
    removed = api.post("/api/integration", {**again, "configuration": {**again["configuration"],
                                                                        "deduplication": None}}, format="json")
    assert removed.status_code == 200 and removed.json()["configuration"]["deduplication"] is None
    integ = Integration.objects.get(pk=saved["id"]["id"])
    assert dedup.settings_of(integ) is None
