"""The header filter's values in packages: each one its own required secret (JSON package), its own
placeholder and form field (ThingsBoard 4.4's ZIP) and its own password field on the admin's import
page; asked for on import and enforced again by the imported integration."""

import io
import json
import zipfile

import pytest
from asgiref.sync import async_to_sync
from channels.testing import HttpCommunicator
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from integrations import queue
from integrations.models import Integration
from integrations.tests.factories import make_uplink_converter
from tbproject.testing.api import assert_error

HEADERS = {"X-Api-Key": "k-1a2b3c", "X-Site.Token": "north-77"}
KEY = "integration.configuration.headersFilter.X-Api-Key"
SITE = "integration.configuration.headersFilter[X-Site.Token]"
PARTICLE_INNER = "integration.configuration.clientConfiguration.headersFilter.X-Inner"


@pytest.fixture
def secured(tenant):
    return Integration.objects.create(
        tenant=tenant, name="Secured HTTP", type="HTTP", enabled=True, routing_key="key-sec",
        default_converter=make_uplink_converter(tenant, "Meter decoder"),
        configuration={"baseUrl": "http://localhost", "enableSecurity": True, "headersFilter": dict(HEADERS)})


def export(api, integration) -> dict:
    res = api.get(f"/api/integration/{integration.pk}/export")
    assert res.status_code == 200, res.content[:300]
    assert all(v not in res.content.decode() for v in HEADERS.values()) and "******" not in res.content.decode()
    return res.json()


def test_the_json_package_requires_each_header_value(api, secured):
    package = export(api, secured)
    assert sorted(package["requiredSecrets"]) == sorted([KEY, SITE])
    assert package["integration"]["configuration"]["headersFilter"] == {"X-Api-Key": None, "X-Site.Token": None}
    assert package["integration"]["configuration"]["enableSecurity"] is True


def test_an_import_asks_for_the_values_and_the_new_integration_enforces_them(api, mallory_api, mallory, secured,
                                                                              monkeypatch):
    package = export(api, secured)
    assert_error(mallory_api.post("/api/integration/import", {**package, "secrets": {KEY: "m-key"}}, format="json"),
                 400, f"Missing secrets: {SITE}")
    wrong = {KEY: "m-key", SITE: "m-site", "integration.configuration.headersFilter.X-Other": "x"}
    assert_error(mallory_api.post("/api/integration/import", {**package, "secrets": wrong}, format="json"),
                 400, "Not a secret of this package: integration.configuration.headersFilter.X-Other")
    assert not Integration.objects.filter(tenant=mallory.tenant).exists()

    res = mallory_api.post("/api/integration/import", {**package, "secrets": {KEY: "m-key", SITE: "m-site"}},
                           format="json")
    assert res.status_code == 200, res.content
    assert "m-key" not in res.content.decode()
    new = Integration.objects.get(tenant=mallory.tenant)
    assert new.configuration["headersFilter"] == {"X-Api-Key": "m-key", "X-Site.Token": "m-site"}
    assert secured.configuration["headersFilter"] == HEADERS  # the original untouched

    received = []

    async def accept(uplink):
        received.append(uplink)

    monkeypatch.setattr(queue, "accept", accept)
    url = f"/api/v1/integrations/http/{new.routing_key}"
    assert Client().post(url, b"{}", content_type="application/json", HTTP_X_API_KEY="k-1a2b3c").status_code == 403
    assert received == []
    # the values given on import admit a sender (raw ASGI headers: Django's META cannot carry "x-site.token")
    from tbproject.asgi import application

    raw = [(b"content-type", b"application/json"), (b"x-api-key", b"m-key"), (b"x-site.token", b"m-site")]
    answer = async_to_sync(HttpCommunicator(application, "POST", url, body=b"{}", headers=raw).get_response)(timeout=10)
    assert answer["status"] == 204 and len(received) == 1


def test_the_zip_tokenises_each_header_value_with_a_form_field(api, secured):
    res = api.get(f"/api/integration/{secured.pk}/export-package")
    assert res.status_code == 200
    with zipfile.ZipFile(io.BytesIO(res.content)) as archive:
        text = {name: archive.read(name).decode() for name in archive.namelist()}
    assert all(v not in body and "******" not in body for body in text.values() for v in HEADERS.values())
    integration = json.loads(text["integration.json"])
    assert integration["configuration"]["headersFilter"] == {
        "X-Api-Key": "${configuration.headersFilter.X-Api-Key}",
        "X-Site.Token": "${configuration.headersFilter[X-Site.Token]}"}
    fields = json.loads(text["form.json"])["fields"]
    assert [f for f in fields if f["name"] != "routingKey"] == [
        {"name": "configuration.headersFilter.X-Api-Key", "label": "Header X-Api-Key", "type": "password",
         "required": True},
        {"name": "configuration.headersFilter[X-Site.Token]", "label": "Header X-Site.Token", "type": "password",
         "required": True}]


def test_particle_lists_both_of_its_filters(api, tenant):
    particle = Integration.objects.create(
        tenant=tenant, name="Particle", type="PARTICLE", enabled=False,
        default_converter=make_uplink_converter(tenant, "Particle decoder"),
        configuration={"headersFilter": {"X-Api-Key": "top"},
                       "clientConfiguration": {"enableSecurity": True, "headersFilter": {"X-Inner": "inner"}}})
    package = api.get(f"/api/integration/{particle.pk}/export").json()
    assert sorted(package["requiredSecrets"]) == sorted([KEY, PARTICLE_INNER])
    assert "inner" not in json.dumps(package) and '"top"' not in json.dumps(package)


def test_the_admin_import_page_asks_for_each_header_value(client, tenant_admin, mallory, secured):
    client.force_login(tenant_admin)
    package = json.loads(client.get(f"/admin/integrations/integration/{secured.pk}/package/").content)
    assert sorted(package["requiredSecrets"]) == sorted([KEY, SITE])
    client.force_login(mallory)
    url = "/admin/integrations/integration/import-package/"
    upload = SimpleUploadedFile("p.json", json.dumps(package).encode(), content_type="application/json")
    step1 = client.post(url, {"package": upload}).content.decode()
    assert f'data-secret-path="{KEY}"' in step1 and f'data-secret-path="{SITE}"' in step1
    values = {KEY: "a-1", SITE: "b-2"}
    res = client.post(url, {"package_text": json.dumps(package),
                            **{f"secret_{i}": values[p] for i, p in enumerate(package["requiredSecrets"])}})
    assert res.status_code == 302, res.content.decode()[:2000]
    assert Integration.objects.get(tenant=mallory.tenant).configuration["headersFilter"] == {
        "X-Api-Key": "a-1", "X-Site.Token": "b-2"}
