"""A message that cannot be converted or stored fails alone, is kept whole, and can be replayed."""

import json

import pytest

from converters.models import DebugEvent
from devices.models import Device
from devices.telemetry import history
from devices.telemetry.writer import Point
from integrations import dead_letters, pipeline
from integrations.models import DeadLetter
from integrations.tests.uplinks import converter, integration, json_uplink, uplink, values
from tbproject.testing.api import assert_error

T0 = 1_760_000_000_000

PICKY = r"""
var data = JSON.parse(String.fromCharCode.apply(String, payload));
if (data.boom) throw new TypeError('cannot read ' + data.boom);
if (data.spin) { while (true) {} }
if (data.nested) return {deviceName: data.name, telemetry: {ts: 'soon', values: {x: 1}}};
return {deviceName: data.name, deviceType: 'probe', telemetry: {t: data.t}};
"""
FIXED = r"""
var data = JSON.parse(String.fromCharCode.apply(String, payload));
return {deviceName: data.name, deviceType: 'probe', telemetry: {t: data.t || 0, fixed: true}};
"""


@pytest.fixture
def picky(tenant):
    conv = converter(tenant, PICKY, name="picky")
    conv.debug_failures_enabled = True
    conv.save()
    return integration(tenant, conv, name="Picky", debug_failures_enabled=True)


def _events(entity, event_type):
    return list(DebugEvent.objects.filter(entity_id=entity.pk, event_type=event_type).order_by("created_time"))


def test_it_dead_letters_a_converter_exception_and_stores_the_rest(picky):
    bad = json_uplink(picky, {"name": "p", "boom": "x"}, ts=T0, topic="up/p", content_type="JSON")
    outcomes = pipeline.process([json_uplink(picky, {"name": "a", "t": 1}, ts=T0), bad,
                                 json_uplink(picky, {"name": "b", "t": 2}, ts=T0)])
    assert [o.status for o in outcomes] == ["ok", "failed", "ok"]
    assert values(Device.objects.get(name="a")) == {"t": 1} and values(Device.objects.get(name="b")) == {"t": 2}
    letter = DeadLetter.objects.get()
    assert (bytes(letter.payload), letter.metadata, letter.content_type, letter.stage, letter.attempts) == (
        bad.payload, {"integrationName": "Picky", "topic": "up/p"}, "JSON", "convert", 1)
    assert letter.received_ts == T0 and letter.error == "TypeError: cannot read x (line 3)"
    assert letter.tenant_id == picky.tenant_id
    [conv_event] = _events(picky.default_converter, "DEBUG_CONVERTER")
    assert conv_event.is_error and conv_event.body["error"] == letter.error
    assert json.loads(conv_event.body["in"]) == {"name": "p", "boom": "x"}
    [int_event] = _events(picky, "DEBUG_INTEGRATION")
    assert int_event.body["status"] == "ERROR" and int_event.body["error"] == letter.error
    assert int_event.body["type"] == "Uplink" and int_event.body["messageType"] == "JSON"


def test_it_dead_letters_a_converter_that_overruns_its_time_limit(picky, settings):
    settings.CONVERTER_TIMEOUT_MS = 200
    outcomes = pipeline.process([json_uplink(picky, {"name": "s", "spin": 1}),
                                 json_uplink(picky, {"name": "a", "t": 1})])
    assert [o.status for o in outcomes] == ["failed", "ok"]
    letter = DeadLetter.objects.get()
    assert letter.stage == "convert" and letter.error == "timeout: the script ran longer than 200 ms"
    assert values(Device.objects.get(name="a")) == {"t": 1}


def test_it_dead_letters_output_that_cannot_be_stored(picky):
    outcomes = pipeline.process([json_uplink(picky, {"name": "n", "nested": 1}), json_uplink(picky, {"t": 1}),
                                 json_uplink(picky, {"name": "a", "t": 1})])
    assert [(o.status, o.stage) for o in outcomes] == [("failed", "validate"), ("failed", "validate"), ("ok", None)]
    errors = sorted(DeadLetter.objects.values_list("error", flat=True))
    assert errors == ["Invalid converter output: output: deviceName or assetName is required",
                      "Invalid converter output: telemetry.ts: 'soon' is neither a timestamp in milliseconds nor "
                      "ISO-8601 text such as 2024-11-10T12:51:50Z"]
    assert sorted(e.body["error"] for e in _events(picky.default_converter, "DEBUG_CONVERTER")) == errors
    assert not Device.objects.filter(name="n").exists()


