"""`/api/converter/library/...`: browsing the library and creating a converter from an entry,
whose samples run as its tests."""

import json

import pytest

from converters.models import Converter
from converters.tests.envelopes import doc
from converters.tests.library_repo import TYPED_ERS
from tbproject.testing.api import assert_error

LIB = "/api/converter/library"


def test_it_lists_vendors_and_models_of_an_integration_type(api, library):
    assert api.get(f"{LIB}/CHIRPSTACK/vendors").json() == [{"name": "Elsys", "logo": None}]
    logo = api.get(f"{LIB}/CHIRPSTACK/vendors?loadImages=true&converterType=UPLINK").json()[0]["logo"]
    assert logo.startswith("data:image/svg+xml;base64,")
    models = api.get(f"{LIB}/CHIRPSTACK/Elsys/models?loadImages=true").json()
    assert [(m["name"], m["info"]["label"], m["photo"][:14]) for m in models] == [
        ("ERS", "ERS: indoor climate", "data:image/png")]
    assert [m["name"] for m in api.get(f"{LIB}/LORIOT/Acme/models?page=1&pageSize=1").json()] == ["TbelOnly"]
    assert api.get(f"{LIB}/CHIRPSTACK/vendors?converterType=DOWNLINK").json() == []
    assert api.get(f"{LIB}/MQTT/vendors").json() == []


def test_it_serves_an_entrys_converter_metadata_and_first_payload(api, library):
    entry = f"{LIB}/CHIRPSTACK/Elsys/ERS/uplink"
    assert api.get(entry).json() == TYPED_ERS
    assert api.get(f"{entry}/metadata").json() == {"integrationName": "ChirpStack integration"}
    assert json.loads(api.get(f"{entry}/payload").json()) == doc("chirpstack_up")
    assert api.get(f"{LIB}/TTN/Elsys/ERS/uplink/metadata").json() == {}


@pytest.mark.parametrize(("path", "status", "message"), [
    ("/LORAWAN/vendors", 400, "Unknown integration type 'LORAWAN'"),
    ("/CHIRPSTACK/vendors?converterType=SIDEWAYS", 400, "converterType must be UPLINK or DOWNLINK"),
    ("/CHIRPSTACK/vendors?pageSize=0", 400, "pageSize must be positive"),
    ("/CHIRPSTACK/Elsys/NoSuch/uplink", 404, "no uplink converter for Elsys NoSuch (CHIRPSTACK)"),
    ("/CHIRPSTACK/Elsys/ERS/downlink", 404, "no downlink converter"),
    ("/CHIRPSTACK/Elsys/ERS/sideways", 404, "use uplink or downlink"),
])
def test_it_says_what_is_wrong_with_a_library_path(api, library, path, status, message):
    assert_error(api.get(f"{LIB}{path}"), status, message)


def test_an_unloaded_library_is_empty(api, settings, tmp_path):
    settings.CONVERTERS_LIBRARY_DIR = str(tmp_path / "never-loaded")
    assert api.get(f"{LIB}/CHIRPSTACK/vendors").json() == []


def test_creating_a_typed_converter_runs_its_samples(api, library, tenant):
    res = api.post(f"{LIB}/CHIRPSTACK/Elsys/ERS/uplink", {}, format="json")
    assert res.status_code == 200, res.content
    report = res.json()
    assert (report["passed"], report["failed"], report["notes"]) == (1, 0, [])
    assert report["samples"] == [{"sample": "payload.json", "expected": "result.json", "passed": True, "error": "",
                                  "differences": []}]
    converter = Converter.objects.get(tenant=tenant, pk=report["converter"]["id"]["id"])
    assert (converter.name, converter.converter_version, converter.integration_type) == (
        "ChirpStack Uplink Converter for Elsys ERS", 2, "CHIRPSTACK")
    assert converter.configuration["attributes"] == ["eui", "fPort"] and converter.debug_failures_enabled


def test_creating_a_converter_reports_sample_mismatches_clearly(api, library, tenant):
    report = api.post(f"{LIB}/HTTP/Dragino/LHT65/uplink", {"name": "LHT65"}, format="json").json()
    assert (report["passed"], report["failed"]) == (1, 1)
    failed = report["samples"][1]
    assert (failed["sample"], failed["expected"], failed["passed"]) == ("payload_1.txt", "result_1.json", False)
    assert failed["differences"] == ['attributes.model: expected "X", got "LHT65"',
                                     "telemetry.humidity: expected 31, got 30"]
    assert Converter.objects.filter(tenant=tenant, name="LHT65").exists()  # created all the same


def test_a_ts013_codec_entry_is_created_and_its_sample_runs_unwrapped(api, library):
    report = api.post(f"{LIB}/TTN/Elsys/ERS/uplink", {}, format="json").json()
    assert report["converter"]["configuration"]["scriptContract"] == "TS013"
    assert report["samples"][0]["passed"] and report["samples"][0]["expected"] is None


def test_a_tbel_entry_is_saved_as_tbel_and_its_samples_pass(api, library):
    report = api.post(f"{LIB}/LORIOT/Acme/Frame/uplink", {}, format="json").json()
    assert report["converter"]["configuration"]["scriptLang"] == "TBEL"
    assert (report["passed"], report["failed"], report["notes"]) == (1, 0, [])


def test_a_tbel_only_entry_is_saved(api, library, tenant):
    report = api.post(f"{LIB}/LORIOT/Acme/TbelOnly/uplink", {}, format="json").json()
    assert report["converter"]["configuration"]["tbelDecoder"] == "return {};"
    assert Converter.objects.get(tenant=tenant).script_lang == "TBEL"


def test_a_name_in_use_is_refused_and_tenants_are_kept_apart(api, mallory_api, library, tenant):
    first = api.post(f"{LIB}/CHIRPSTACK/Elsys/ERS/uplink", {}, format="json").json()["converter"]["id"]["id"]
    assert_error(api.post(f"{LIB}/CHIRPSTACK/Elsys/ERS/uplink", {}, format="json"), 400, "already exists")
    assert_error(api.post(f"{LIB}/CHIRPSTACK/Elsys/ERS/uplink", {"name": " "}, format="json"), 400, "'name'")
    theirs = mallory_api.post(f"{LIB}/CHIRPSTACK/Elsys/ERS/uplink", {}, format="json")
    assert theirs.status_code == 200  # the same name in another tenant
    assert mallory_api.get(f"/api/converter/{first}").status_code == 404
    assert api.get(f"/api/converter/{theirs.json()['converter']['id']['id']}").status_code == 404
    assert Converter.objects.filter(tenant=tenant).count() == 1


def test_the_library_is_for_tenant_administrators(anon, customer_api, library):
    assert anon.get(f"{LIB}/CHIRPSTACK/vendors").status_code == 401
    assert customer_api.get(f"{LIB}/CHIRPSTACK/vendors").status_code == 403
    assert customer_api.post(f"{LIB}/CHIRPSTACK/Elsys/ERS/uplink", {}, format="json").status_code == 403


def test_the_service_creates_for_a_tenant_without_a_request(library, tenant):
    from converters.library.service import LibraryEntryMissing, create_from_library

    report = create_from_library(tenant, "HTTP", "Dragino", "LHT65", name="from the admin")
    assert Converter.objects.get(pk=report["converter"]["id"]["id"]).tenant == tenant
    with pytest.raises(LibraryEntryMissing, match="no uplink converter for Dragino LHT99"):
        create_from_library(tenant, "HTTP", "Dragino", "LHT99")
