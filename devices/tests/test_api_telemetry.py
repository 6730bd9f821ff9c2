"""/api/plugins/telemetry time series: writes in ThingsBoard's three body shapes, latest, history.

Every test runs twice: through Django (the reference view) and through the lean app the web process
answers JWT saves with (devices/api/lean_app.py), which must give the same answers.
"""

import json

import pytest

from devices.telemetry import Point, latest, timeseries_keys, write_points
from tbproject.clock import now_ms
from tbproject.testing import lean
from tbproject.testing.factories import make_asset, make_customer, make_device

# every test twice: through Django and through the lean app (tbproject/testing/lean.py)
served_by, api, mallory_api, customer_api = lean.served_by, lean.api, lean.mallory_api, lean.customer_api

T0 = 1_700_000_000_000
BASE = "/api/plugins/telemetry"


@pytest.fixture
def device(tenant, customer):
    return make_device(tenant, "thermo-1", customer=customer)


@pytest.fixture
def foreign_device(other_tenant):
    return make_device(other_tenant, "mallory-1")


def url(entity, tail, entity_type="DEVICE") -> str:
    return f"{BASE}/{entity_type}/{entity.pk}/{tail}"


def post_text(client, path, body):
    """As ThingsBoard's generated client sends it: JSON text with Content-Type text/plain."""
    return client.post(path, body if isinstance(body, str) else json.dumps(body), content_type="text/plain")


def assert_error(res, status):
    assert res.status_code == status, res.content
    body = res.json()
    assert body["status"] == status and body["message"] and isinstance(body["errorCode"], int)
    assert isinstance(body["timestamp"], int)
    return body["message"]


def series(entity_id) -> dict:
    return {key: value for key, (ts, value) in latest(entity_id).items()}


# --- writes -----------------------------------------------------------------------------------


def test_it_saves_a_flat_object_stamped_with_server_time(api, device):
    before = now_ms()
    res = post_text(api, url(device, "timeseries/ANY"), {"temperature": 21.5, "on": True, "n": 7, "s": "x"})
    assert res.status_code == 200 and res.content == b""
    got = latest(device.pk)
    assert {k: v for k, (_, v) in got.items()} == {"temperature": 21.5, "on": True, "n": 7, "s": "x"}
    assert all(before <= ts <= now_ms() for ts, _ in got.values())
    assert getattr(api, "served", 1) == 1  # the lean variant answered it itself


def test_it_saves_one_timestamped_object(api, device):
    res = post_text(api, url(device, "timeseries/ANY"), {"ts": T0, "values": {"temperature": 26, "humidity": 87}})
    assert res.status_code == 200
    assert latest(device.pk) == {"temperature": (T0, 26), "humidity": (T0, 87)}


def test_it_saves_a_list_of_timestamped_objects(api, device):
    body = [{"ts": T0, "values": {"temperature": 26}}, {"ts": T0 + 1000, "values": {"temperature": 25}}]
    assert post_text(api, url(device, "timeseries/ANY"), body).status_code == 200
    res = api.get(url(device, "values/timeseries/history"),
                  {"keys": "temperature", "startTs": T0, "endTs": T0 + 2000, "orderBy": "ASC",
                   "useStrictDataTypes": "true"})
    assert res.json() == {"temperature": [{"ts": T0, "value": 26}, {"ts": T0 + 1000, "value": 25}]}


def test_it_accepts_application_json_and_the_ttl_form_and_any_scope(api, device):
    res = api.post(url(device, "timeseries/ANY/3600"), {"ts": T0, "values": {"a": 1}}, format="json")
    assert res.status_code == 200
    assert post_text(api, url(device, "timeseries/LATEST_TELEMETRY"), {"ts": T0, "values": {"b": 2}}).status_code == 200
    assert latest(device.pk) == {"a": (T0, 1), "b": (T0, 2)}


def test_it_stores_nested_objects_and_arrays_as_json_values(api, device):
    post_text(api, url(device, "timeseries/ANY"), {"ts": T0, "values": {"cfg": {"a": [1, 2]}, "list": [1, "x"]}})
    assert series(device.pk) == {"cfg": {"a": [1, 2]}, "list": [1, "x"]}
    res = api.get(url(device, "values/timeseries"), {"keys": "cfg"})
    assert res.json() == {"cfg": [{"ts": T0, "value": '{"a":[1,2]}'}]}


