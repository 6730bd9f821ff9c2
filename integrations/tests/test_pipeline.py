"""The uplink pipeline end to end on real converters: decode, normalise, provision, store, hand off."""

import struct
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from converters.tests.cases.binary import HISTORY, LHT65, TLV
from devices.attributes import get_attributes
from devices.models import Asset, Device
from devices.telemetry import history
from integrations import handoff, pipeline, store
from integrations.models import DeadLetter, Integration
from integrations.tests.uplinks import converter, integration, json_uplink, uplink, values
from tbproject.clock import now_ms

T0 = 1_760_000_000_000
LHT65_FRAME = struct.pack(">HhHBh", 0xC000 | 3050, -525, 634, 1, 2210)

ARRAY_DECODER = r"""
// A gateway report: one JSON body, many devices and one asset.
var body = JSON.parse(String.fromCharCode.apply(String, payload));
var out = body.devices.map(function (d) {
  return {deviceName: d.id, deviceType: 'meter', telemetry: {ts: d.ts, values: {kwh: d.kwh}},
          attributes: {gateway: body.gateway}};
});
out.push({assetName: body.gateway + ' site', assetType: 'site', telemetry: {devices: body.devices.length}});
return out;
"""


@pytest.fixture
def dispatched(monkeypatch):
    """What the pipeline hands the rule engine, as if the root chain acted on every message."""
    sent = []
    monkeypatch.setattr(handoff, "wanted", lambda tenant_id, msg_type: True)
    monkeypatch.setattr(handoff, "dispatch", lambda msgs, **kwargs: sent.extend(msgs))
    return sent


def test_it_stores_a_binary_lorawan_frame_as_telemetry_and_server_attributes(tenant):
    integ = integration(tenant, converter(tenant, LHT65))
    [outcome] = pipeline.process([uplink(integ, LHT65_FRAME, ts=T0, devEui="a84041000181c061")])
    assert outcome == pipeline.Outcome(pipeline.OK, converter_version=1)
    device = Device.objects.get(tenant=tenant, name="LHT65-a84041000181c061")
    assert device.profile.name == "LHT65"
    assert values(device) == {"battery": 3.05, "temperature": -5.25, "humidity": 63.4, "extTemperature": 22.1}
    assert history(device.pk, ["temperature"], T0, T0 + 1) == {"temperature": [(T0, -5.25)]}
    [attr] = get_attributes(device.pk)
    assert (attr["key"], attr["value"], attr["scope"], attr["lastUpdateTs"]) == (
        "batteryStatus", "good", "SERVER_SCOPE", T0)


def test_it_stores_every_entity_of_an_array_output(tenant, dispatched):
    integ = integration(tenant, converter(tenant, ARRAY_DECODER))
    body = {"gateway": "gw-1", "devices": [{"id": f"m-{i}", "ts": T0 + i, "kwh": 10.5 + i} for i in range(3)]}
    assert pipeline.process([json_uplink(integ, body, ts=T0 + 100)])[0].status == pipeline.OK
    meters = Device.objects.filter(tenant=tenant).order_by("name")
    assert [(d.name, d.profile.name) for d in meters] == [("m-0", "meter"), ("m-1", "meter"), ("m-2", "meter")]
    assert [history(d.pk, ["kwh"], T0, T0 + 10)["kwh"] for d in meters] == [[(T0, 10.5)], [(T0 + 1, 11.5)],
                                                                            [(T0 + 2, 12.5)]]
    site = Asset.objects.get(tenant=tenant, name="gw-1 site")
    assert site.profile.name == "site" and values(site) == {"devices": 3}
    assert get_attributes(meters[0].pk)[0]["value"] == "gw-1"
    kinds = sorted((m.originator_type, m.msg_type) for m in dispatched)
    assert kinds == ([("ASSET", "POST_TELEMETRY_REQUEST")] + [("DEVICE", "POST_ATTRIBUTES_REQUEST")] * 3
                     + [("DEVICE", "POST_TELEMETRY_REQUEST")] * 3)


