"""Each conformance case (converters/tests/conformance.py) through ``POST /api/converter/testUpLink``
and through the live pipeline: the test endpoint answers as ThingsBoard does, and its warnings say
exactly where the pipeline refuses or changes the same output."""

import base64
import json

import pytest

from converters.tests.conformance import CASES, T0
from devices.attributes import get_attributes
from devices.models import Asset, Device
from integrations import pipeline
from integrations.models import DeadLetter
from integrations.tests.uplinks import converter, integration, uplink, values

UP = "/api/converter/testUpLink?scriptLang=JS"


def _text(value) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _test_up(api, case) -> dict:
    body = {"metadata": {"integrationName": "Conformance", **case.metadata},
            "payload": base64.b64encode(case.payload).decode(), "decoder": case.script}
    if case.converter:
        body["converter"] = case.converter
    res = api.post(UP, body, format="json")
    assert res.status_code == 200, res.content
    return res.json()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_the_test_endpoint_answers_as_thingsboard(api, case, settings):
    settings.CONVERTER_TIMEOUT_MS = 300
    res = _test_up(api, case)
    if case.error:
        assert res["output"] == "" and res["error"].startswith(case.error), res
        assert set(res) == {"output", "error"}
        return
    assert (res["output"], res["error"]) == (_text(case.output), ""), res
    assert tuple(res.get("warnings", ())) == case.warnings
    if case.output_msg is None:
        assert "outputMsg" not in res
    else:
        got = res["outputMsg"]
        expected = json.loads(json.dumps(case.output_msg))
        assert got == expected  # values without their own ts show flat, without the run's time


def _entity(tenant, name):
    found = Device.objects.filter(tenant=tenant, name=name).first()
    return found or Asset.objects.get(tenant=tenant, name=name)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_the_pipeline_stores_what_the_test_endpoint_promised(tenant, case, settings):
    settings.CONVERTER_TIMEOUT_MS = 300
    conv = converter(tenant, case.script)
    if case.converter:
        conv.converter_version = case.converter["converterVersion"]
        conv.configuration.update(case.converter["configuration"])
        conv.save()
    integ = integration(tenant, conv, name="Conformance")
    [outcome] = pipeline.process([uplink(integ, case.payload, ts=T0, **case.metadata)])
    if case.stored is None:
        assert (outcome.status, outcome.stage) == (pipeline.FAILED, case.stage), outcome
        letter = DeadLetter.objects.get()
        warning = case.warnings[0].removeprefix("the live pipeline would refuse this output: ") \
            if case.warnings else case.error
        assert warning in letter.error, letter.error
        assert not Device.objects.filter(tenant=tenant).exists()
        return
    assert outcome.status == pipeline.OK, outcome
    assert {e.name for e in [*Device.objects.filter(tenant=tenant), *Asset.objects.filter(tenant=tenant)]} == \
        set(case.stored)
    for name, want in case.stored.items():
        entity = _entity(tenant, name)
        stored = {k: (ts, v) for k, (ts, v) in _latest(entity).items()}
        assert stored == want["telemetry"], name
        attributes = {a["key"]: a["value"] for a in get_attributes(entity.pk, "SERVER_SCOPE")}
        assert attributes == want["attributes"], name


def _latest(entity) -> dict:
    from devices.telemetry import latest

    return latest(entity.pk)


def test_a_bad_timestamp_fails_its_own_message_and_the_rest_of_the_batch_is_stored(tenant):
    script = ("var d = JSON.parse(String.fromCharCode.apply(String, payload));\n"
              "return {deviceName: d.n, deviceType: 't', telemetry: {ts: d.ts, values: {t: 1}}};")
    integ = integration(tenant, converter(tenant, script))
    bodies = [{"n": "a", "ts": "2024-11-10T12:51:50Z"}, {"n": "b", "ts": "noon"}, {"n": "c", "ts": "1731243110000"}]
    outcomes = pipeline.process([uplink(integ, json.dumps(b).encode(), ts=T0) for b in bodies])
    assert [o.status for o in outcomes] == [pipeline.OK, pipeline.FAILED, pipeline.OK]
    assert "'noon' is neither a timestamp in milliseconds nor ISO-8601 text" in DeadLetter.objects.get().error
    for name in ("a", "c"):
        assert values(Device.objects.get(tenant=tenant, name=name)) == {"t": 1}
    assert not Device.objects.filter(tenant=tenant, name="b").exists()
