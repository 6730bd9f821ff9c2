"""Secrets in the admin: added with a write-only value or a file, never shown, the tenant's own only."""

from django.core.files.uploadedfile import SimpleUploadedFile

from vault import services
from vault.crypto import decrypt
from vault.models import Secret

VALUE = "admin-value-never-shown"


def test_a_tenant_admin_adds_a_secret_whose_value_no_page_shows(client, tenant_admin, tenant):
    client.force_login(tenant_admin)
    res = client.post("/admin/vault/secret/add/", {"name": "mqttPass", "type": "TEXT", "description": "broker",
                                                     "value": VALUE})
    assert res.status_code == 302, res.content.decode()[:2000]
    secret = Secret.objects.get(tenant=tenant, name="mqttPass")
    assert decrypt(secret.encrypted_value, secret.pk) == VALUE
    for url in ("/admin/vault/secret/", f"/admin/vault/secret/{secret.pk}/change/", "/admin/vault/secret/add/"):
        page = client.get(url)
        assert page.status_code == 200 and VALUE not in page.content.decode()
    assert "******" in client.get("/admin/vault/secret/").content.decode()


def test_an_empty_value_keeps_the_stored_one_and_a_new_one_replaces_it(client, tenant_admin, tenant):
    secret = services.save(tenant.pk, {"name": "k", "type": "TEXT", "value": VALUE})
    client.force_login(tenant_admin)
    url = f"/admin/vault/secret/{secret.pk}/change/"
    assert client.post(url, {"description": "kept", "value": ""}).status_code == 302
    assert decrypt(Secret.objects.get(pk=secret.pk).encrypted_value, secret.pk) == VALUE
    assert client.post(url, {"description": "kept", "value": "next"}).status_code == 302
    fresh = Secret.objects.get(pk=secret.pk)
    assert decrypt(fresh.encrypted_value, secret.pk) == "next" and (fresh.name, fresh.description) == ("k", "kept")


def test_a_file_secret_is_uploaded(client, tenant_admin, tenant):
    client.force_login(tenant_admin)
    pem = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    res = client.post("/admin/vault/secret/add/", {"name": "caCert", "type": "TEXT_FILE",
                                                     "value_file": SimpleUploadedFile("ca.pem", pem)})
    assert res.status_code == 302
    secret = Secret.objects.get(tenant=tenant, name="caCert")
    assert decrypt(secret.encrypted_value, secret.pk) == pem.decode() and secret.file_name == "ca.pem"
    assert "MIIB" not in client.get(f"/admin/vault/secret/{secret.pk}/change/").content.decode()


def test_bad_input_is_a_form_error(client, tenant_admin, tenant):
    client.force_login(tenant_admin)
    for data in ({"name": "x", "type": "TEXT", "value": ""}, {"name": "a{b", "type": "TEXT", "value": "v"},
                 {"name": "bin", "type": "TEXT_FILE", "value_file": SimpleUploadedFile("k.der", b"\xff\xfe\x00")}):
        assert client.post("/admin/vault/secret/add/", data).status_code == 200
    assert not Secret.objects.exists()


def test_another_tenants_secret_is_not_reached(client, mallory, tenant):
    secret = services.save(tenant.pk, {"name": "k", "type": "TEXT", "value": VALUE})
    client.force_login(mallory)
    assert "k" not in [s.name for s in client.get("/admin/vault/secret/").context["cl"].result_list]
    res = client.get(f"/admin/vault/secret/{secret.pk}/change/")
    assert res.status_code in (302, 404)
    assert client.post(f"/admin/vault/secret/{secret.pk}/change/", {"value": "stolen"}).status_code in (302, 403, 404)
    assert decrypt(Secret.objects.get(pk=secret.pk).encrypted_value, secret.pk) == VALUE
