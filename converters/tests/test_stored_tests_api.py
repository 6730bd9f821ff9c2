"""Tests stored with a converter (issue 21, item 2): kept with it, run on every save, a save that
breaks one is refused unless ``force``; the library's samples become such tests at import."""

import base64
import json

import pytest

from converters.models import Converter, ConverterTest
from tbproject.testing.api import assert_error

DECODER = "var d = JSON.parse(String.fromCharCode.apply(null, payload));\n" \
          "return {deviceName: d.id, deviceType: 'meter', telemetry: {t: d.t}};"
BROKEN = DECODER.replace("{t: d.t}", "{t: d.t * 10}")
ENCODER = "return {contentType: 'JSON', data: JSON.stringify({v: msg.v}), metadata: {topic: 'down/' + " \
          "metadata.deviceName}};"


def b64(data) -> str:
    return base64.b64encode(json.dumps(data).encode()).decode()


@pytest.fixture
def saved(api):
    res = api.post("/api/converter", {"name": "meter", "type": "UPLINK",
                                      "configuration": {"scriptLang": "JS", "decoder": DECODER}}, format="json")
    assert res.status_code == 200, res.content
    return res.json()


def add_test(api, cid, name="t is kept", t=21, expected=None, **extra):
    expected = expected if expected is not None else {"deviceName": "m1", "deviceType": "meter", "telemetry": {"t": t}}
    body = {"name": name, "payload": b64({"id": "m1", "t": t}), "metadata": {"topic": "up"}, "expected": expected,
            **extra}
    return api.post(f"/api/converter/{cid}/tests", body, format="json")


def save_with(api, saved, decoder, query=""):
    data = {**saved, "configuration": {**saved["configuration"], "decoder": decoder}}
    return api.post(f"/api/converter{query}", data, format="json")


def test_a_stored_test_is_run_when_added_and_listed_with_its_result(api, saved):
    cid = saved["id"]["id"]
    res = add_test(api, cid)
    assert res.status_code == 200, res.content
    test = res.json()
    assert test["lastResult"]["passed"] is True and test["lastResult"]["converterVersionNumber"] == 1
    assert test["metadata"] == {"topic": "up"} and json.loads(test["payloadText"]) == {"id": "m1", "t": 21}
    failing = add_test(api, cid, name="wrong expectation", expected={"deviceName": "m1", "deviceType": "meter",
                                                                     "telemetry": {"t": 99}}).json()
    assert failing["lastResult"]["passed"] is False
    assert failing["lastResult"]["differences"] == ["telemetry.t: expected 99, got 21"]
    listed = api.get(f"/api/converter/{cid}/tests").json()
    assert [(t["name"], t["lastResult"]["passed"]) for t in listed] == [("t is kept", True),
                                                                        ("wrong expectation", False)]


def test_a_save_that_breaks_a_passing_test_is_refused_unless_forced(api, saved):
    cid = saved["id"]["id"]
    add_test(api, cid)
    body = assert_error(save_with(api, saved, BROKEN), 409, "Saving would break 1 stored test(s)")
    assert "'t is kept': telemetry.t: expected 21, got 210" in body["message"] and "force=true" in body["message"]
    converter = Converter.objects.get(pk=cid)
    assert converter.script == DECODER and converter.version_number == 1  # nothing saved
    res = save_with(api, saved, BROKEN, "?force=true")
    assert res.status_code == 200, res.content
    assert res.json()["configuration"]["decoder"] == BROKEN
    test = ConverterTest.objects.get(converter_id=cid)
    assert (test.last_passed, test.last_version, test.last_differences) == (
        False, 2, ["telemetry.t: expected 21, got 210"])


def test_a_save_that_keeps_tests_passing_needs_no_force(api, saved):
    cid = saved["id"]["id"]
    add_test(api, cid)
    res = save_with(api, saved, DECODER.replace("deviceType: 'meter'", "deviceType: 'meter' /* same */"))
    assert res.status_code == 200, res.content
    assert ConverterTest.objects.get(converter_id=cid).last_version == 2


def test_a_test_that_already_failed_does_not_block_a_save(api, saved):
    cid = saved["id"]["id"]
    add_test(api, cid, name="stale", t=5, expected={"deviceName": "m1", "deviceType": "meter", "telemetry": {"t": 6}})
    assert save_with(api, saved, BROKEN).status_code == 200


def test_a_rollback_that_breaks_a_test_is_refused_unless_forced(api, saved):
    cid = saved["id"]["id"]
    res = save_with(api, saved, BROKEN)
    add_test(api, cid, t=2, expected={"deviceName": "m1", "deviceType": "meter", "telemetry": {"t": 20}})
    assert_error(api.post(f"/api/converter/{cid}/versions/1/rollback"), 409, "would break 1 stored test")
    assert Converter.objects.get(pk=cid).script == BROKEN
    assert api.post(f"/api/converter/{cid}/versions/1/rollback?force=true").status_code == 200
    assert Converter.objects.get(pk=cid).script == DECODER and res.status_code == 200


def test_run_edit_and_delete_stored_tests(api, saved):
    cid = saved["id"]["id"]
    tid = add_test(api, cid).json()["id"]
    run = api.post(f"/api/converter/{cid}/tests/run").json()
    assert (run["passed"], run["failed"], run["converterVersionNumber"]) == (1, 0, 1)
    res = api.put(f"/api/converter/{cid}/tests/{tid}", {"name": "renamed", "payload": b64({"id": "m1", "t": 3}),
                                                        "expected": '{"deviceName": "m1", "telemetry": {"t": 4}}'},
                  format="json")
    assert res.status_code == 200, res.content
    assert res.json()["name"] == "renamed" and res.json()["lastResult"]["passed"] is False
    assert api.delete(f"/api/converter/{cid}/tests/{tid}").status_code == 200
    assert api.get(f"/api/converter/{cid}/tests").json() == []