def test_it_writes_to_assets_and_customers(api, tenant, customer):
    asset = make_asset(tenant)
    assert post_text(api, url(asset, "timeseries/ANY", "ASSET"), {"ts": T0, "values": {"a": 1}}).status_code == 200
    res = post_text(api, url(customer, "timeseries/ANY", "CUSTOMER"), {"ts": T0, "values": {"c": 2}})
    assert res.status_code == 200
    assert series(asset.pk) == {"a": 1} and series(customer.pk) == {"c": 2}


def test_a_customer_user_writes_to_their_own_customers_device(customer_api, device):
    assert post_text(customer_api, url(device, "timeseries/ANY"), {"ts": T0, "values": {"t": 1}}).status_code == 200
    assert series(device.pk) == {"t": 1}


@pytest.mark.parametrize("body, fragment", [
    ("{not json", "Invalid request body"),
    ("42", "JSON object or array"),
    ('"text"', "JSON object or array"),
    ("[1, 2]", "must be a JSON object"),
    ("{}", "No timeseries data"),
    ("[]", "No timeseries data"),
    ('{"ts": "soon", "values": {"t": 1}}', "Invalid 'ts'"),
    ('{"ts": -5, "values": {"t": 1}}', "Invalid 'ts'"),
    ('{"ts": true, "values": {"t": 1}}', "Invalid 'ts'"),
    ('{"ts": "\u00b2", "values": {"t": 1}}', "Invalid 'ts'"),
    ('{"ts": 1e300, "values": {"t": 1}}', "Invalid 'ts'"),
    ('{"ts": 9223372036854775807, "values": {"t": 1}}', "Invalid 'ts'"),
    ('{"ts": 1700000000000, "values": [1]}', "'values' must be a JSON object"),
    ('{"": 1}', "Key must not be empty"),
    ('{"t": null}', "must not be null"),
    ('{"%s": 1}' % ("k" * 256), "longer than 255"),
    ('{"t": "a\\u0000b"}', "NUL character"),
    ('{"t\\u0000": 1}', "NUL character"),
    ('{"t": "a\\ud800"}', "not valid Unicode"),
    ('{"t\\ud800": 1}', "not valid Unicode"),
    ('{"t": {"nested": ["\\ud800"]}}', "not valid Unicode"),
    ('{"t": 1e400}', "not a finite number"),
    ('{"t": {"nested": -1e400}}', "not a finite number"),
    ('{"t\\ud800": null}', "must not be null"),
    ('[{"ts": 1700000000000, "values": {"good": 1}}, {"ts": "bad", "values": {"t": 1}}]', "Invalid 'ts'"),
])
def test_it_refuses_bad_bodies_and_writes_nothing(api, device, body, fragment):
    res = post_text(api, url(device, "timeseries/ANY"), body)
    assert fragment in assert_error(res, 400)
    assert timeseries_keys(device.pk) == []


def test_it_refuses_a_bad_ttl(api, device):
    assert "ttl" in assert_error(post_text(api, url(device, "timeseries/ANY/soon"), {"a": 1}), 400)


