"""The admin's package pages: download from the list action and the change page, import in two
steps (file, then the secrets it lists), errors shown on the form, another tenant's integration
never downloaded."""

import json

from django.core.files.uploadedfile import SimpleUploadedFile

from integrations.models import Integration
from transfer.tests.test_packages_api import PASSWORD, REST_PASSWORD, stored  # noqa: F401  (fixture)

LIST = "/admin/integrations/integration/"


def _file(package) -> SimpleUploadedFile:
    return SimpleUploadedFile("p.json", json.dumps(package).encode(), content_type="application/json")


def test_download_from_the_list_and_the_change_page(client, tenant_admin, stored):  # noqa: F811
    client.force_login(tenant_admin)
    res = client.post(LIST, {"action": "download_package", "_selected_action": [str(stored.pk)]})
    assert res.status_code == 200 and res["Content-Disposition"].startswith("attachment")
    package = json.loads(res.content)
    assert package["integration"]["name"] == "MQTT meters" and "broker-pass" not in res.content.decode()
    change = client.get(f"{LIST}{stored.pk}/change/").content.decode()
    assert 'data-role="download-package"' in change
    again = json.loads(client.get(f"{LIST}{stored.pk}/package/").content)
    assert {**again, "exportedTime": 0} == {**package, "exportedTime": 0}
    assert 'data-role="import-package-link"' in client.get(LIST).content.decode()


def test_import_asks_for_the_secrets_then_creates(client, tenant_admin, mallory, stored):  # noqa: F811
    client.force_login(tenant_admin)
    package = json.loads(client.get(f"{LIST}{stored.pk}/package/").content)
    client.force_login(mallory)
    url = f"{LIST}import-package/"
    step1 = client.post(url, {"package": _file(package)}).content.decode()
    assert f'data-secret-path="{PASSWORD}"' in step1 and f'data-secret-path="{REST_PASSWORD}"' in step1
    assert "errorlist" not in step1 and 'data-role="import-error"' not in step1
    carried = json.dumps(package)
    missing = client.post(url, {"package_text": carried, "secret_0": "p"}).content.decode()
    assert "required" in missing.lower() and not Integration.objects.filter(tenant=mallory.tenant).exists()
    order = package["requiredSecrets"]
    values = {PASSWORD: "mallory-broker", REST_PASSWORD: "mallory-rest"}
    res = client.post(url, {"package_text": carried, **{f"secret_{i}": values[p] for i, p in enumerate(order)}})
    new = Integration.objects.get(tenant=mallory.tenant)
    assert res.status_code == 302 and res["Location"].endswith(f"{new.pk}/change/")
    assert new.configuration["clientConfiguration"]["credentials"]["password"] == "mallory-broker"


def test_bad_files_and_foreign_integrations(client, mallory, stored):  # noqa: F811
    client.force_login(mallory)
    url = f"{LIST}import-package/"
    bad = client.post(url, {"package": SimpleUploadedFile("p.json", b"{nope")}).content.decode()
    assert "The file is not JSON" in bad
    old = client.post(url, {"package": _file({"packageVersion": 7})}).content.decode()
    assert "Unsupported packageVersion" in old
    res = client.get(f"{LIST}{stored.pk}/package/")
    assert res.status_code == 302 and "MQTT meters" not in res.content.decode()
    res = client.post(LIST, {"action": "download_package", "_selected_action": [str(stored.pk)]})
    assert "attachment" not in res.get("Content-Disposition", "")
