"""`/api/converter` and `/api/converters`: save with compile check, get, delete, page, by ids."""

import pytest
from django.apps import apps
from django.db.models import ProtectedError
from tb_pe_client.models import Converter as TbConverter
from tb_pe_client.models import PageDataConverter

from converters.models import Converter
from tbproject.clock import now_ms
from tbproject.testing.api import assert_error, assert_isolated, assert_unchanged, page_names, snapshot
from tbproject.testing.factories import make_device

DECODER = """
var data = JSON.parse(String.fromCharCode.apply(null, payload));
return {deviceName: data.id, deviceType: 'meter', telemetry: {t: data.t}};
"""
ENCODER = "return {contentType: 'JSON', data: JSON.stringify(msg), metadata: {topic: 'down/' + metadata.deviceName}};"


def uplink(name="Meter decoder", **extra) -> dict:
    return {"name": name, "type": "UPLINK", "configuration": {"scriptLang": "JS", "decoder": DECODER}, **extra}


def downlink(name="Meter encoder", **extra) -> dict:
    return {"name": name, "type": "DOWNLINK", "configuration": {"scriptLang": "JS", "encoder": ENCODER}, **extra}


def make_converter(tenant, name="conv", **extra) -> Converter:
    fields = {"type": "UPLINK", "configuration": {"scriptLang": "JS", "decoder": DECODER}, **extra}
    return Converter.objects.create(tenant=tenant, name=name, **fields)


def save(api, body):
    return api.post("/api/converter", body, format="json")


# --- save ----------------------------------------------------------------------------------------

def test_it_creates_a_converter_the_client_can_parse(api, tenant):
    res = save(api, uplink(integrationType="HTTP", additionalInfo={"description": "meters"}))
    assert res.status_code == 200, res.content
    body = res.json()
    parsed = TbConverter.from_dict(body)
    assert parsed.name == "Meter decoder" and parsed.type == "UPLINK" and parsed.integration_type == "HTTP"
    assert body["id"]["entityType"] == "CONVERTER" and body["tenantId"]["id"] == str(tenant.pk)
    assert body["configuration"] == {"scriptLang": "JS", "decoder": DECODER, "updateOnlyKeys": []}
    assert body["converterVersion"] == 1 and body["edgeTemplate"] is False and body["version"] == 1
    assert body["additionalInfo"] == {"description": "meters"}
    assert body["debugSettings"] == {"failuresEnabled": False, "allEnabled": False, "allEnabledUntil": 0}
    assert Converter.objects.get(pk=body["id"]["id"]).tenant == tenant


def test_it_creates_a_downlink_converter_and_keeps_other_configuration_keys(api):
    body = downlink(configuration={"encoder": ENCODER, "decoder": None, "tbelEncoder": None,
                                   "updateOnlyKeys": ["fw"]}, converterVersion=2)
    res = save(api, body)
    assert res.status_code == 200, res.content
    assert res.json()["configuration"] == {"encoder": ENCODER, "decoder": None, "tbelEncoder": None,
                                           "updateOnlyKeys": ["fw"], "scriptLang": "JS"}
    assert res.json()["converterVersion"] == 2


def test_it_updates_by_id_and_accepts_the_whole_object_posted_back(api):
    created = save(api, uplink()).json()
    created["name"] = "Renamed"
    created["createdTime"] = 1
    res = save(api, created)
    assert res.status_code == 200, res.content
    assert res.json()["name"] == "Renamed" and res.json()["version"] == 2
    assert res.json()["createdTime"] == Converter.objects.get().created_time != 1
    assert Converter.objects.count() == 1


def test_it_bumps_the_script_version_only_when_the_script_changes(api):
    created = save(api, uplink()).json()
    converter = Converter.objects.get()
    assert converter.script_version == 1
    save(api, {**created, "name": "Other name"})
    assert Converter.objects.get().script_version == 1
    new_script = DECODER + "\n// v2"
    save(api, {**created, "configuration": {"scriptLang": "JS", "decoder": new_script}})
    converter = Converter.objects.get()
    assert converter.script_version == 2 and converter.script == new_script