def test_it_dead_letters_values_no_database_can_hold(picky):
    outcomes = pipeline.process([json_uplink(picky, {"name": "z", "t": "nul\u0000byte"}),
                                 json_uplink(picky, {"name": "a", "t": 1})])
    assert [(o.status, o.stage) for o in outcomes] == [("failed", "store"), ("ok", None)]
    letter = DeadLetter.objects.get()
    assert "NUL" in letter.error and letter.stage == "store"
    assert values(Device.objects.get(name="a")) == {"t": 1}
    [event] = _events(picky, "DEBUG_INTEGRATION")
    assert event.body["error"] == letter.error


def test_it_isolates_a_message_whose_write_fails_unexpectedly(picky, monkeypatch):
    from integrations import store

    real = store.write_points

    def fussy(points, **kw):
        if any(Point(*p).value == 13 for p in points):  # the pipeline passes plain (entity, key, ts, value) tuples
            raise ValueError("unlucky value")
        return real(points, **kw)

    monkeypatch.setattr(store, "write_points", fussy)
    outcomes = pipeline.process([json_uplink(picky, {"name": n, "t": t}) for n, t in (("a", 1), ("b", 13), ("c", 3))])
    assert [o.status for o in outcomes] == ["ok", "failed", "ok"]
    assert DeadLetter.objects.get().error == "Cannot store the converter output: unlucky value"
    assert values(Device.objects.get(name="c")) == {"t": 3}


def test_a_replay_after_the_converter_is_fixed_recovers_the_data(picky):
    pipeline.process([json_uplink(picky, {"name": "p", "boom": "x", "t": 5}, ts=T0),
                      json_uplink(picky, {"name": "q", "nested": 1}, ts=T0 + 1)])
    assert DeadLetter.objects.count() == 2 and not Device.objects.exists()
    conv = picky.default_converter
    conv.configuration = {**conv.configuration, "decoder": FIXED}
    conv.save()
    assert dead_letters.replay(picky, start_ts=T0, end_ts=T0 + 1) == {"replayed": 2, "failed": 0, "remaining": 0}
    p = Device.objects.get(name="p")
    assert history(p.pk, ["t", "fixed"], T0, T0 + 1) == {"t": [(T0, 5)], "fixed": [(T0, True)]}
    assert values(Device.objects.get(name="q")) == {"t": 0, "fixed": True}
    assert all(letter.replayed_ts for letter in DeadLetter.objects.all())
    assert not dead_letters.pending(picky).exists()
    # replaying again finds nothing pending
    assert dead_letters.replay(picky, start_ts=0) == {"replayed": 0, "failed": 0, "remaining": 0}


def test_a_replay_that_fails_again_keeps_the_letter_with_the_new_error(picky):
    pipeline.process([json_uplink(picky, {"name": "p", "boom": "x"}, ts=T0)])
    conv = picky.default_converter
    conv.configuration = {**conv.configuration, "decoder": "throw new Error('still broken');"}
    conv.save()
    letter = DeadLetter.objects.get()
    assert dead_letters.replay(picky, ids=[letter.pk]) == {"replayed": 0, "failed": 1, "remaining": 0}
    letter.refresh_from_db()
    assert (letter.error, letter.attempts, letter.replayed_ts) == ("Error: still broken (line 1)", 2, None)
    assert DeadLetter.objects.count() == 1


def test_a_replay_runs_even_while_the_integration_is_disabled(picky):
    pipeline.process([json_uplink(picky, {"name": "p", "t": 7}, ts=T0)])  # stored normally
    picky.enabled = False
    picky.save()
    pipeline.process([json_uplink(picky, {"name": "p", "t": 8}, ts=T0 + 1)])
    assert DeadLetter.objects.get().stage == "integration"
    assert dead_letters.replay(picky, start_ts=T0)["replayed"] == 1
    assert values(Device.objects.get(name="p")) == {"t": 8}


def test_a_replay_takes_at_most_the_configured_number_of_letters(picky, settings):
    settings.REPLAY_MAX_MESSAGES = 3
    settings.UPLINK_BATCH_SIZE = 2
    pipeline.process([json_uplink(picky, {"name": f"d{i}", "boom": "x"}, ts=T0 + i) for i in range(5)])
    conv = picky.default_converter
    conv.configuration = {**conv.configuration, "decoder": FIXED}
    conv.save()
    assert dead_letters.replay(picky, start_ts=T0) == {"replayed": 3, "failed": 0, "remaining": 2}
    assert sorted(Device.objects.values_list("name", flat=True)) == ["d0", "d1", "d2"]
    assert dead_letters.replay(picky, start_ts=T0) == {"replayed": 2, "failed": 0, "remaining": 0}


