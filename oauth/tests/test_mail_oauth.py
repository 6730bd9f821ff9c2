"""The mail server's OAuth 2.0 consent against the mocked cloud identity provider (oauth/tests/fake_idp.py)."""

from urllib.parse import parse_qs, urlsplit

import pytest

from tbproject.testing.api import assert_error
from tbproject.testing.fixtures import api_as
from tenants.system import store


@pytest.fixture
def root(sysadmin, idp):
    c = api_as(sysadmin)
    settings = {"key": "mail", "jsonValue": {
        "mailFrom": "iot@example.com", "smtpHost": "smtp.example.com", "smtpPort": "587", "username": "iot",
        "enableOauth2": True, "providerId": "OFFICE_365", "clientId": idp.client_id,
        "clientSecret": idp.client_secret, "authUri": f"{idp.url}/authorize", "tokenUri": f"{idp.url}/token",
        "scope": ["https://outlook.office.com/SMTP.Send", "offline_access"],
        "redirectUri": "http://testserver/api/admin/mail/oauth2/code"}}
    assert c.post("/api/admin/settings", settings, format="json").status_code == 200
    return c


def _consent(root, idp, prev=None):
    url = root.get("/api/admin/mail/oauth2/authorize", {"prevUri": prev} if prev else {}).json()
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(f"{idp.url}/authorize?") and query["client_id"] == [idp.client_id]
    assert query["redirect_uri"] == ["http://testserver/api/admin/mail/oauth2/code"]
    assert query["scope"] == ["https://outlook.office.com/SMTP.Send offline_access"]
    return query["state"][0], idp.issue_code(query["redirect_uri"][0], None)


def test_the_client_secret_is_write_only(root):
    shown = root.get("/api/admin/settings/mail").json()["jsonValue"]
    assert "clientSecret" not in shown and shown["clientId"] == "tb-client"


def test_the_consent_stores_a_refresh_token(root, idp):
    state, code = _consent(root, idp, "/settings/outgoing-mail?x=1")
    answer = root.get("/api/admin/mail/oauth2/code", {"code": code, "state": state})
    assert answer.status_code == 302 and answer["Location"] == "http://testserver/settings/outgoing-mail?x=1"
    stored = store.read("mail")
    assert stored["refreshToken"].startswith("refresh-") and stored["tokenGenerated"] is True
    shown = root.get("/api/admin/settings/mail").json()["jsonValue"]
    assert shown["tokenGenerated"] is True and "refreshToken" not in shown


def test_a_wrong_state_or_secret_generates_nothing(root, idp):
    _, code = _consent(root, idp)
    assert_error(root.get("/api/admin/mail/oauth2/code", {"code": code, "state": "forged"}), 400, "invalid state")
    idp.client_secret = "rotated"
    state, code = _consent(root, idp)
    assert_error(root.get("/api/admin/mail/oauth2/code", {"code": code, "state": state}), 400, "invalid_client")
    assert "refreshToken" not in store.read("mail")


def test_processing_url_and_permissions(root, tenant_admin):
    assert root.get("/api/admin/mail/oauth2/loginProcessingUrl").content == b'"/api/admin/mail/oauth2/code"'
    for path in ("/api/admin/mail/oauth2/authorize", "/api/admin/mail/oauth2/loginProcessingUrl"):
        assert_error(api_as(tenant_admin).get(path), 403)


def test_an_unconfigured_mail_server_is_a_400(sysadmin):
    assert_error(api_as(sysadmin).get("/api/admin/mail/oauth2/authorize"), 400, "No clientId was configured")