def test_it_refuses_a_script_that_does_not_compile_with_the_engines_message_and_line(api):
    broken = "var a = 1;\nvar b = ;\nreturn a;"
    body = assert_error(save(api, uplink(configuration={"decoder": broken})), 400, "SyntaxError")
    assert "(line 2)" in body["message"] and "decoder" in body["message"]
    assert Converter.objects.count() == 0


def test_it_refuses_a_broken_update_and_keeps_the_stored_script(api):
    created = save(api, uplink()).json()
    converter = Converter.objects.get()
    before = snapshot(converter)
    assert_error(save(api, {**created, "configuration": {"decoder": "return {;"}}), 400, "(line 1)")
    assert_unchanged(converter, before)


@pytest.mark.parametrize(("body", "message"), [
    (uplink(configuration={"scriptLang": "JS", "encoder": ENCODER}), "configuration.decoder is required"),
    (downlink(configuration={"scriptLang": "JS", "decoder": DECODER}), "configuration.encoder is required"),
    (uplink(configuration={"scriptLang": "TBEL", "decoder": DECODER}), "configuration.tbelDecoder is required"),
    (uplink(configuration={"scriptLang": "TBEL", "tbelDecoder": "var a = 1;\nreturn {a: };"}),
     "The tbelDecoder script does not compile"),
    (uplink(configuration={"scriptLang": "LUA", "decoder": DECODER}), "scriptLang must be JS or TBEL"),
    (uplink(configuration={"decoder": "   "}), "configuration.decoder is required"),
    (uplink(configuration={"decoder": 42}), "decoder must be a string"),
    (uplink(configuration={"decoder": DECODER, "updateOnlyKeys": "fw"}), "updateOnlyKeys must be an array"),
    (uplink(configuration=None), "Converter configuration should be specified!"),
    ({"name": "x", "type": "UPLINK"}, "Converter configuration should be specified!"),
    (uplink(configuration=[1]), "must be a JSON object"),
    (uplink(name=""), "Converter name should be specified!"),
    ({"type": "UPLINK", "configuration": {"decoder": DECODER}}, "Converter name should be specified!"),
    (uplink(type="SIDEWAYS"), "type"),
    ({"name": "x", "configuration": {"decoder": DECODER}}, "Converter type should be specified!"),
    (uplink(integrationType="IBM_WATSON_IOT"), "integrationType"),
    (uplink(converterVersion=3), "converterVersion"),
    (uplink(debugSettings={"failuresEnabled": "yes"}), "failuresEnabled must be true or false"),
    (uplink(debugSettings={"allEnabledUntil": "soon"}), "allEnabledUntil must be a time in milliseconds"),
    (uplink(debugSettings=[]), "debugSettings: must be a JSON object"),
    (uplink(additionalInfo=[1]), "additionalInfo"),
])
def test_it_refuses_invalid_converters(api, body, message):
    assert_error(save(api, body), 400, message)
    assert Converter.objects.count() == 0


def test_it_refuses_malformed_json_and_non_object_bodies(api):
    assert_error(api.post("/api/converter", "{not json", content_type="application/json"), 400,
                 "Invalid request body")
    assert_error(api.post("/api/converter", [uplink()], format="json"), 400, "must be a JSON object")


def test_it_refuses_a_duplicate_name_in_the_same_tenant_only(api, mallory_api):
    assert save(api, uplink()).status_code == 200
    assert_error(save(api, uplink()), 400, "Converter with such name already exists!")
    assert save(mallory_api, uplink()).status_code == 200
    assert Converter.objects.filter(name="Meter decoder").count() == 2