def test_it_stores_each_point_at_its_own_timestamp(tenant):
    integ = integration(tenant, converter(tenant, HISTORY))
    frame = struct.pack(">IHhhh", 1_700_000_000, 600, 215, -12, 200)
    pipeline.process([uplink(integ, frame, deviceName="log-1")])
    device = Device.objects.get(name="log-1")
    got = history(device.pk, ["temperature"], 0, 2_000_000_000_000, order="ASC")["temperature"]
    assert got == [(1_699_998_800_000, 20.0), (1_699_999_400_000, -1.2), (1_700_000_000_000, 21.5)]


def test_it_stores_telemetry_without_ts_at_the_time_the_uplink_was_received(tenant):
    integ = integration(tenant)
    pipeline.process([json_uplink(integ, {"name": "d", "telemetry": {"t": 1}}, ts=T0)])
    assert history(Device.objects.get(name="d").pk, ["t"], T0, T0 + 1) == {"t": [(T0, 1)]}


def test_it_hands_stored_data_to_the_rule_engine_once_per_batch(tenant, monkeypatch):
    calls = []
    monkeypatch.setattr(handoff, "wanted", lambda tenant_id, msg_type: True)
    monkeypatch.setattr(handoff, "dispatch", lambda msgs, **kwargs: calls.append(msgs))
    integ = integration(tenant, name="Gateway")
    pipeline.process([json_uplink(integ, {"name": "d", "type": "th", "telemetry": {"t": 1}, "attributes": {"a": "x"}},
                                  ts=T0),
                      json_uplink(integ, {"name": "e", "telemetry": {"t": 2}}, ts=T0)])
    [batch] = calls
    tele = next(m for m in batch if m.msg_type == handoff.POST_TELEMETRY_REQUEST)
    assert tele.data == [{"ts": T0, "values": {"t": 1}}]
    assert tele.metadata == {"integrationName": "Gateway", "integrationId": str(integ.pk), "ts": str(T0),
                             "deviceName": "d", "deviceType": "th"}
    attrs = next(m for m in batch if m.msg_type == handoff.POST_ATTRIBUTES_REQUEST)
    assert attrs.data == {"a": "x"} and attrs.originator_id == Device.objects.get(name="d").pk
    assert len(batch) == 3


def test_messages_the_default_root_chain_would_only_pass_through_are_not_even_built(tenant, monkeypatch):
    calls = []
    monkeypatch.setattr(handoff, "dispatch", lambda msgs, **kwargs: calls.append(msgs))
    integ = integration(tenant)
    pipeline.process([json_uplink(integ, {"name": "d", "telemetry": {"t": 1}, "attributes": {"a": "x"}}, ts=T0)])
    assert calls == [[]]


def test_it_writes_update_only_keys_only_when_their_text_changes(tenant, dispatched):
    conv = converter(tenant, updateOnlyKeys=["fw", "state"])
    integ = integration(tenant, conv)

    def send(ts, **telemetry):
        fw = telemetry.pop("fw")
        body = {"name": "d", "telemetry": telemetry, "attributes": {"fw": fw, "model": "X"}}
        return json_uplink(integ, body, ts=ts)

    pipeline.process([send(T0, state="on", t=1, fw="1.0")])
    # in one batch: unchanged, changed, unchanged again, back to the first value
    pipeline.process([send(T0 + 1, state="on", t=1, fw="1.0"), send(T0 + 2, state="off", t=1, fw="1.1"),
                      send(T0 + 3, state="off", t=2, fw="1.1"), send(T0 + 4, state="on", t=2, fw="1.0")])
    device = Device.objects.get(name="d")
    states = history(device.pk, ["state", "t"], T0, T0 + 10, order="ASC")
    assert states["state"] == [(T0, "on"), (T0 + 2, "off"), (T0 + 4, "on")]
    assert [ts for ts, _ in states["t"]] == [T0, T0 + 1, T0 + 2, T0 + 3, T0 + 4]  # not listed: always written
    attrs = {a["key"]: (a["value"], a["lastUpdateTs"]) for a in get_attributes(device.pk)}
    assert attrs == {"fw": ("1.0", T0 + 4), "model": ("X", T0 + 4)}
    # a later batch compares with what is stored
    pipeline.process([send(T0 + 5, state="on", t=3, fw="1.0")])
    assert history(device.pk, ["state"], T0 + 5, T0 + 6) == {}
    assert {a["key"]: a["lastUpdateTs"] for a in get_attributes(device.pk)} == {"fw": T0 + 4, "model": T0 + 5}
    fw_updates = [m.data for m in dispatched if m.msg_type == handoff.POST_ATTRIBUTES_REQUEST]
    assert [d.get("fw") for d in fw_updates] == ["1.0", None, "1.1", None, "1.0", None]