def test_downlink_tests_encode_a_message(api):
    res = api.post("/api/converter", {"name": "enc", "type": "DOWNLINK",
                                      "configuration": {"scriptLang": "JS", "encoder": ENCODER}}, format="json")
    cid = res.json()["id"]["id"]
    expected = {"contentType": "JSON", "data": '{"v":1}', "metadata": {"topic": "down/d1"}}
    test = api.post(f"/api/converter/{cid}/tests", {"name": "set v", "msg": {"v": 1}, "metadata": {"deviceName": "d1"},
                                                    "msgType": "ATTRIBUTES_UPDATED", "expected": expected},
                    format="json").json()
    assert test["lastResult"]["passed"] is True and test["msg"] == '{"v": 1}'
    data = {**res.json(), "configuration": {**res.json()["configuration"],
                                            "encoder": ENCODER.replace("msg.v}", "msg.v + 1}")}}
    assert_error(api.post("/api/converter", data, format="json"), 409, "'set v': data: expected")


@pytest.mark.parametrize(("body", "message"), [
    ([], "Request body must be a JSON object"),
    ({"payload": "e30="}, "'name' is required"),
    ({"name": "x"}, "'payload' is required"),
    ({"name": "x", "payload": "%%%"}, "'payload' is not valid base64"),
    ({"name": "x", "payload": "e30=", "expected": "{nope"}, "'expected' is not JSON"),
    ({"name": "x", "payload": "e30=", "metadata": [1]}, "'metadata' must be a JSON object"),
])
def test_bad_test_bodies_are_refused_and_nothing_is_stored(api, saved, body, message):
    assert_error(api.post(f"/api/converter/{saved['id']['id']}/tests", body, format="json"), 400, message)
    assert not ConverterTest.objects.exists()


def test_a_duplicate_test_name_is_refused(api, saved):
    cid = saved["id"]["id"]
    add_test(api, cid)
    assert_error(add_test(api, cid), 400, "already exists")
    assert ConverterTest.objects.count() == 1


def test_another_tenants_tests_are_404(api, mallory_api, saved):
    cid = saved["id"]["id"]
    tid = add_test(api, cid).json()["id"]
    assert_error(mallory_api.get(f"/api/converter/{cid}/tests"), 404)
    assert_error(add_test(mallory_api, cid), 404)
    assert_error(mallory_api.delete(f"/api/converter/{cid}/tests/{tid}"), 404)
    assert_error(mallory_api.post(f"/api/converter/{cid}/tests/run"), 404)
    assert ConverterTest.objects.count() == 1


def test_a_test_id_of_another_converter_is_404(api, saved):
    cid = saved["id"]["id"]
    tid = add_test(api, cid).json()["id"]
    other = api.post("/api/converter", {"name": "other", "type": "UPLINK",
                                        "configuration": {"scriptLang": "JS", "decoder": DECODER}}, format="json")
    assert_error(api.delete(f"/api/converter/{other.json()['id']['id']}/tests/{tid}"), 404)
    assert_error(api.delete(f"/api/converter/{cid}/tests/not-a-uuid"), 400, "Invalid UUID string")


def test_library_samples_become_stored_tests_at_import(api, library, tenant):
    report = api.post("/api/converter/library/HTTP/Dragino/LHT65/uplink", {"name": "LHT65"}, format="json").json()
    cid = report["converter"]["id"]["id"]
    tests = api.get(f"/api/converter/{cid}/tests").json()
    assert [(t["name"], t["lastResult"]["passed"]) for t in tests] == [(s["sample"], s["passed"])
                                                                       for s in report["samples"]]
    assert tests[0]["metadata"]["integrationName"] == "HTTP integration"
    rerun = api.post(f"/api/converter/{cid}/tests/run").json()
    assert (rerun["passed"], rerun["failed"]) == (report["passed"], report["failed"])


@pytest.mark.parametrize(("body", "message"), [
    ({"name": "x"}, "'msg' is required"),
    ({"name": "x", "msg": "{nope"}, "'msg' is not JSON text"),
    ({"name": "x", "msg": "{}", "msgType": 5}, "'msgType' must be a string"),
    ({"name": "x", "msg": "{}", "integrationMetadata": "a"}, "'integrationMetadata' must be a JSON object"),
])
def test_bad_downlink_test_bodies_are_refused(api, body, message):
    res = api.post("/api/converter", {"name": "enc", "type": "DOWNLINK",
                                      "configuration": {"scriptLang": "JS", "encoder": ENCODER}}, format="json")
    assert_error(api.post(f"/api/converter/{res.json()['id']['id']}/tests", body, format="json"), 400, message)
    assert not ConverterTest.objects.exists()


def test_a_save_while_the_engine_cannot_run_tests_is_a_503_and_saves_nothing(api, saved, monkeypatch):
    from converters import engine

    cid = saved["id"]["id"]
    add_test(api, cid)

    def down(*args, **kwargs):
        raise engine.EngineError("converter workers keep dying")

    monkeypatch.setattr(engine, "decode", down)
    assert_error(save_with(api, saved, BROKEN), 503, "the stored tests could not run")
    assert_error(api.post(f"/api/converter/{cid}/tests/run"), 503, "the stored tests could not run")
    assert Converter.objects.get(pk=cid).script == DECODER