def test_it_answers_404_for_an_unknown_id_on_update(api):
    body = uplink(id={"entityType": "CONVERTER", "id": "6f1c6f5e-0000-4000-8000-000000000000"})
    assert_error(save(api, body), 404)
    assert_error(save(api, uplink(id={"id": "not-a-uuid"})), 400, "Invalid UUID string")


# --- debug settings -----------------------------------------------------------------------------

def test_it_turns_all_enabled_into_a_window_of_the_configured_length(api, settings):
    settings.DEBUG_ALL_DURATION_MINUTES = 10
    before = now_ms()
    res = save(api, uplink(debugSettings={"failuresEnabled": True, "allEnabled": True, "allEnabledUntil": 0}))
    debug = res.json()["debugSettings"]
    assert debug["failuresEnabled"] is True and debug["allEnabled"] is False
    assert before + 600_000 <= debug["allEnabledUntil"] <= now_ms() + 600_000
    assert res.json()["debugMode"] is True


def test_it_keeps_a_posted_back_window_but_never_extends_it(api, settings):
    created = save(api, uplink(debugSettings={"allEnabled": True})).json()
    until = created["debugSettings"]["allEnabledUntil"]
    assert save(api, created).json()["debugSettings"]["allEnabledUntil"] == until
    far = {**created, "debugSettings": {"failuresEnabled": False, "allEnabledUntil": now_ms() + 86_400_000}}
    assert save(api, far).json()["debugSettings"]["allEnabledUntil"] <= now_ms() + 15 * 60_000
    off = {**created, "debugSettings": {"failuresEnabled": True, "allEnabled": False, "allEnabledUntil": 0}}
    assert save(api, off).json()["debugSettings"] == {"failuresEnabled": True, "allEnabled": False,
                                                      "allEnabledUntil": 0}


def test_it_keeps_debug_settings_on_an_update_without_them_and_reads_legacy_debug_mode(api):
    created = save(api, uplink(debugSettings={"failuresEnabled": True})).json()
    body = {k: v for k, v in created.items() if k not in ("debugSettings", "debugMode")}
    assert save(api, body).json()["debugSettings"]["failuresEnabled"] is True
    legacy = save(api, uplink(name="legacy", debugMode=True)).json()
    assert legacy["debugSettings"]["allEnabledUntil"] > now_ms() and legacy["debugMode"] is True


# --- get, list, by ids ----------------------------------------------------------------------------

def test_it_gets_a_converter(api, tenant):
    converter = make_converter(tenant, "c1")
    res = api.get(f"/api/converter/{converter.pk}")
    assert res.status_code == 200 and res.json()["name"] == "c1"
    assert_error(api.get("/api/converter/not-a-uuid"), 400, "Invalid UUID string")
    assert_error(api.get("/api/converter/6f1c6f5e-0000-4000-8000-000000000000"), 404)


def test_it_pages_searches_sorts_and_filters_by_integration_type(api, tenant, other_tenant):
    for i, (name, kind) in enumerate((("beta", "HTTP"), ("alpha", "MQTT"), ("alpine", None), ("gamma", "HTTP"))):
        make_converter(tenant, name, integration_type=kind, created_time=1000 + i)
    make_converter(other_tenant, "Alien")
    base = "/api/converters?pageSize=10&page=0"
    assert page_names(api.get(base + "&sortProperty=name&sortOrder=ASC")) == ["alpha", "alpine", "beta", "gamma"]
    assert page_names(api.get(base + "&textSearch=AL&sortProperty=name")) == ["alpha", "alpine"]
    assert page_names(api.get(base + "&textSearch=lph")) == []  # startsWith, not contains
    assert sorted(page_names(api.get(base + "&integrationType=HTTP&isEdgeTemplate=false"))) == ["beta", "gamma"]
    assert_error(api.get(base + "&integrationType=BOGUS"), 400, "integrationType")
    res = api.get("/api/converters?pageSize=3&page=1&sortProperty=createdTime&sortOrder=DESC")
    assert res.json()["totalElements"] == 4 and res.json()["totalPages"] == 2 and res.json()["hasNext"] is False
    assert [c.name for c in PageDataConverter.from_dict(res.json()).data] == ["beta"]
    assert_error(api.get("/api/converters?page=0"), 400, "pageSize")


