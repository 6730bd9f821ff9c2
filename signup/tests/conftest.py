"""Fixtures of the sign-up tests: the mocked reCAPTCHA cloud, a real SMTP server (aiosmtpd), a tenant's
self-registration at iot.alice.example."""

import re

import pytest

from signup.tests.recaptcha_fake import FakeRecaptcha
from tbproject.testing.smtp import Inbox, local_smtp

DOMAIN = "iot.alice.example"
SECRET = "alice-captcha-secret"
TOKEN = "token-from-the-browser"
PASSWORD = "Signup-pass-1"


class _Inbox(Inbox):
    def code(self, address: str) -> str:
        text = self.to(address)[-1]
        return re.search(r"/api/noauth/activateEmail\?emailCode=([A-Za-z0-9]+)", text).group(1)


@pytest.fixture
def inbox(settings):
    with local_smtp(settings, _Inbox()) as handler:
        yield handler


@pytest.fixture
def recaptcha(settings):
    with FakeRecaptcha() as fake:
        settings.RECAPTCHA_VERIFY_URL = fake.url
        fake.accept(SECRET, TOKEN)
        yield fake


def params_body(**extra) -> dict:
    return {"type": "WEB", "enabled": True, "domainName": DOMAIN, "title": "Sign up to Alice IoT",
            "captcha": {"version": "v2", "siteKey": "alice-site-key", "secretKey": SECRET},
            "customerTitlePrefix": "Self: ", **extra}


@pytest.fixture
def registration(api):
    res = api.post("/api/selfRegistration/selfRegistrationParams", params_body(), format="json")
    assert res.status_code == 200, res.content
    return res.json()


def sign_up_body(email="dave@example.com", password=PASSWORD, token=TOKEN, **fields) -> dict:
    return {"fields": {"EMAIL": email, "PASSWORD": password, "REPEAT_PASSWORD": password, "FIRST_NAME": "Dave",
                       "LAST_NAME": "Doe", **fields}, "recaptchaResponse": token}


def sign_up(anon, body=None, host=DOMAIN, ip="127.0.0.1", **kwargs):
    return anon.post("/api/noauth/signup", body if body is not None else sign_up_body(**kwargs), format="json",
                     HTTP_HOST=host, REMOTE_ADDR=ip)