def test_it_compares_update_only_keys_as_strings(tenant):
    integ = integration(tenant, converter(tenant, updateOnlyKeys=["v"]))
    pipeline.process([json_uplink(integ, {"name": "d", "telemetry": {"v": 1}}, ts=T0)])
    pipeline.process([json_uplink(integ, {"name": "d", "telemetry": {"v": "1"}}, ts=T0 + 1),
                      json_uplink(integ, {"name": "d", "telemetry": {"v": True}}, ts=T0 + 2),
                      json_uplink(integ, {"name": "d", "telemetry": {"v": "true"}}, ts=T0 + 3)])
    device = Device.objects.get(name="d")
    assert history(device.pk, ["v"], T0, T0 + 10, order="ASC") == {"v": [(T0, 1), (T0 + 2, True)]}


def test_it_writes_telemetry_in_one_call_and_does_not_query_per_message(tenant, monkeypatch):
    integ = integration(tenant, converter(tenant, TLV))
    frame = bytes([1, 0xFF, 0x9C, 2, 45])

    def batch(n, ts):
        return [uplink(integ, frame, ts=ts, deviceName=f"ers-{i}") for i in range(n)]

    pipeline.process(batch(40, T0))  # creates the devices
    calls = []
    real = store.write_points
    monkeypatch.setattr(store, "write_points", lambda points, **kw: calls.append(len(points)) or real(points, **kw))
    with CaptureQueriesContext(connection) as small:
        pipeline.process(batch(4, T0 + 1))
    with CaptureQueriesContext(connection) as large:
        pipeline.process(batch(40, T0 + 2))
    assert calls == [8, 80]
    assert len(large.captured_queries) == len(small.captured_queries), [q["sql"][:90] for q in large]
    assert len(large.captured_queries) <= 16, [q["sql"][:90] for q in large]


def test_it_runs_typed_v2_converters(tenant):
    conv = converter(tenant, "return {telemetry: {rssi: metadata.rssi * 1}, attributes: {eui: metadata.eui}};",
                     name="typed")
    conv.converter_version = 2
    conv.configuration = {**conv.configuration, "type": "DEVICE", "name": "Sensor $eui", "profile": "lora"}
    conv.save()
    integ = integration(tenant, conv)
    assert pipeline.process([uplink(integ, b"x", eui="70B3", rssi="-97")])[0].status == pipeline.OK
    device = Device.objects.get(name="Sensor 70B3")
    assert device.profile.name == "lora" and values(device) == {"rssi": -97}


def test_it_records_when_an_integration_last_received_and_its_last_error(tenant):
    integ = integration(tenant, converter(tenant, TLV))
    ok, bad = bytes([2, 45]), bytes([9])
    pipeline.process([uplink(integ, ok, ts=T0, deviceName="a"), uplink(integ, bad, ts=T0 + 5, deviceName="b")])
    integ.refresh_from_db()
    assert integ.last_message_ts == T0 + 5 and integ.version == 1
    assert integ.last_error.startswith("Error: unknown TLV type 0x9") and integ.last_error_ts == T0 + 5
    pipeline.process([uplink(integ, ok, ts=T0 + 1, deviceName="a")])  # an older message arriving late
    integ.refresh_from_db()
    assert integ.last_message_ts == T0 + 5


def test_it_dead_letters_the_uplinks_of_a_disabled_integration(tenant):
    integ = integration(tenant, enabled=False, name="Paused")
    [outcome] = pipeline.process([json_uplink(integ, {"name": "d", "telemetry": {"t": 1}})])
    assert outcome.status == pipeline.FAILED and outcome.stage == "integration"
    letter = DeadLetter.objects.get(integration=integ)
    assert letter.error == "Integration 'Paused' is disabled" and letter.content_type == "JSON"
    assert not Device.objects.filter(name="d").exists()


