"""The calculated-field REST API: saves, reads, lists, refusals (400/404) and testScript."""

import pytest

from calculated.tests.helpers import attr_arg, save, script, simple, ts_arg
from tbproject.testing.factories import make_asset, make_device


@pytest.fixture
def device(tenant):
    return make_device(tenant, "meter-1")


@pytest.fixture
def foreign_device(other_tenant):
    return make_device(other_tenant, "mallory-meter")


def test_it_saves_reads_updates_lists_and_deletes_a_field(api, device):
    saved = save(api, simple(device, "a * 2", {"a": ts_arg("a")}, "double"))
    assert saved["id"]["entityType"] == "CALCULATED_FIELD" and isinstance(saved["createdTime"], int)
    assert saved["entityId"] == {"entityType": "DEVICE", "id": str(device.pk)}
    assert saved["type"] == "SIMPLE" and saved["version"] == 1 and saved["configurationVersion"] == 1
    assert saved["configuration"]["expression"] == "a * 2"
    assert saved["debugSettings"] == {"failuresEnabled": True, "allEnabled": False, "allEnabledUntil": 0}
    pk = saved["id"]["id"]
    assert api.get(f"/api/calculatedField/{pk}").json() == saved

    saved["name"] = "Doubled"
    saved["configuration"]["expression"] = "a * 3"
    updated = save(api, saved)
    assert updated["id"]["id"] == pk and updated["version"] == 2 and updated["name"] == "Doubled"

    page = api.get(f"/api/calculatedField/DEVICE/{device.pk}", {"pageSize": 10, "page": 0}).json()
    assert [f["name"] for f in page["data"]] == ["Doubled"] and page["totalElements"] == 1
    infos = api.get("/api/calculatedFields", {"pageSize": 10, "page": 0, "types": "SIMPLE"}).json()
    assert [(f["name"], f["entityName"]) for f in infos["data"]] == [("Doubled", "meter-1")]
    assert api.get("/api/calculatedFields", {"pageSize": 10, "page": 0, "types": "SCRIPT"}).json()["data"] == []
    names = api.get("/api/calculatedFields/names", {"type": "SIMPLE", "pageSize": 10, "page": 0}).json()
    assert names == {"data": ["Doubled"], "totalPages": 1, "totalElements": 1, "hasNext": False}
    assert api.get(f"/api/calculatedField/{pk}/debug").json() is None

    assert api.delete(f"/api/calculatedField/{pk}").status_code == 200
    assert api.get(f"/api/calculatedField/{pk}").status_code == 404


def test_debug_all_opens_a_window(api, device):
    body = simple(device, "a", {"a": ts_arg("a")}, "b")
    body["debugSettings"] = {"failuresEnabled": False, "allEnabled": True}
    saved = save(api, body)
    assert saved["debugSettings"]["allEnabled"] is False and saved["debugSettings"]["allEnabledUntil"] > 0
    assert saved["debugMode"] is True


@pytest.mark.parametrize("expression, message", [
    ("(a + ", "Invalid expression: expected a number, a name or '(', found at the end"),
    ("a +* 2", "found '*' at column 4"),
    ("a $ 2", "unexpected character '$' at column 3"),
    ("foo(a)", "unknown function 'foo'"),
    ("a + b", "'b' is not an argument of this field"),
    ("", "the expression must be a non-empty string"),
    ("__import__(a)", "unknown function '__import__'"),
    ("__import__('os')", "unexpected character \"'\" at column 12"),
    ("a." * 600, "longer than 1000 characters"),
])
def test_a_bad_expression_is_refused_at_save_with_a_clear_message(api, device, expression, message):
    res = api.post("/api/calculatedField", simple(device, expression, {"a": ts_arg("a")}), format="json")
    assert res.status_code == 400, res.content
    assert message in res.json()["message"]


def test_a_script_that_does_not_compile_is_refused(api, device):
    res = api.post("/api/calculatedField", script(device, "var x = ;\nreturn {};", {"a": ts_arg("a")}), format="json")
    assert res.status_code == 400 and res.json()["message"].startswith("Invalid script:")


