"""`GET /api/integration/{id}/export-package` (ThingsBoard 4.4): the ZIP's files read back as the API's
own JSON, secrets as ${...} placeholders listed in form.json, downlink.json only with a downlink
converter, and tenancy."""

import io
import json
import zipfile

import pytest
from tb_pe_client.models import Converter as TbConverter
from tb_pe_client.models import Integration as TbIntegration

from integrations.models import Integration
from integrations.tests.factories import MQTT_CONFIG, make_downlink_converter, make_uplink_converter
from integrations.types.base import MASK
from tbproject.testing.api import assert_error
from transfer.hub_package import _label, package_filename

PASSWORD = "configuration.clientConfiguration.credentials.password"


@pytest.fixture
def mqtt(tenant):
    return Integration.objects.create(
        tenant=tenant, name="MQTT meters", type="MQTT", enabled=False, configuration=MQTT_CONFIG,
        default_converter=make_uplink_converter(tenant, "Meter decoder"),
        downlink_converter=make_downlink_converter(tenant, "Meter encoder"))


@pytest.fixture
def http(tenant):
    return Integration.objects.create(tenant=tenant, name="Plain HTTP", type="HTTP", enabled=False,
                                      configuration={"baseUrl": "http://localhost"},
                                      default_converter=make_uplink_converter(tenant, "HTTP decoder"))


def download(api, integration, **headers) -> tuple[dict, object]:
    res = api.get(f"/api/integration/{integration.pk}/export-package", **headers)
    assert res.status_code == 200, res.content[:300]
    with zipfile.ZipFile(io.BytesIO(res.content)) as archive:
        files = {name: json.loads(archive.read(name)) for name in archive.namelist()}
    return files, res


def test_the_zip_holds_the_integration_and_its_converters_as_the_api_shows_them(api, mqtt):
    files, res = download(api, mqtt)
    assert res["Content-Type"] == "application/zip"
    assert res["Content-Disposition"] == 'attachment; filename="MQTT meters.zip"'
    assert sorted(files) == ["downlink.json", "form.json", "integration.json", "uplink.json"]
    shown = api.get(f"/api/integration/{mqtt.pk}").json()
    assert shown["configuration"]["clientConfiguration"]["credentials"]["password"] == MASK
    shown["configuration"]["clientConfiguration"]["credentials"]["password"] = "${" + PASSWORD + "}"
    assert shown["routingKey"] and shown["routingKey"] not in json.dumps(files)
    shown["routingKey"] = "${routingKey}"  # what lets anyone post to an HTTP-family integration
    assert files["integration.json"] == shown  # the same JSON, the secrets as placeholders
    assert files["uplink.json"] == api.get(f"/api/converter/{mqtt.default_converter_id}").json()
    assert files["downlink.json"] == api.get(f"/api/converter/{mqtt.downlink_converter_id}").json()
    assert files["form.json"] == {"fields": [
        {"name": PASSWORD, "label": "Password", "type": "password", "required": True},
        {"name": "routingKey", "label": "Routing key", "type": "text", "required": False}]}
    # ThingsBoard's own client reads the files as its models
    assert TbIntegration.from_dict(files["integration.json"]).name == "MQTT meters"
    assert TbConverter.from_dict(files["downlink.json"]).type == "DOWNLINK"


def test_secrets_are_never_in_the_zip(api, mqtt, tenant):
    mqtt.secret = "remote-runner-secret"
    mqtt.save()
    files, res = download(api, mqtt)
    assert b"broker-pass" not in res.content and b"remote-runner-secret" not in res.content
    text = json.dumps(files)
    assert "broker-pass" not in text and "remote-runner-secret" not in text and MASK not in text
    assert files["integration.json"]["secret"] == "${secret}"
    assert [f["name"] for f in files["form.json"]["fields"]] == [PASSWORD, "secret", "routingKey"]


def test_without_a_downlink_converter_there_is_no_downlink_json(api, http):
    files, _ = download(api, http)
    assert sorted(files) == ["form.json", "integration.json", "uplink.json"]
    # no secret stored: only the routing key, which an installer may leave for a new one
    assert files["form.json"] == {"fields": [
        {"name": "routingKey", "label": "Routing key", "type": "text", "required": False}]}
    assert files["integration.json"]["secret"] == ""
    shown = api.get(f"/api/integration/{http.pk}").json()
    assert files["integration.json"] == {**shown, "routingKey": "${routingKey}"}


def test_it_answers_whatever_the_client_accepts(api, http):
    for accept in ("application/json", "application/zip", "*/*"):
        _, res = download(api, http, HTTP_ACCEPT=accept)
        assert res["Content-Type"] == "application/zip"


def test_another_tenants_integration_is_not_found(api, mallory_api, mqtt, customer_api, anon):
    assert_error(mallory_api.get(f"/api/integration/{mqtt.pk}/export-package"), 404)
    assert_error(api.get("/api/integration/8b1f2e4c-0000-4000-8000-000000000000/export-package"), 404)
    assert_error(api.get("/api/integration/not-a-uuid/export-package"), 400)
    assert customer_api.get(f"/api/integration/{mqtt.pk}/export-package").status_code == 403
    assert anon.get(f"/api/integration/{mqtt.pk}/export-package").status_code == 401


@pytest.mark.parametrize(("name", "label"), [
    (PASSWORD, "Password"),
    ("configuration.clientConfiguration.credentials.privateKeyPassword", "Private key password"),
    ("configuration.clientConfiguration.otherProperties[sasl.jaas.config]", "Sasl jaas config"),
    ("secret", "Secret"),
])
def test_a_form_field_is_labelled_by_the_secrets_key(name, label):
    assert _label(name) == label


@pytest.mark.parametrize(("name", "filename"), [
    ("MQTT meters", "MQTT meters.zip"), ("a/b:c", "a_b_c.zip"), ("...", "integration.zip"),
    ("Température", "Température.zip")])
def test_the_file_is_named_after_the_integration(name, filename):
    assert package_filename(Integration(name=name)) == filename
