"""Activation and password-reset mails through a real SMTP server (aiosmtpd on a free port), with
the settings a deployment sets (EMAIL_HOST, EMAIL_PORT)."""

import re

import pytest

from tbproject.testing.api import assert_error
from tbproject.testing.smtp import local_smtp


@pytest.fixture
def inbox(settings):
    with local_smtp(settings) as handler:
        settings.PUBLIC_BASE_URL = "https://iot.example.com"  # real mail: links never from the Host header
        yield handler


def test_the_activation_mail_reaches_an_smtp_server_and_its_link_activates(api, anon, customer, inbox):
    res = api.post("/api/user?sendActivationMail=true", {
        "email": "frank@example.com", "authority": "CUSTOMER_USER", "customerId": {"id": str(customer.pk)}},
        format="json")
    assert res.status_code == 200, res.content
    [(to, text)] = inbox.messages
    assert to == ["frank@example.com"] and "From: iot@example.com" in text
    token = re.search(r"https://iot\.example\.com/api/noauth/activate\?activateToken=([A-Za-z0-9]+)", text).group(1)
    assert anon.post("/api/noauth/activate", {"activateToken": token, "password": "frank-pass-1"},
                     format="json").status_code == 200


def test_a_refused_recipient_keeps_no_user(api, customer, inbox):
    inbox.refuse = True
    res = api.post("/api/user?sendActivationMail=true", {
        "email": "ghost@example.com", "authority": "CUSTOMER_USER", "customerId": {"id": str(customer.pk)}},
        format="json")
    assert_error(res, 500, "Unable to send mail")
    assert inbox.messages == []
    assert api.get("/api/user/users", {"pageSize": 10, "page": 0, "textSearch": "ghost"}).json()["data"] == []


def test_mailed_links_never_come_from_a_forged_host_header(anon, tenant_admin, inbox, settings):
    """With real mail and ALLOWED_HOSTS "*", a reset link must not point at the host a caller names."""
    anon.post("/api/noauth/resetPasswordByEmail", {"email": tenant_admin.email}, format="json",
              HTTP_HOST="evil.example")
    [(_, text)] = inbox.messages
    assert "https://iot.example.com/api/noauth/resetPassword?resetToken=" in text and "evil.example" not in text
    settings.PUBLIC_BASE_URL = ""
    assert_error(anon.post("/api/noauth/resetPasswordByEmail", {"email": tenant_admin.email}, format="json",
                           HTTP_HOST="evil.example"), 400, "PUBLIC_BASE_URL")
    assert len(inbox.messages) == 1


def test_a_failed_reset_mail_answers_as_an_unknown_address(anon, tenant_admin, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2  # nothing listens on 9
    settings.PUBLIC_BASE_URL = "https://iot.example.com"
    known = anon.post("/api/noauth/resetPasswordByEmail", {"email": tenant_admin.email}, format="json")
    unknown = anon.post("/api/noauth/resetPasswordByEmail", {"email": "nobody@example.com"}, format="json")
    assert known.status_code == unknown.status_code == 200 and known.content == unknown.content
    from tenants.models import CredentialsToken

    assert not CredentialsToken.objects.exists()
