"""Bad input everywhere (issue 19, item 6), property-based: whatever JSON a script returns or a
client posts, the answer is a result or a clear error naming the problem, never a crash or a 500."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from converters.downlink_payload import normalise_downlink
from converters.output import OutputError, normalise_uplink, normalise_uplink_v2

KEYS = st.sampled_from(["deviceName", "deviceType", "assetName", "assetType", "customerName", "groupName",
                        "attributes", "telemetry", "ts", "values", "name", "type", "configuration", "contentType",
                        "data", "metadata", "decoder", "scriptLang", "id", "entityType", "", "t"]) | st.text(max_size=8)
SCALARS = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12))
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=5),
                    max_leaves=25)
FAST = settings(max_examples=300, deadline=None)


@FAST
@given(JSON)
def test_the_uplink_normaliser_gives_updates_or_an_output_error(output):
    try:
        updates = normalise_uplink(output, server_ts=1, notes=[])
    except OutputError as e:
        assert str(e)
    else:
        assert all(u.name for u in updates)


@FAST
@given(JSON, st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3))
def test_the_typed_normaliser_gives_an_update_or_an_output_error(output, metadata):
    try:
        normalise_uplink_v2(output, {"name": "Device $eui"}, {"eui": "1", **metadata}, server_ts=1, notes=[])
    except OutputError as e:
        assert str(e)


@FAST
@given(JSON)
def test_the_downlink_normaliser_gives_a_payload_or_an_output_error(output):
    try:
        payload = normalise_downlink(output, notes=[])
    except OutputError as e:
        assert str(e)
    else:
        payload.payload_bytes()


ENDPOINTS = ["/api/converter", "/api/integration", "/api/device", "/api/asset", "/api/customer",
             "/api/ruleChain", "/api/deviceProfile", "/api/entityGroup", "/api/integration/check",
             "/api/ruleChain/node/validate", "/api/ruleChain/metadata"]


@pytest.mark.parametrize("url", ENDPOINTS)
def test_no_body_makes_a_save_endpoint_answer_500(api, url):
    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(JSON)
    def post(body):
        res = api.post(url, body, format="json")
        assert res.status_code < 500, (url, body, res.content[:300])
        if res.status_code >= 400:
            assert res.json().get("message"), (url, body, res.content[:300])

    post()


def test_no_body_makes_telemetry_or_attribute_writes_answer_500(api, tenant):
    from tbproject.testing.factories import make_device

    device = make_device(tenant, "fuzzed")
    base = f"/api/plugins/telemetry/DEVICE/{device.pk}"

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(JSON, st.sampled_from(["timeseries/ANY", "attributes/SERVER_SCOPE", "SHARED_SCOPE"]))
    def post(body, where):
        res = api.post(f"{base}/{where}", body, format="json")
        assert res.status_code < 500, (where, body, res.content[:300])

    post()


def test_no_body_makes_a_chain_test_run_answer_500(api):
    chain = api.post("/api/ruleChain", {"name": "fuzzed chain"}, format="json").json()
    url = f"/api/ruleChain/{chain['id']['id']}/test"

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(JSON, JSON)
    def post(metadata, msg):
        body = {"metadata": metadata if isinstance(metadata, dict) else {"nodes": metadata}, "msg": msg}
        res = api.post(url, body, format="json")
        assert res.status_code < 500, (body, res.content[:300])

    post()
