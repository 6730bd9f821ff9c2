"""The stored mail settings at work: ``POST /api/admin/settings/testMail`` delivers a real mail to a local
SMTP server (aiosmtpd) with the posted settings, a server that refuses answers a 400 with its own words,
and the users' mails (activation) go through the stored server rather than the EMAIL_* settings."""

import socket

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from tbproject.testing.api import assert_error
from tbproject.testing.fixtures import api_as
from tenants.system import store

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


class _Inbox:
    def __init__(self):
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, envelope.rcpt_tos, envelope.content.decode("utf-8", "replace")))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == b"iot" and auth_data.password == b"right-pass"
    return AuthResult(success=ok, handled=False)


@pytest.fixture(autouse=True)
def _fresh_settings_cache():
    store.forget()
    yield
    store.forget()


@pytest.fixture
def smtp():
    """A local SMTP server asking for a login (iot / right-pass) over plain text, as a test server may."""
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port(), authenticator=_authenticator,
                            auth_required=True, auth_require_tls=False)
    controller.start()
    inbox.port = controller.port
    yield inbox
    controller.stop()


def _mail(port: int, **extra) -> dict:
    return {"mailFrom": "iot@example.com", "smtpProtocol": "smtp", "smtpHost": "127.0.0.1", "smtpPort": str(port),
            "timeout": "5000", "enableTls": False, "username": "iot", "password": "right-pass", **extra}


@pytest.fixture
def root(sysadmin):
    return api_as(sysadmin)


def test_the_test_mail_reaches_the_smtp_server_with_the_posted_settings(root, sysadmin, smtp):
    res = root.post("/api/admin/settings/testMail", {"key": "mail", "jsonValue": _mail(smtp.port)}, format="json")
    assert res.status_code == 200, res.content
    [(sender, to, text)] = smtp.messages
    assert sender == "iot@example.com" and to == [sysadmin.email] and "Test message from ThingsBoard" in text


def test_the_test_mail_uses_the_stored_password_when_the_form_leaves_it_out(root, smtp):
    root.post("/api/admin/settings", {"key": "mail", "jsonValue": _mail(smtp.port)}, format="json")
    shown = root.get("/api/admin/settings/mail").json()["jsonValue"]
    assert "password" not in shown
    assert root.post("/api/admin/settings/testMail", {"key": "mail", "jsonValue": shown},
                     format="json").status_code == 200
    assert len(smtp.messages) == 1


def test_wrong_credentials_answer_the_servers_words(root, smtp):
    res = root.post("/api/admin/settings/testMail", {"key": "mail", "jsonValue": _mail(smtp.port, password="wrong")},
                    format="json")
    body = assert_error(res, 400, "Unable to send mail: 535")
    assert "Authentication" in body["message"] and not smtp.messages


def test_an_unreachable_server_is_a_clear_400(root):
    res = root.post("/api/admin/settings/testMail", {"key": "mail", "jsonValue": _mail(_free_port())}, format="json")
    assert_error(res, 400, "Unable to send mail: ConnectionRefusedError")


def test_bad_test_mail_settings_are_refused_before_connecting(root):
    assert_error(root.post("/api/admin/settings/testMail", {"key": "mail", "jsonValue": _mail(0)}, format="json"),
                 400, "smtpPort")
    assert_error(root.post("/api/admin/settings/testMail", {"jsonValue": "x"}, format="json"), 400)
    assert_error(root.post("/api/admin/settings/testMail", {"key": "mail", "jsonValue": _mail(25, smtpHost="a\x00")},
                           format="json"), 400, "NUL")


def test_users_mails_go_through_the_stored_mail_server(root, api, customer, smtp, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # the environment's: not used
    settings.PUBLIC_BASE_URL = "https://iot.example.com"
    assert root.post("/api/admin/settings", {"key": "mail", "jsonValue": _mail(smtp.port)},
                     format="json").status_code == 200
    body = {"email": "dave@example.com", "authority": "CUSTOMER_USER", "customerId": {"id": str(customer.pk)}}
    assert api.post("/api/user?sendActivationMail=true", body, format="json").status_code == 200
    [(sender, to, text)] = smtp.messages
    assert to == ["dave@example.com"] and "https://iot.example.com/api/noauth/activate?activateToken=" in text


def test_the_stored_password_never_goes_to_another_server_or_login(root, smtp):
    logins = []

    def recorder(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=True, handled=False)

    smtp_server = Controller(_Inbox(), hostname="127.0.0.1", port=_free_port(), authenticator=recorder,
                             auth_required=False, auth_require_tls=False)
    smtp_server.start()
    try:
        stored = _mail(smtp.port, smtpHost="smtp.corp.example", username="iot", password="right-pass")
        assert root.post("/api/admin/settings", {"key": "mail", "jsonValue": stored}, format="json").status_code == 200
        posted = {k: v for k, v in _mail(smtp_server.port).items() if k != "password"}  # another host, no password
        res = root.post("/api/admin/settings/testMail", {"key": "mail", "jsonValue": posted}, format="json")
    finally:
        smtp_server.stop()
    assert res.status_code == 200, res.content
    assert not any(password == b"right-pass" for _, password in logins)
