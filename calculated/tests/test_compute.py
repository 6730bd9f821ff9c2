"""Fields computed when telemetry and attributes are saved through the REST API (after commit: each
test runs in real transactions, as the server does)."""

import pytest

from calculated import compute
from calculated.models import CalculatedFieldEvent
from calculated.tests.helpers import attr_arg, latest, save, script, simple, telemetry, ts_arg
from tbproject.testing.factories import make_device

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def device(tenant):
    return make_device(tenant, "thermo-1")


def test_it_computes_a_simple_field_from_telemetry_saved_through_the_rest_api(api, device):
    save(api, simple(device, "(temperature - 32) / 1.8", {"temperature": ts_arg("temperature")}, "celsius",
                     decimals=2))
    telemetry(api, device, {"temperature": 98.6})
    assert latest(device, "temperature", "celsius") == {"temperature": 98.6, "celsius": 37.0}
    telemetry(api, device, {"humidity": 40})  # not an argument: nothing recomputed
    telemetry(api, device, {"temperature": 212})
    assert latest(device, "celsius") == {"celsius": 100.0}


def test_it_stamps_the_output_with_the_latest_argument_time_when_asked(api, device):
    save(api, simple(device, "t * 2", {"t": ts_arg("t")}, "double", useLatestTs=True))
    telemetry(api, device, {"ts": 1_700_000_000_000, "values": {"t": 4}})
    from devices.telemetry import latest as read

    assert read(device.pk, ["double"]) == {"double": (1_700_000_000_000, 8.0)}


def test_it_takes_an_attribute_argument_and_writes_attributes(api, device):
    save(api, simple(device, "power / voltage", {"power": ts_arg("power"), "voltage": attr_arg("voltage")},
                     "current", output_type="ATTRIBUTES", decimals=0))
    telemetry(api, device, {"power": 460})
    from devices.attributes import get_attributes

    assert get_attributes(device.pk, "SERVER_SCOPE", ["current"]) == []  # voltage missing: no output
    res = api.post(f"/api/plugins/telemetry/DEVICE/{device.pk}/attributes/SERVER_SCOPE", {"voltage": 230},
                   format="json")
    assert res.status_code == 200
    [current] = get_attributes(device.pk, "SERVER_SCOPE", ["current"])
    assert current["value"] == 2


def test_a_default_value_stands_in_for_a_missing_argument(api, device):
    save(api, simple(device, "a + b", {"a": ts_arg("a"), "b": ts_arg("b", defaultValue="10")}, "sum"))
    telemetry(api, device, {"a": 1})
    assert latest(device, "sum") == {"sum": 11.0}


def test_a_missing_argument_gives_no_output_and_no_error(api, device):
    save(api, simple(device, "a + b", {"a": ts_arg("a"), "b": ts_arg("b")}, "sum"))
    telemetry(api, device, {"a": 1})
    assert latest(device, "sum") == {}
    assert not CalculatedFieldEvent.objects.exists()


def test_a_script_field_computes_from_two_arguments(api, device):
    body = ("var dew = temperature - (100 - humidity) / 5;\n"
            "return {\"dewPoint\": toFixed(dew, 1), \"at\": ctx.args.temperature.ts > 0};")
    field = save(api, script(device, body, {"temperature": ts_arg("temperature"), "humidity": ts_arg("humidity")},
                             all_events=True))
    telemetry(api, device, {"temperature": 20.0, "humidity": 65})
    assert latest(device, "dewPoint", "at") == {"dewPoint": 13.0, "at": True}
    event = api.get(f"/api/calculatedField/{field['id']['id']}/debug").json()
    assert event["error"] is None and '"dewPoint": 13.0' in event["result"] and '"humidity"' in event["arguments"]


def test_a_script_may_return_time_series_with_their_own_times(api, device):
    body = "return [{ts: 1000, values: {a: x}}, {ts: 2000, values: {a: x + 1}}];"
    save(api, script(device, body, {"x": ts_arg("x")}))
    telemetry(api, device, {"x": 5})
    from devices.telemetry import history

    assert history(device.pk, ["a"], 0, 3000, order="ASC") == {"a": [(1000, 5), (2000, 6)]}


def test_a_profile_field_applies_to_each_device_of_the_profile(api, tenant):
    from devices.models import DeviceProfile

    profile = DeviceProfile.objects.create(tenant=tenant, name="thermostats")
    first, second = make_device(tenant, "t-1", profile=profile), make_device(tenant, "t-2", profile=profile)
    other = make_device(tenant, "t-3")
    save(api, simple(profile, "t + 1", {"t": ts_arg("t")}, "next"))
    for device, value in ((first, 1), (second, 2), (other, 3)):
        telemetry(api, device, {"t": value})
    assert latest(first, "next") == {"next": 2.0}
    assert latest(second, "next") == {"next": 3.0}
    assert latest(other, "next") == {}


def test_an_argument_of_another_entity_recomputes_the_field(api, tenant, device):
    from tbproject.testing.factories import make_asset

    building = make_asset(tenant, "building")
    arguments = {"t": ts_arg("t"), "offset": attr_arg("offset", refEntityId={"entityType": "ASSET",
                                                                              "id": str(building.pk)})}
    save(api, simple(device, "t + offset", arguments, "corrected"))
    telemetry(api, device, {"t": 20})
    assert latest(device, "corrected") == {}
    res = api.post(f"/api/plugins/telemetry/ASSET/{building.pk}/attributes/SERVER_SCOPE", {"offset": 1.5},
                   format="json")
    assert res.status_code == 200
    assert latest(device, "corrected") == {"corrected": 21.5}


