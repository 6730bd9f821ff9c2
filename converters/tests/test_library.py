"""Realistic converters written for this project (cases/), run through the runtime and the
output normaliser exactly as live traffic runs them."""

import base64
import json

import pytest

from converters import engine
from converters.downlink_payload import normalise_downlink
from converters.output import normalise_uplink
from converters.tests.cases import DOWNLINK, UPLINK

SERVER_TS = 1_714_000_000_000


def test_it_has_at_least_25_distinct_converters():
    assert len({c.script for c in UPLINK}) + len({c.script for c in DOWNLINK}) >= 25


@pytest.mark.parametrize("case", UPLINK, ids=lambda c: c.name)
def test_it_decodes(case):
    assert engine.check_script("decoder", case.script) is None
    (result,) = engine.decode(f"library-{case.name}", 1, case.script, case.inputs)
    if case.error:
        assert (result.output_json, result.error) == (None, case.expected)
        return
    assert result.error is None, result.error
    assert json.loads(result.output_json) == case.expected
    updates = normalise_uplink(result.output_json, server_ts=SERVER_TS)
    expected = case.expected if isinstance(case.expected, list) else [] if case.expected is None else [case.expected]
    assert [u.name for u in updates] == [e.get("deviceName") or e.get("assetName") for e in expected]


@pytest.mark.parametrize("case", DOWNLINK, ids=lambda c: c.name)
def test_it_encodes(case):
    assert engine.check_script("encoder", case.script) is None
    (result,) = engine.encode(f"library-{case.name}", 1, case.script, case.inputs)
    if case.error:
        assert (result.output_json, result.error) == (None, case.expected)
        return
    assert result.error is None, result.error
    assert json.loads(result.output_json) == case.expected
    payload = normalise_downlink(result.output_json)
    assert payload.content_type == case.expected["contentType"]
    if payload.content_type == "BINARY":
        assert payload.payload_bytes() == base64.b64decode(case.expected["data"])


def test_it_normalises_library_outputs():
    by_name = {c.name: c for c in UPLINK}
    history = by_name["history with per-point ts"]
    (update,) = normalise_uplink(history.expected, server_ts=SERVER_TS)
    assert [ts for ts, _ in update.telemetry] == [1_700_000_000_000, 1_699_999_400_000, 1_699_998_800_000]
    gateway = normalise_uplink(by_name["gateway payload, array of results"].expected, server_ts=SERVER_TS)
    assert [(u.name, u.telemetry[0][0]) for u in gateway] == [("th-1", SERVER_TS), ("th-2", 1714557600000)]
    (asset,) = normalise_uplink(by_name["asset with customer and group"].expected)
    assert (asset.entity_type, asset.profile, asset.customer, asset.group, asset.label) == (
        "ASSET", "floor", "Acme", "Buildings", "HQ/2")
    (flat,) = normalise_uplink(by_name["template helpers hoisted, nested JSON flattened"].expected)
    assert flat.content_aware_keys == ("firmware",)


def test_it_runs_a_library_converter_as_one_batch():
    case = next(c for c in UPLINK if c.name == "csv text payload")
    lines = [f"th-{i},{20 + i / 10},{40 + i},3.6\n".encode() for i in range(200)]
    results = engine.decode("library-batch", 1, case.script, [(line, {}) for line in lines])
    assert [json.loads(r.output_json)["deviceName"] for r in results] == [f"th-{i}" for i in range(200)]
