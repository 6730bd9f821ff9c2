"""Rolling arguments in SCRIPT fields: ThingsBoard's TbelCfTsRollingArg methods, through testScript and a field.

The merge/mergeAll inputs and outputs are the ones of ThingsBoard's calculated-field help
(ui-ngx help calculated-field/examples/merge-functions)."""

import json

import pytest

from calculated.tests.helpers import latest, save, script

WINDOW = {"startTs": 1741356332086, "endTs": 1741357232086}
HELP_ARGUMENTS = {
    "humidity": {"type": "TS_ROLLING", "timeWindow": WINDOW, "values": [
        {"ts": 1741356882759, "value": 43}, {"ts": 1741356918779, "value": 46}]},
    "pressure": {"type": "TS_ROLLING", "timeWindow": WINDOW, "values": [
        {"ts": 1741357047945, "value": 1023}, {"ts": 1741357056144, "value": 1026},
        {"ts": 1741357147391, "value": 1025}]},
    "temperature": {"type": "TS_ROLLING", "timeWindow": WINDOW, "values": [
        {"ts": 1741356874943, "value": 76}, {"ts": 1741357063689, "value": 77}]},
}
WITH_NAN = {"t": {"type": "TS_ROLLING", "timeWindow": {"startTs": 0, "endTs": 100}, "values": [
    {"ts": 10, "value": 72.32}, {"ts": 20, "value": 72.86}, {"ts": 30, "value": 73.58}, {"ts": 40, "value": "NaN"}]}}


def _run(api, expression, arguments):
    res = api.post("/api/calculatedField/testScript", {"expression": expression, "arguments": arguments},
                   format="json")
    assert res.status_code == 200, res.content
    answer = res.json()
    assert answer["error"] == "", answer
    return json.loads(answer["output"])


def test_it_merges_as_thingsboards_help_shows(api):
    out = _run(api, "return {mergedData: temperature.merge(humidity, { ignoreNaN: false })};", HELP_ARGUMENTS)
    assert out == {"mergedData": {"timeWindow": WINDOW, "values": [
        {"ts": 1741356874943, "values": [76.0, "NaN"]}, {"ts": 1741356882759, "values": [76.0, 43.0]},
        {"ts": 1741356918779, "values": [76.0, 46.0]}, {"ts": 1741357063689, "values": [77.0, 46.0]}]}}


def test_it_merges_all_as_thingsboards_help_shows(api):
    out = _run(api, "return {mergedData: temperature.mergeAll([humidity, pressure], { ignoreNaN: true })};",
               HELP_ARGUMENTS)
    assert out == {"mergedData": {"timeWindow": WINDOW, "values": [
        {"ts": 1741357047945, "values": [76.0, 46.0, 1023.0]},
        {"ts": 1741357056144, "values": [76.0, 46.0, 1026.0]},
        {"ts": 1741357063689, "values": [77.0, 46.0, 1026.0]},
        {"ts": 1741357147391, "values": [77.0, 46.0, 1025.0]}]}}


def test_merged_items_read_as_v1_v2_and_a_time_window_narrows_them(api):
    body = """var merged = temperature.merge(humidity, {timeWindow: {startTs: 1741356882759, endTs: 1741357063689}});
    var result = [];
    foreach (item : merged) { result.add({ts: item.ts, values: {t: item.v1, h: item.v2}}); }
    return result;"""
    assert _run(api, body, HELP_ARGUMENTS) == [
        {"ts": 1741356882759, "values": {"t": 76.0, "h": 43.0}},
        {"ts": 1741356918779, "values": {"t": 76.0, "h": 46.0}}]


@pytest.mark.parametrize("call, expected", [
    ("t.mean()", 72.92), ("t.avg()", 72.92), ("t.max()", 73.58), ("t.min()", 72.32), ("t.sum()", 218.76),
    ("t.median()", 72.86), ("t.count()", 3), ("t.count(false)", 4), ("t.first()", 72.32), ("t.last()", 73.58),
    ("t.std()", 0.52), ("ctx.args.t.mean()", 72.92),
])
def test_each_aggregation_ignores_nan_by_default(api, call, expected):
    out = _run(api, f"return {{v: toFixed({call}, 2)}};", WITH_NAN)
    assert out["v"] == expected


@pytest.mark.parametrize("call", ["t.mean(false)", "t.max(false)", "t.sum(false)", "t.median(false)",
                                  "t.last(false)"])
def test_an_aggregation_that_counts_nan_gives_nan(api, call):
    assert _run(api, f"return {{nan: isNaN({call})}};", WITH_NAN) == {"nan": True}


def test_values_time_window_and_foreach_read_as_documented(api):
    body = """var sum = 0.0;
    foreach (v : t) { if (!isNaN(v.value)) { sum += v.value; } }
    var n = 0;
    for (var i = 0; i < t.values.size; i++) { n++; }
    return {sum: toFixed(sum, 2), n: n, start: t.timeWindow.startTs, first: t.values[0].value,
            nan: isNaN(t.values[3].value)};"""
    assert _run(api, body, WITH_NAN) == {"sum": 218.76, "n": 4, "start": 0, "first": 72.32, "nan": True}


def test_an_empty_window_aggregates_to_nan_and_counts_zero(api):
    empty = {"t": {"type": "TS_ROLLING", "timeWindow": {"startTs": 0, "endTs": 1}, "values": []}}
    assert _run(api, "return {c: t.count(), m: isNaN(t.mean())};", empty) == {"c": 0, "m": True}


def test_merging_with_no_rolling_argument_is_the_scripts_error(api):
    res = api.post("/api/calculatedField/testScript", {"expression": "return {x: t.merge(5)};", "arguments": WITH_NAN},
                   format="json")
    assert res.status_code == 200 and "not a time series rolling argument" in res.json()["error"]


@pytest.mark.django_db(transaction=True)  # fields compute after the write commits
def test_a_field_averages_its_rolling_window_when_telemetry_arrives(api, tenant):
    from tbproject.clock import now_ms
    from tbproject.testing.factories import make_device

    device = make_device(tenant, "rolling-1")
    save(api, script(device, "return {avgT: toFixed(t.mean(), 1), n: t.count()};",
                     {"t": {"refEntityKey": {"key": "t", "type": "TS_ROLLING"}, "timeWindow": 3_600_000,
                            "limit": 10}}))
    now = now_ms()
    for i, value in enumerate([20, 22, 27]):
        res = api.post(f"/api/plugins/telemetry/DEVICE/{device.pk}/timeseries/ANY",
                       {"ts": now - 60_000 + i * 1000, "values": {"t": value}}, format="json")
        assert res.status_code == 200
    assert latest(device, "avgT", "n") == {"avgT": 23.0, "n": 3}