def test_it_answers_413_in_thingsboards_shape_for_an_oversize_body(api, device, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = {"ts": T0, "values": {f"k{i}": "x" * 40 for i in range(40)}}
    res = post_text(api, url(device, "timeseries/ANY"), body)
    assert res["Content-Type"] == "application/json"
    assert_error(res, 413)
    assert timeseries_keys(device.pk) == []


# --- entity resolution and permissions --------------------------------------------------------


@pytest.mark.parametrize("tail", ["timeseries/ANY"])
def test_it_answers_404_for_another_tenants_or_an_unknown_entity(api, mallory_api, device, foreign_device, tail):
    assert_error(post_text(api, url(foreign_device, tail), {"t": 1}), 404)
    assert_error(api.get(url(foreign_device, "values/timeseries")), 404)
    assert_error(mallory_api.get(url(device, "keys/timeseries")), 404)
    assert_error(api.get(f"{BASE}/DEVICE/00000000-0000-0000-0000-00000000abcd/keys/timeseries"), 404)
    assert_error(api.get(url(device, "keys/timeseries", "ASSET")), 404)  # a device is not an asset
    assert timeseries_keys(foreign_device.pk) == []


def test_a_customer_user_gets_404_for_another_customers_or_an_unassigned_device(customer_api, tenant):
    other = make_device(tenant, "other", customer=make_customer(tenant, "Customer B"))
    unassigned = make_device(tenant, "unassigned")
    for dev in (other, unassigned):
        assert_error(post_text(customer_api, url(dev, "timeseries/ANY"), {"t": 1}), 404)
        assert_error(customer_api.get(url(dev, "values/timeseries")), 404)
        assert timeseries_keys(dev.pk) == []


def test_it_answers_400_for_an_unknown_entity_type_or_a_bad_uuid(api, device):
    assert "Unsupported entity type" in assert_error(api.get(url(device, "keys/timeseries", "WIDGET")), 400)
    assert "Invalid UUID" in assert_error(api.get(f"{BASE}/DEVICE/not-a-uuid/keys/timeseries"), 400)
    assert_error(post_text(api, f"{BASE}/DEVICE/not-a-uuid/timeseries/ANY", {"t": 1}), 400)


def test_it_accepts_the_entity_type_in_any_case(api, device):
    write_points([Point(device.pk, "t", T0, 1)])
    assert api.get(url(device, "keys/timeseries", "device")).json() == ["t"]


def test_it_needs_a_tenant_user(anon, sysadmin, device):
    from tbproject.testing.fixtures import api_as

    assert_error(anon.get(url(device, "keys/timeseries")), 401)
    assert_error(api_as(sysadmin).get(url(device, "keys/timeseries")), 403)


# --- reads ------------------------------------------------------------------------------------


@pytest.fixture
def stored(device):
    write_points([
        Point(device.pk, "temperature", T0, 20.0),
        Point(device.pk, "temperature", T0 + 1000, 22.5),
        Point(device.pk, "temperature", T0 + 2000, 24.0),
        Point(device.pk, "count", T0 + 2000, 7),
        Point(device.pk, "on", T0 + 2000, True),
        Point(device.pk, "name", T0 + 2000, "pump"),
    ])
    return device


def test_it_lists_timeseries_keys(api, stored):
    assert api.get(url(stored, "keys/timeseries")).json() == ["count", "name", "on", "temperature"]


def test_it_reads_latest_values_as_strings_by_default(api, stored):
    res = api.get(url(stored, "values/timeseries"), {"keys": "temperature,count,on,name,missing"})
    assert res.status_code == 200
    assert res.json() == {
        "temperature": [{"ts": T0 + 2000, "value": "24.0"}],
        "count": [{"ts": T0 + 2000, "value": "7"}],
        "on": [{"ts": T0 + 2000, "value": "true"}],
        "name": [{"ts": T0 + 2000, "value": "pump"}],
    }


def test_it_reads_latest_values_with_strict_types_and_all_keys_when_none_are_named(api, stored):
    res = api.get(url(stored, "values/timeseries"), {"useStrictDataTypes": "true"})
    assert res.json() == {
        "count": [{"ts": T0 + 2000, "value": 7}],
        "name": [{"ts": T0 + 2000, "value": "pump"}],
        "on": [{"ts": T0 + 2000, "value": True}],
        "temperature": [{"ts": T0 + 2000, "value": 24.0}],
    }


def test_it_takes_repeated_key_parameters_for_keys_holding_commas(api, device):
    write_points([Point(device.pk, "a,b", T0, 1), Point(device.pk, "c", T0, 2)])
    res = api.get(url(device, "values/timeseries") + "?key=a,b&keys=c")
    assert res.json() == {"a,b": [{"ts": T0, "value": "1"}], "c": [{"ts": T0, "value": "2"}]}


def test_it_reads_raw_history_newest_first_with_a_limit(api, stored):
    res = api.get(url(stored, "values/timeseries/history"),
                  {"keys": "temperature", "startTs": T0, "endTs": T0 + 3000, "limit": "2"})
    assert res.json() == {"temperature": [{"ts": T0 + 2000, "value": "24.0"}, {"ts": T0 + 1000, "value": "22.5"}]}


def test_it_reads_history_from_the_older_values_timeseries_path(api, stored):
    params = {"keys": "temperature", "startTs": T0, "endTs": T0 + 1500, "orderBy": "ASC", "useStrictDataTypes": "true"}
    res = api.get(url(stored, "values/timeseries"), params)
    assert res.json() == {"temperature": [{"ts": T0, "value": 20.0}, {"ts": T0 + 1000, "value": 22.5}]}


def test_it_reads_history_of_every_key_when_none_are_named(api, stored):
    res = api.get(url(stored, "values/timeseries/history"), {"startTs": T0 + 2000, "endTs": T0 + 3000,
                                                             "useStrictDataTypes": "true"})
    assert res.json() == {"count": [{"ts": T0 + 2000, "value": 7}], "name": [{"ts": T0 + 2000, "value": "pump"}],
                          "on": [{"ts": T0 + 2000, "value": True}],
                          "temperature": [{"ts": T0 + 2000, "value": 24.0}]}


@pytest.mark.parametrize("agg, strict, expected", [
    ("AVG", "true", [21.25, 24.0]),
    ("MIN", "true", [20.0, 24.0]),
    ("MAX", "true", [22.5, 24.0]),
    ("SUM", "true", [42.5, 24.0]),
    ("COUNT", "true", [2, 1]),
    ("AVG", "false", ["21.25", "24.0"]),
])
def test_it_aggregates_history_in_intervals(api, stored, agg, strict, expected):
    res = api.get(url(stored, "values/timeseries/history"),
                  {"keys": "temperature", "startTs": T0, "endTs": T0 + 4000, "interval": 2000, "agg": agg,
                   "orderBy": "ASC", "useStrictDataTypes": strict, "limit": 1})
    assert res.status_code == 200, res.content
    # buckets [T0, T0+2000) and [T0+2000, T0+4000), reported at their middles; limit applies to raw values only
    assert res.json() == {"temperature": [{"ts": T0 + 1000, "value": expected[0]},
                                          {"ts": T0 + 3000, "value": expected[1]}]}


def test_it_treats_an_aggregation_without_interval_as_raw_values(api, stored):
    res = api.get(url(stored, "values/timeseries/history"),
                  {"keys": "temperature", "startTs": T0, "endTs": T0 + 1500, "agg": "AVG", "orderBy": "ASC"})
    assert res.json() == {"temperature": [{"ts": T0, "value": "20.0"}, {"ts": T0 + 1000, "value": "22.5"}]}


@pytest.mark.parametrize("params, fragment", [
    ({"endTs": T0}, "'startTs' is not present"),
    ({"startTs": T0}, "'endTs' is not present"),
    ({"startTs": "yesterday", "endTs": T0}, "'startTs' must be an integer"),
    ({"startTs": T0, "endTs": "1.5"}, "'endTs' must be an integer"),
    ({"startTs": T0 + 1, "endTs": T0}, "must not be greater than endTs"),
    ({"startTs": T0, "endTs": T0 + 1, "limit": "0"}, "'limit' must be between 1"),
    ({"startTs": T0, "endTs": T0 + 1, "limit": "many"}, "'limit' must be an integer"),
    ({"startTs": T0, "endTs": T0 + 1, "agg": "MEDIAN", "interval": 1}, "'agg' must be one of"),
    ({"startTs": T0, "endTs": T0 + 1, "agg": "AVG", "interval": -5}, "'interval' must be between 0"),
    ({"startTs": T0, "endTs": T0 + 1, "orderBy": "UP"}, "'orderBy' must be one of"),
    ({"startTs": T0, "endTs": T0 + 1, "useStrictDataTypes": "yes"}, "true or false"),
    ({"startTs": T0, "endTs": T0 + 1, "intervalType": "MONTH"}, "not supported"),
    ({"startTs": T0, "endTs": T0 + 1, "intervalType": "DAYS"}, "'intervalType' must be"),
    ({"startTs": 0, "endTs": T0, "agg": "AVG", "interval": 1000}, "Too many aggregation intervals"),
    ({"startTs": T0, "endTs": 2**63}, "'endTs' must be between"),
])
def test_it_refuses_bad_history_parameters(api, stored, params, fragment):
    res = api.get(url(stored, "values/timeseries/history"), {"keys": "temperature", **params})
    assert fragment in assert_error(res, 400)


def test_it_allows_exactly_the_interval_cap(api, stored):
    res = api.get(url(stored, "values/timeseries/history"),
                  {"keys": "temperature", "startTs": T0, "endTs": T0 + 10_000_000, "agg": "COUNT", "interval": 1000})
    assert res.status_code == 200
    assert res.json() == {"temperature": [{"ts": T0 + 2500, "value": "1"}, {"ts": T0 + 1500, "value": "1"},
                                          {"ts": T0 + 500, "value": "1"}]}