def test_it_lists_converters_by_ids_in_request_order_skipping_foreign_ones(api, tenant, other_tenant):
    a, b = make_converter(tenant, "a"), make_converter(tenant, "b")
    foreign = make_converter(other_tenant, "foreign")
    res = api.get(f"/api/converters/list?converterIds={b.pk},{foreign.pk},{a.pk}")
    assert [c["name"] for c in res.json()] == ["b", "a"]
    res = api.get(f"/api/converters/list?converterIds={a.pk}&converterIds={b.pk}")
    assert [c["name"] for c in res.json()] == ["a", "b"]
    assert_error(api.get("/api/converters/list"), 400, "converterIds")


# --- delete -----------------------------------------------------------------------------------------

def test_it_deletes_a_converter(api, tenant):
    converter = make_converter(tenant)
    assert api.delete(f"/api/converter/{converter.pk}").status_code == 200
    assert not Converter.objects.exists()
    assert_error(api.delete(f"/api/converter/{converter.pk}"), 404)


def test_it_refuses_to_delete_a_converter_an_integration_uses_naming_it(api, tenant, monkeypatch):
    converter = make_converter(tenant)
    user = make_device(tenant, "HTTP integration")  # any model instance stands in for the referencing row

    def protected(self, *args, **kwargs):
        raise ProtectedError("Cannot delete some instances of model 'Converter'", {user})

    monkeypatch.setattr(Converter, "delete", protected)
    body = assert_error(api.delete(f"/api/converter/{converter.pk}"), 400)
    assert body["message"] == "Cannot delete: it is used by device 'HTTP integration'. Remove those references first."
    assert Converter.objects.filter(pk=converter.pk).exists()


def test_it_refuses_to_delete_a_converter_a_real_integration_uses(api, tenant):
    try:
        integration_model = apps.get_model("integrations", "Integration")
    except LookupError:
        pytest.skip("the integrations app has no Integration model yet")
    converter = make_converter(tenant)
    integration = integration_model.objects.create(tenant=tenant, name="HTTP A", type="HTTP",
                                                   default_converter=converter)
    body = assert_error(api.delete(f"/api/converter/{converter.pk}"), 400)
    assert body["message"].startswith("Cannot delete: it is used by integration ")
    assert integration.name in body["message"]
    assert Converter.objects.filter(pk=converter.pk).exists()


# --- who may call -----------------------------------------------------------------------------------

def test_another_tenants_converter_is_a_404_and_stays_unchanged(mallory_api, tenant):
    converter = make_converter(tenant)
    assert_isolated(mallory_api, converter, single="converter", update=uplink("hijacked"))
    assert page_names(mallory_api.get("/api/converters?pageSize=10&page=0")) == []


def test_customer_users_and_system_admins_are_refused(customer_api, sysadmin, tenant):
    from tbproject.testing.fixtures import api_as

    converter = make_converter(tenant)
    for client in (customer_api, api_as(sysadmin)):
        assert_error(client.get(f"/api/converter/{converter.pk}"), 403)
        assert_error(client.get("/api/converters?pageSize=10&page=0"), 403)
        assert_error(client.get(f"/api/converters/list?converterIds={converter.pk}"), 403)
        assert_error(client.post("/api/converter", uplink("x"), format="json"), 403)
        assert_error(client.delete(f"/api/converter/{converter.pk}"), 403)
    assert Converter.objects.count() == 1


def test_anonymous_callers_are_refused(anon):
    assert_error(anon.get("/api/converters?pageSize=10&page=0"), 401)
    assert_error(anon.post("/api/converter/testUpLink", {}, format="json"), 401)
