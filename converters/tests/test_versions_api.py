"""Converter version history (issue 21, item 1): every saved change is a version with its author
and a diff; rollback; ThingsBoard's `POST /api/converter` unchanged."""

import pytest

from converters.models import Converter, ConverterVersion
from tbproject.testing.api import assert_error

V1 = "var d = JSON.parse(String.fromCharCode.apply(null, payload));\nreturn {deviceName: d.id, deviceType: 'm',\n" \
     "  telemetry: {t: d.t}};"
V2 = V1.replace("{t: d.t}", "{t: d.t, doubled: d.t * 2}")


def body(name="meter", decoder=V1, **extra) -> dict:
    return {"name": name, "type": "UPLINK", "configuration": {"scriptLang": "JS", "decoder": decoder}, **extra}


@pytest.fixture
def saved(api):
    res = api.post("/api/converter", body(), format="json")
    assert res.status_code == 200, res.content
    return res.json()


def change(api, saved, **configuration) -> dict:
    data = {**saved, "configuration": {**saved["configuration"], **configuration}}
    res = api.post("/api/converter", data, format="json")
    assert res.status_code == 200, res.content
    return res.json()


def versions(api, converter_id) -> list:
    res = api.get(f"/api/converter/{converter_id}/versions")
    assert res.status_code == 200, res.content
    return res.json()


def test_every_saved_change_is_a_version_with_author_time_and_diff(api, saved, tenant_admin):
    cid = saved["id"]["id"]
    change(api, saved, decoder=V2)
    listed = versions(api, cid)
    assert [v["number"] for v in listed] == [2, 1]
    assert {v["author"] for v in listed} == {tenant_admin.get_username()}
    assert listed[0]["createdTime"] >= listed[1]["createdTime"] > 0
    assert listed[0]["configuration"]["decoder"] == V2 and listed[1]["configuration"]["decoder"] == V1
    detail = api.get(f"/api/converter/{cid}/versions/2").json()
    assert "--- version 1\n+++ version 2\n" in detail["diff"]
    assert "-  telemetry: {t: d.t}};\n+  telemetry: {t: d.t, doubled: d.t * 2}};\n" in detail["diff"]
    assert api.get(f"/api/converter/{cid}/versions/1").json()["diff"] == ""


def test_a_save_that_changes_nothing_in_the_configuration_is_not_a_version(api, saved):
    cid = saved["id"]["id"]
    res = api.post("/api/converter", {**saved, "name": "renamed",
                                      "debugSettings": {"failuresEnabled": True, "allEnabled": False}}, format="json")
    assert res.status_code == 200, res.content
    assert [v["number"] for v in versions(api, cid)] == [1]
    change(api, saved, updateOnlyKeys=["t"])  # configuration beyond the script counts
    assert [v["number"] for v in versions(api, cid)] == [2, 1]


def test_the_thingsboard_save_answer_is_unchanged(api, saved):
    assert set(saved) == {"id", "createdTime", "tenantId", "name", "type", "integrationType", "debugMode",
                          "debugSettings", "configuration", "edgeTemplate", "converterVersion", "additionalInfo",
                          "version"}


def test_rollback_makes_an_old_version_the_newest(api, saved):
    cid = saved["id"]["id"]
    change(api, saved, decoder=V2)
    res = api.post(f"/api/converter/{cid}/versions/1/rollback")
    assert res.status_code == 200, res.content
    assert res.json()["configuration"]["decoder"] == V1 and res.json()["name"] == "meter"
    listed = versions(api, cid)
    assert [(v["number"], v["rolledBackFrom"]) for v in listed] == [(3, 1), (2, None), (1, None)]
    converter = Converter.objects.get(pk=cid)
    assert converter.script == V1 and converter.version_number == 3
    assert "+  telemetry: {t: d.t}};" in api.get(f"/api/converter/{cid}/versions/3").json()["diff"]


def test_a_new_script_version_means_a_new_engine_context_after_rollback(api, saved):
    cid = saved["id"]["id"]
    before = Converter.objects.get(pk=cid).script_version
    change(api, saved, decoder=V2)
    api.post(f"/api/converter/{cid}/versions/1/rollback")
    assert Converter.objects.get(pk=cid).script_version == before + 2


@pytest.mark.parametrize(("path", "status", "message"), [
    ("versions/9", 404, "Converter version 9 doesn't exist!"),
    ("versions/abc", 404, "is not a number"),
    ("versions/9/rollback", 404, "Converter version 9 doesn't exist!"),
])
def test_it_says_which_version_is_missing(api, saved, path, status, message):
    cid = saved["id"]["id"]
    method = api.post if path.endswith("rollback") else api.get
    assert_error(method(f"/api/converter/{cid}/{path}"), status, message)
    assert ConverterVersion.objects.filter(converter_id=cid).count() == 1


def test_another_tenants_converter_history_is_a_404(api, mallory_api, saved):
    cid = saved["id"]["id"]
    change(api, saved, decoder=V2)
    for res in (mallory_api.get(f"/api/converter/{cid}/versions"), mallory_api.get(f"/api/converter/{cid}/versions/1"),
                mallory_api.post(f"/api/converter/{cid}/versions/1/rollback")):
        assert_error(res, 404)
    assert Converter.objects.get(pk=cid).script == V2


def test_a_customer_user_cannot_read_versions(customer_api, saved):
    assert customer_api.get(f"/api/converter/{saved['id']['id']}/versions").status_code == 403


def test_a_version_of_the_other_type_is_not_rolled_back(api, saved):
    cid = saved["id"]["id"]
    ConverterVersion.objects.filter(converter_id=cid, number=1).update(type="DOWNLINK")
    change(api, saved, decoder=V2)
    assert_error(api.post(f"/api/converter/{cid}/versions/1/rollback"), 400, "is a DOWNLINK converter")
    assert Converter.objects.get(pk=cid).version_number == 2


def test_a_save_with_update_fields_still_records_the_new_version(tenant):
    converter = Converter.objects.create(tenant=tenant, name="uf", type="UPLINK",
                                         configuration={"scriptLang": "JS", "decoder": V1})
    converter.configuration = {"scriptLang": "JS", "decoder": V2}
    converter.save(update_fields=["configuration"])
    fresh = Converter.objects.get(pk=converter.pk)
    assert (fresh.version_number, fresh.script_version, fresh.script) == (2, 2, V2)
    assert [v.number for v in ConverterVersion.objects.filter(converter=converter)] == [2, 1]
    assert ConverterVersion.objects.get(converter=converter, number=2).author is None