def test_it_drops_the_uplinks_of_a_deleted_integration_and_stores_the_rest(tenant, caplog):
    integ, gone = integration(tenant), integration(tenant)
    gone_uplink = json_uplink(gone, {"name": "x", "telemetry": {"t": 1}})
    Integration.objects.filter(pk=gone.pk).delete()
    outcomes = pipeline.process([gone_uplink, json_uplink(integ, {"name": "d", "telemetry": {"t": 1}})])
    assert [o.status for o in outcomes] == [pipeline.DROPPED, pipeline.OK]
    assert "no longer exists" in caplog.text
    assert not DeadLetter.objects.exists() and Device.objects.filter(name="d").exists()


def test_it_keeps_integrations_of_one_batch_apart(tenant, other_tenant):
    ours, theirs = integration(tenant), integration(other_tenant)
    pipeline.process([json_uplink(ours, {"name": "same", "telemetry": {"t": 1}}),
                      json_uplink(theirs, {"name": "same", "telemetry": {"t": 2}})])
    assert values(Device.objects.get(tenant=tenant, name="same")) == {"t": 1}
    assert values(Device.objects.get(tenant=other_tenant, name="same")) == {"t": 2}


def test_it_sets_a_missing_received_ts(tenant):
    integ = integration(tenant)
    before = now_ms()
    pipeline.process([json_uplink(integ, {"name": "d", "telemetry": {"t": 1}}, ts=0)])
    [(ts, _)] = history(Device.objects.get(name="d").pk, ["t"], before, now_ms() + 1)["t"]
    assert before <= ts


def test_it_runs_each_converter_once_per_batch_even_across_integrations(tenant, monkeypatch):
    from converters import engine

    shared, other = converter(tenant), converter(tenant)
    first, second, third = integration(tenant, shared), integration(tenant, shared), integration(tenant, other)
    calls = []
    real = engine.decode
    monkeypatch.setattr(engine, "decode", lambda key, *a, **k: calls.append(key) or real(key, *a, **k))
    pipeline.process([json_uplink(first, {"name": "a", "telemetry": {"t": 1}}),
                      json_uplink(third, {"name": "c", "telemetry": {"t": 3}}),
                      json_uplink(second, {"name": "b", "telemetry": {"t": 2}})])
    assert sorted(calls) == sorted([str(shared.pk), str(other.pk)])
    assert [values(Device.objects.get(name=n)) for n in "abc"] == [{"t": 1}, {"t": 2}, {"t": 3}]


def test_it_hands_stored_uplinks_only_to_a_connected_rule_engine(monkeypatch, caplog):
    """integrations/ does not import the rule engine: rulechains connects it (rulechains/apps.py)."""
    from rulechains import services, shortcut

    assert handoff._engine == (shortcut.acts_on_stored, services.submit)
    monkeypatch.setattr(handoff, "_engine", None)
    assert handoff.wanted(uuid.uuid4(), handoff.POST_TELEMETRY_REQUEST) is False
    handoff.dispatch([handoff.RuleEngineMsg(handoff.POST_TELEMETRY_REQUEST, uuid.uuid4(), "DEVICE", uuid.uuid4(), [])])
    assert "not connected" in caplog.text


def test_it_asks_the_rule_engine_once_per_tenant_and_message_type(tenant, monkeypatch):
    asked, submitted = [], []
    monkeypatch.setattr(handoff, "_engine", (lambda tenant_id, kind: asked.append(kind) or True, submitted.extend))
    integ = integration(tenant)
    pipeline.process([json_uplink(integ, {"name": "d", "telemetry": {"t": 1}, "attributes": {"a": "x"}}, ts=T0),
                      json_uplink(integ, {"name": "e", "telemetry": {"t": 2}}, ts=T0)])
    assert sorted(asked) == [handoff.POST_ATTRIBUTES_REQUEST, handoff.POST_TELEMETRY_REQUEST]
    assert len(submitted) == 3 and all(m.stored for m in submitted)