@pytest.mark.parametrize("change, message", [
    (lambda b: b.update(type="GEOFENCING"), "not supported here"),
    (lambda b: b.update(type="NOPE"), "type must be one of"),
    (lambda b: b.update(name=""), "name should be specified"),
    (lambda b: b.update(name="x\x00"), "NUL"),
    (lambda b: b.update(entityId="nope"), "entityId must be an object"),
    (lambda b: b["entityId"].update(entityType="CUSTOMER"), "applies to a DEVICE"),
    (lambda b: b["entityId"].update(id="not-a-uuid"), "not a UUID"),
    (lambda b: b.update(configuration=[]), "configuration must be a JSON object"),
    (lambda b: b["configuration"].update(arguments={}), "at least one argument"),
    (lambda b: b["configuration"]["arguments"].update({"1x": ts_arg("k")}), "must start with a letter"),
    (lambda b: b["configuration"]["arguments"].update({"ctx": ts_arg("k")}), "is reserved"),
    (lambda b: b["configuration"]["arguments"]["a"]["refEntityKey"].update(type="X"), "refEntityKey.type"),
    (lambda b: b["configuration"]["arguments"]["a"]["refEntityKey"].update(key=""), "refEntityKey.key"),
    (lambda b: b["configuration"]["arguments"]["a"]["refEntityKey"].update(type="TS_ROLLING"), "not TS_ROLLING"),
    (lambda b: b["configuration"]["output"].update(type="FILE"), "output.type"),
    (lambda b: b["configuration"]["output"].update(name=None), "output.name"),
    (lambda b: b["configuration"]["output"].update(decimalsByDefault=99), "decimalsByDefault"),
    (lambda b: b["configuration"]["output"].update(decimalsByDefault=10**30), "decimalsByDefault"),
    (lambda b: b.update(debugSettings="yes"), "debugSettings must be a JSON object"),
    (lambda b: b["configuration"].update(useLatestTs="yes"), "useLatestTs"),
])
def test_bad_input_is_a_400_naming_the_problem(api, device, change, message):
    body = simple(device, "a", {"a": ts_arg("a")})
    change(body)
    res = api.post("/api/calculatedField", body, format="json")
    assert res.status_code == 400, res.content
    assert message in res.json()["message"]


def test_malformed_json_is_a_400(api):
    res = api.generic("POST", "/api/calculatedField", b'{"name": ', content_type="application/json")
    assert res.status_code == 400
    res = api.post("/api/calculatedField", [1, 2], format="json")
    assert res.status_code == 400 and "JSON object" in res.json()["message"]


def test_another_tenants_entity_is_a_404_as_the_fields_entity_and_a_400_as_an_argument(api, device, foreign_device,
                                                                                       mallory_api):
    res = api.post("/api/calculatedField", simple(foreign_device, "a", {"a": ts_arg("a")}), format="json")
    assert res.status_code == 404
    arguments = {"a": ts_arg("a", refEntityId={"entityType": "DEVICE", "id": str(foreign_device.pk)})}
    res = api.post("/api/calculatedField", simple(device, "a", arguments), format="json")
    assert res.status_code == 400 and "is not found" in res.json()["message"]
    assert api.get(f"/api/calculatedField/DEVICE/{foreign_device.pk}", {"pageSize": 5, "page": 0}).status_code == 404

    saved = save(api, simple(device, "a", {"a": ts_arg("a")}))
    pk = saved["id"]["id"]
    for res in (mallory_api.get(f"/api/calculatedField/{pk}"), mallory_api.delete(f"/api/calculatedField/{pk}"),
                mallory_api.get(f"/api/calculatedField/{pk}/debug"),
                mallory_api.post("/api/calculatedField", saved, format="json")):
        assert res.status_code == 404
    assert mallory_api.get("/api/calculatedFields", {"pageSize": 5, "page": 0}).json()["data"] == []


def test_customer_users_may_not_use_calculated_fields(customer_api, device):
    assert customer_api.get("/api/calculatedFields", {"pageSize": 5, "page": 0}).status_code == 403