def test_a_chained_field_recomputes_from_another_fields_output(api, device):
    save(api, simple(device, "(f - 32) / 1.8", {"f": ts_arg("fahrenheit")}, "celsius", name="C"))
    save(api, simple(device, "c + 273.15", {"c": ts_arg("celsius")}, "kelvin", name="K", decimals=2))
    telemetry(api, device, {"fahrenheit": 212})
    assert latest(device, "celsius", "kelvin") == {"celsius": 100.0, "kelvin": 373.15}


def test_a_cycle_of_simple_fields_is_refused_at_save(api, device):
    save(api, simple(device, "a + 1", {"a": ts_arg("a")}, "b", name="A to B"))
    res = api.post("/api/calculatedField", simple(device, "b + 1", {"b": ts_arg("b")}, "a", name="B to A"),
                   format="json")
    assert res.status_code == 400
    assert "cycle" in res.json()["message"] and "'B to A' -> 'A to B' -> 'B to A'" in res.json()["message"]
    res = api.post("/api/calculatedField", simple(device, "x + 1", {"x": ts_arg("x")}, "x", name="self"),
                   format="json")
    assert res.status_code == 400 and "cycle" in res.json()["message"]


def test_a_script_feeding_itself_stops_at_the_depth_bound_with_an_error(api, device):
    field = save(api, script(device, "return {n: n + 1};", {"n": ts_arg("n")}))
    telemetry(api, device, {"n": 0})
    assert latest(device, "n") == {"n": compute.MAX_DEPTH}
    event = api.get(f"/api/calculatedField/{field['id']['id']}/debug").json()
    assert "deeper than 10 links" in event["error"]


def test_an_endless_script_is_recorded_as_an_error_and_the_telemetry_is_kept(api, device, settings):
    settings.CONVERTER_TIMEOUT_MS = 200
    field = save(api, script(device, "while (true) { }\nreturn {};", {"x": ts_arg("x")}))
    save(api, simple(device, "x * 2", {"x": ts_arg("x")}, "doubled"))
    telemetry(api, device, {"x": 21})
    assert latest(device, "x", "doubled") == {"x": 21, "doubled": 42.0}
    event = api.get(f"/api/calculatedField/{field['id']['id']}/debug").json()
    assert event["error"].startswith("timeout") and event["entityId"] == str(device.pk)


def test_a_failing_simple_field_records_the_reason(api, device):
    field = save(api, simple(device, "a / b", {"a": ts_arg("a"), "b": ts_arg("b")}, "ratio"))
    telemetry(api, device, {"a": 1, "b": 0})
    assert latest(device, "ratio") == {}
    assert api.get(f"/api/calculatedField/{field['id']['id']}/debug").json()["error"] == "Division by zero!"
    telemetry(api, device, {"b": "n/a"})
    assert "is not a number" in api.get(f"/api/calculatedField/{field['id']['id']}/debug").json()["error"]


def test_a_deleted_field_is_no_longer_computed(api, device):
    field = save(api, simple(device, "a", {"a": ts_arg("a")}, "copy"))
    assert api.delete(f"/api/calculatedField/{field['id']['id']}").status_code == 200
    telemetry(api, device, {"a": 1})
    assert latest(device, "copy") == {}


def test_a_device_posting_through_the_device_api_triggers_its_fields(api, device, client):
    """The device HTTP API writes without naming the tenant: the hook finds it (a query, only because
    some tenant has calculated fields)."""
    from devices.models import DeviceCredentials

    save(api, simple(device, "c * 10", {"c": attr_arg("c", scope="CLIENT_SCOPE")}, "tenfold"))
    token = DeviceCredentials.objects.get(device=device).credentials_id
    res = client.post(f"/api/v1/{token}/attributes", {"c": 4}, content_type="application/json")
    assert res.status_code == 200, res.content
    assert latest(device, "tenfold") == {"tenfold": 40.0}


def test_a_deleted_device_takes_its_fields_and_their_events_with_it(api, device):
    from calculated.models import CalculatedField

    save(api, simple(device, "a / 0", {"a": ts_arg("a")}, "never"))
    telemetry(api, device, {"a": 1})
    assert CalculatedFieldEvent.objects.count() == 1
    assert api.delete(f"/api/device/{device.pk}").status_code == 200
    assert not CalculatedField.objects.exists() and not CalculatedFieldEvent.objects.exists()


def test_a_script_iterates_a_rolling_argument(api, device):
    from devices.telemetry import Point, write_points
    from tbproject.clock import now_ms

    now = now_ms()
    write_points([Point(device.pk, "t", now - 3000 + i, float(v)) for i, v in enumerate((10, 20, 30))])
    rolling = {"refEntityKey": {"key": "t", "type": "TS_ROLLING"}, "limit": 2, "timeWindow": 60_000}
    body = ("var s = 0;\nforeach (p : t.values) { s += p.value; }\n"
            "return {avg: s / t.values.size(), n: t.values.size()};")
    save(api, script(device, body, {"t": rolling}))
    telemetry(api, device, {"t": 40})  # the newest two of the window: 30 and 40
    assert latest(device, "avg", "n") == {"avg": 35.0, "n": 2}


def test_a_script_result_that_is_no_object_is_an_error(api, device):
    field = save(api, script(device, "return 42;", {"x": ts_arg("x")}))
    telemetry(api, device, {"x": 1})
    error = api.get(f"/api/calculatedField/{field['id']['id']}/debug").json()["error"]
    assert error == "the script must return a non-empty object of key/value pairs"