def test_prune_deletes_letters_past_their_ttl(picky, settings):
    settings.DEAD_LETTERS_TTL_DAYS = 2
    pipeline.process([json_uplink(picky, {"boom": "x"}, ts=T0), json_uplink(picky, {"boom": "y"}, ts=T0 + 86_400_000)])
    assert dead_letters.prune(now=T0 + 2 * 86_400_000 + 1) == 1
    assert DeadLetter.objects.get().received_ts == T0 + 86_400_000
    settings.DEAD_LETTERS_TTL_DAYS = 0
    assert dead_letters.prune(now=T0 * 2) == 0


# --- API ---------------------------------------------------------------------------------------


def test_the_api_replays_by_id_and_answers_the_counts(api, picky):
    pipeline.process([json_uplink(picky, {"name": "p", "boom": "x"}, ts=T0),
                      json_uplink(picky, {"name": "q", "boom": "y"}, ts=T0 + 1)])
    conv = picky.default_converter
    conv.configuration = {**conv.configuration, "decoder": FIXED}
    conv.save()
    first = DeadLetter.objects.get(received_ts=T0)
    res = api.post(f"/api/integration/{picky.pk}/replay", {"ids": [{"id": str(first.pk)}]}, format="json")
    assert res.status_code == 200, res.content
    assert res.json() == {"replayed": 1, "failed": 0, "remaining": 0}
    assert Device.objects.filter(name="p").exists() and not Device.objects.filter(name="q").exists()
    res = api.post(f"/api/integration/{picky.pk}/replay", {"startTs": T0, "endTs": T0 + 1}, format="json")
    assert res.json() == {"replayed": 1, "failed": 0, "remaining": 0}


def test_the_api_lists_pending_dead_letters_as_page_data(api, picky):
    pipeline.process([json_uplink(picky, {"name": "p", "boom": "x"}, ts=T0),
                      uplink(picky, b"\xff\x00", ts=T0 + 1)])
    res = api.get(f"/api/integration/{picky.pk}/deadLetters?pageSize=10&page=0")
    assert res.status_code == 200, res.content
    body = res.json()
    assert body["totalElements"] == 2 and body["hasNext"] is False
    newest, oldest = body["data"]
    assert (newest["receivedTs"], newest["contentType"], newest["payload"], newest["payloadEncoding"]) == (
        T0 + 1, "BINARY", "/wA=", "base64")
    assert json.loads(oldest["payload"]) == {"name": "p", "boom": "x"} and oldest["stage"] == "convert"
    assert oldest["integrationId"] == {"entityType": "INTEGRATION", "id": str(picky.pk)}
    assert oldest["metadata"] == {"integrationName": "Picky"} and oldest["attempts"] == 1
    res = api.get(f"/api/integration/{picky.pk}/deadLetters?pageSize=10&page=0&textSearch=cannot read")
    assert [row["receivedTs"] for row in res.json()["data"]] == [T0]
    res = api.get(f"/api/integration/{picky.pk}/deadLetters?pageSize=10&page=0&startTime={T0 + 1}")
    assert [row["receivedTs"] for row in res.json()["data"]] == [T0 + 1]
    dead_letters.replay(picky, ids=[DeadLetter.objects.get(received_ts=T0).pk])  # fails again: still pending
    assert api.get(f"/api/integration/{picky.pk}/deadLetters?pageSize=10&page=0").json()["totalElements"] == 2


def test_the_api_refuses_bad_replay_requests(api, picky):
    url = f"/api/integration/{picky.pk}/replay"
    assert_error(api.post(url, {}, format="json"), 400, "ids")
    assert_error(api.post(url, {"ids": "x"}, format="json"), 400, "list")
    assert_error(api.post(url, {"ids": ["not-a-uuid"]}, format="json"), 400, "Invalid UUID")
    assert_error(api.post(url, {"startTs": "soon"}, format="json"), 400, "milliseconds")
    assert_error(api.post(url, [1], format="json"), 400)


def test_the_api_keeps_other_tenants_and_customer_users_out(picky, mallory_api, customer_api, anon):
    pipeline.process([json_uplink(picky, {"name": "p", "boom": "x"})])
    for client, status in ((mallory_api, 404), (customer_api, 403), (anon, 401)):
        assert_error(client.post(f"/api/integration/{picky.pk}/replay", {"startTs": 0}, format="json"), status)
        assert_error(client.get(f"/api/integration/{picky.pk}/deadLetters?pageSize=10&page=0"), status)
    assert DeadLetter.objects.get().attempts == 1