def test_the_tenant_profiles_limits_apply(api, tenant, device):
    from tenants.models import TenantProfile

    profile = TenantProfile.objects.create(name="small", profile_data={"configuration": {
        "maxCalculatedFieldsPerEntity": 1, "maxArgumentsPerCF": 2, "maxDataPointsPerRollingArg": 10}})
    tenant.tenant_profile = profile
    tenant.save()
    many = {name: ts_arg(name) for name in ("a", "b", "c")}
    res = api.post("/api/calculatedField", simple(device, "a + b + c", many), format="json")
    assert res.status_code == 400 and "maxArgumentsPerCF" in res.json()["message"]
    rolling = {"a": {"refEntityKey": {"key": "a", "type": "TS_ROLLING"}, "limit": 11, "timeWindow": 60000}}
    res = api.post("/api/calculatedField", script(device, "return {};", rolling), format="json")
    assert res.status_code == 400 and "limit must be an integer from 1 to 10" in res.json()["message"]
    save(api, simple(device, "a", {"a": ts_arg("a")}))
    res = api.post("/api/calculatedField", simple(device, "a", {"a": ts_arg("a")}, name="second"), format="json")
    assert res.status_code == 400 and "maxCalculatedFieldsPerEntity" in res.json()["message"]


def test_thingsboards_default_limit_is_five_fields_per_entity(api, tenant):
    asset = make_asset(tenant, "plant")
    for i in range(5):
        save(api, simple(asset, "a", {"a": ts_arg("a")}, name=f"f{i}", output=f"o{i}"))
    res = api.post("/api/calculatedField", simple(asset, "a", {"a": ts_arg("a")}, name="f5"), format="json")
    assert res.status_code == 400


def test_test_script_runs_a_body_on_given_arguments(api):
    body = {"expression": "var s = 0; foreach (v : temperature.values) { s += v.value; }\n"
                          "return {avg: s / temperature.values.size(), h: humidity, ts: ctx.args.humidity.ts};",
            "arguments": {"temperature": {"type": "TS_ROLLING", "timeWindow": {"startTs": 1, "endTs": 9},
                                          "values": [{"ts": 2, "value": 20}, {"ts": 3, "value": 30}]},
                          "humidity": {"type": "SINGLE_VALUE", "ts": 1739776478057, "value": 23}}}
    res = api.post("/api/calculatedField/testScript", body, format="json")
    assert res.status_code == 200
    assert res.json() == {"output": '{"avg":25.0,"h":23,"ts":1739776478057}', "error": ""}


def test_test_script_reports_the_scripts_failures_as_error(api, settings):
    settings.CONVERTER_TIMEOUT_MS = 200
    res = api.post("/api/calculatedField/testScript", {"expression": "while (true) {}", "arguments": {}},
                   format="json")
    assert res.status_code == 200 and res.json()["error"].startswith("timeout") and res.json()["output"] == ""
    res = api.post("/api/calculatedField/testScript", {"expression": "return {a: ;", "arguments": {}}, format="json")
    assert res.status_code == 200 and res.json()["error"]
    res = api.post("/api/calculatedField/testScript", {"expression": "raiseError('boom');", "arguments": {}},
                   format="json")
    assert "boom" in res.json()["error"]


@pytest.mark.parametrize("body, message", [
    ({"arguments": {}}, "'expression' must be"),
    ({"expression": "return 1;", "arguments": []}, "'arguments' must be a JSON object"),
    ({"expression": "return 1;", "arguments": {"bad name": {}}}, "not a valid"),
    ({"expression": "return 1;", "arguments": {"a": {"type": "OTHER"}}}, "SINGLE_VALUE or TS_ROLLING"),
    ("text", "JSON object"),
])
def test_test_script_refuses_bad_requests(api, body, message):
    res = api.post("/api/calculatedField/testScript", body, format="json")
    assert res.status_code == 400 and message in res.json()["message"]


def test_an_attribute_argument_defaults_to_the_server_scope(api, device):
    saved = save(api, simple(device, "a", {"a": {"refEntityKey": {"key": "a", "type": "ATTRIBUTE"}}}))
    assert saved["configuration"]["arguments"]["a"]["refEntityKey"] == {"key": "a", "type": "ATTRIBUTE"}
    res = api.post("/api/calculatedField", simple(device, "a", {"a": attr_arg("a", scope="ANY")}), format="json")
    assert res.status_code == 400 and "scope must be one of" in res.json()["message"]
