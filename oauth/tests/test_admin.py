"""The OAuth 2.0 admin pages: the system administrator's; secrets never shown, the mask posted back keeps them."""

import pytest
from django.test import Client

from oauth import mobile


@pytest.fixture
def admin_client(sysadmin):
    client = Client()
    client.force_login(sysadmin)
    return client


def test_pages_render_without_secrets(admin_client, make_client):
    oauth_client = make_client(type="CUSTOM", basic=None, custom={"url": "http://m.example/x", "password": "mpass"})
    app = mobile.save_app({"pkgName": "org.example.app", "platformType": "IOS", "status": "DRAFT",
                           "appSecret": "app-secret-0123456789"})
    for url in ("/admin/oauth/oauth2client/", f"/admin/oauth/oauth2client/{oauth_client.pk}/change/",
                "/admin/oauth/mobileapp/", f"/admin/oauth/mobileapp/{app.pk}/change/", "/admin/oauth/domain/",
                "/admin/oauth/mobileappbundle/", "/admin/oauth/oauth2clienttemplate/", "/admin/oauth/qrcodesettings/",
                "/admin/oauth/oauth2client/add/"):
        page = admin_client.get(url)
        assert page.status_code == 200, url
        text = page.content.decode()
        assert "tb-secret-value" not in text and "app-secret-0123456789" not in text and "mpass" not in text


def test_posting_the_mask_keeps_the_app_secret(admin_client):
    app = mobile.save_app({"pkgName": "org.example.app", "platformType": "IOS", "status": "DRAFT",
                           "appSecret": "app-secret-0123456789"})
    answer = admin_client.post(f"/admin/oauth/mobileapp/{app.pk}/change/", {
        "pkg_name": "org.example.app", "title": "Renamed", "app_secret": "******", "platform_type": "IOS",
        "status": "PUBLISHED", "version_info": "null", "store_info": "null"})
    assert answer.status_code == 302, answer.content[:2000]
    app.refresh_from_db()
    assert (app.title, app.app_secret, app.status) == ("Renamed", "app-secret-0123456789", "PUBLISHED")


def test_a_tenant_administrator_has_no_oauth_pages(tenant_admin):
    client = Client()
    client.force_login(tenant_admin)
    assert client.get("/admin/oauth/oauth2client/").status_code == 403
