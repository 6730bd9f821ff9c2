"""Two-factor authentication's email codes (through the project's mail, Django's outbox here), the send period,
the rate limit on checks, the lockout after too many wrong codes, and bad input answering 400."""

import re

import pytest

from tbproject.testing.api import assert_error
from tbproject.testing.fixtures import api_as
from tenants.models import TwoFaSettings, User
from tenants.system import store
from tenants.tests.two_factor_helpers import SETTINGS, bearer, enable, login, set_up_totp

CHECK = "/api/auth/2fa/verification/check?providerType={kind}&verificationCode={code}"


@pytest.fixture(autouse=True)
def _fresh_settings():
    store.forget()
    yield
    store.forget()


def _code(message) -> str:
    return re.search(r"\b(\d{6})\b", message.body).group(1)


def _set_up_email(api, mailoutbox, address="second@example.com") -> None:
    config = api.post("/api/2fa/account/config/generate?providerType=EMAIL").json()
    assert config == {"providerType": "EMAIL", "useByDefault": False, "email": "alice@example.com"}
    config["email"] = address
    assert api.post("/api/2fa/account/config/submit", config, format="json").status_code == 200
    assert mailoutbox[-1].to == [address]
    code = _code(mailoutbox[-1])
    assert_error(api.post("/api/2fa/account/config?verificationCode=000000" if code != "000000" else
                          "/api/2fa/account/config?verificationCode=111111", config, format="json"), 400)
    res = api.post(f"/api/2fa/account/config?verificationCode={code}", config, format="json")
    assert res.status_code == 200 and res.json()["configs"]["EMAIL"]["email"] == address


def test_email_codes_through_the_mail(sysadmin, tenant_admin, api, mailoutbox, monkeypatch):
    enable(sysadmin, minVerificationCodeSendPeriod=5)
    _set_up_email(api, mailoutbox)
    pre = bearer(login(tenant_admin.email).json()["token"])
    assert pre.get("/api/auth/2fa/providers").json()[0]["contact"] == "se**nd@example.com"
    # the set-up mail went out just now: the send period holds the next one back
    assert_error(pre.post("/api/auth/2fa/verification/send?providerType=EMAIL"), 429, "Too many")
    TwoFaSettings.objects.filter(user=tenant_admin).update(state={})
    assert pre.post("/api/auth/2fa/verification/send?providerType=EMAIL").status_code == 200
    code = _code(mailoutbox[-1])
    assert code not in str(TwoFaSettings.objects.get(user=tenant_admin).state)
    res = pre.post(CHECK.format(kind="EMAIL", code=code))
    assert res.status_code == 200 and res.json()["refreshToken"]
    pre = bearer(login(tenant_admin.email).json()["token"])
    assert_error(pre.post(CHECK.format(kind="EMAIL", code=code)), 400, "incorrect")  # used up


def test_an_email_code_expires(sysadmin, tenant_admin, api, mailoutbox):
    enable(sysadmin, minVerificationCodeSendPeriod=5,
           providers=[{"providerType": "EMAIL", "verificationCodeLifetime": 1}])
    _set_up_email(api, mailoutbox)
    TwoFaSettings.objects.filter(user=tenant_admin).update(state={})
    pre = bearer(login(tenant_admin.email).json()["token"])
    pre.post("/api/auth/2fa/verification/send?providerType=EMAIL")
    row = TwoFaSettings.objects.get(user=tenant_admin)
    row.state["login"]["expires"] -= 2000
    row.save()
    assert_error(pre.post(CHECK.format(kind="EMAIL", code=_code(mailoutbox[-1]))), 400, "incorrect")


def test_checks_are_rate_limited(sysadmin, tenant_admin, api):
    enable(sysadmin, verificationCodeCheckRateLimit="3:900")
    set_up_totp(api)
    pre = bearer(login(tenant_admin.email).json()["token"])
    for _ in range(3):
        assert_error(pre.post(CHECK.format(kind="TOTP", code="000000")), 400)
    res = pre.post(CHECK.format(kind="TOTP", code="000000"))
    body = assert_error(res, 429, "Too many verification requests")
    assert body["errorCode"] == 33 and 0 < int(res["Retry-After"]) <= 900


def test_too_many_wrong_codes_lock_the_user(sysadmin, tenant_admin, api):
    enable(sysadmin, maxVerificationFailuresBeforeUserLockout=2)
    set_up_totp(api)
    pre = bearer(login(tenant_admin.email).json()["token"])
    assert_error(pre.post(CHECK.format(kind="TOTP", code="000000")), 400)
    assert_error(pre.post(CHECK.format(kind="TOTP", code="000001")), 400)
    assert_error(pre.post(CHECK.format(kind="TOTP", code="000002")), 401, "locked")
    assert not User.objects.get(pk=tenant_admin.pk).is_active
    assert_error(pre.post(CHECK.format(kind="TOTP", code="000003")), 401)  # the token is outdated too
    assert_error(login(tenant_admin.email), 401, "not active")


@pytest.mark.parametrize("body, message", [
    ({**SETTINGS, "providers": [{"providerType": "SMS", "smsVerificationMessageTemplate": "${code}"}]}, "SMS"),
    ({**SETTINGS, "providers": [{"providerType": "TOTP", "issuerName": ""}]}, "issuerName"),
    ({**SETTINGS, "providers": [{"providerType": "TOTP", "issuerName": "a\x00b"}]}, "NUL"),
    ({**SETTINGS, "providers": [{"providerType": "NOPE"}]}, "providerType"),
    ({**SETTINGS, "providers": [{"providerType": "EMAIL"}, {"providerType": "EMAIL"}]}, "once"),
    ({**SETTINGS, "providers": "TOTP"}, "providers"),
    ({**SETTINGS, "minVerificationCodeSendPeriod": 1}, "minVerificationCodeSendPeriod"),
    ({**SETTINGS, "totalAllowedTimeForVerification": 10**30}, "range"),
    ({**SETTINGS, "totalAllowedTimeForVerification": "soon"}, "totalAllowedTimeForVerification"),
    ({**SETTINGS, "verificationCodeCheckRateLimit": "three per minute"}, "verificationCodeCheckRateLimit"),
    ({**SETTINGS, "enforceTwoFa": "yes"}, "enforceTwoFa"),
    ({**SETTINGS, "enforcedUsersFilter": {"type": "EVERYONE"}}, "enforcedUsersFilter"),
    ([1, 2], "JSON object"),
])
def test_bad_platform_settings_answer_400(sysadmin, body, message):
    assert_error(api_as(sysadmin).post("/api/2fa/settings", body, format="json"), 400, message)
    assert_error(api_as(sysadmin).post("/api/2fa/settings", "{oops", content_type="application/json"), 400)


@pytest.mark.parametrize("call", [
    lambda c: c.post("/api/2fa/account/config/generate?providerType=NOPE"),
    lambda c: c.post("/api/2fa/account/config/generate"),
    lambda c: c.post("/api/2fa/account/config/generate?providerType=SMS"),
    lambda c: c.post("/api/2fa/account/config?verificationCode=1", [1], format="json"),
    lambda c: c.post("/api/2fa/account/config?verificationCode=1",
                     {"providerType": "TOTP", "authUrl": "http://evil"}, format="json"),
    lambda c: c.post("/api/2fa/account/config?verificationCode=1",
                     {"providerType": "TOTP", "authUrl": "otpauth://totp/a:b?issuer=a&secret=SECRET_HIDDEN"},
                     format="json"),
    lambda c: c.post("/api/2fa/account/config", {"providerType": "BACKUP_CODE", "codes": ["1"]}, format="json"),
    lambda c: c.post("/api/2fa/account/config", {"providerType": "BACKUP_CODE", "codes": "abcdefgh"}, format="json"),
    lambda c: c.post("/api/2fa/account/config/submit", {"providerType": "EMAIL", "email": "not an address"},
                     format="json"),
    lambda c: c.post("/api/2fa/account/config/submit", {"providerType": "EMAIL", "email": "a\x00@b.c"},
                     format="json"),
    lambda c: c.post("/api/2fa/account/config/submit", "{oops", content_type="application/json"),
    lambda c: c.put("/api/2fa/account/config?providerType=TOTP", {"useByDefault": "yes"}, format="json"),
    lambda c: c.delete("/api/2fa/account/config?providerType=x" + "y" * 5000),
    lambda c: c.post("/api/2fa/account/config?verificationCode=" + "9" * 100,
                     {"providerType": "TOTP", "useByDefault": 5,
                      "authUrl": "otpauth://totp/a:b?issuer=a&secret=JBSWY3DPEHPK3PXP"}, format="json"),
])
def test_bad_account_input_answers_400(sysadmin, api, call):
    enable(sysadmin)
    assert_error(call(api), 400)


def test_bad_verification_input_answers_400(sysadmin, tenant_admin, api):
    enable(sysadmin)
    set_up_totp(api)
    pre = bearer(login(tenant_admin.email).json()["token"])
    assert_error(pre.post("/api/auth/2fa/verification/check?providerType=TOTP"), 400, "required")
    assert_error(pre.post("/api/auth/2fa/verification/check?providerType=NOPE&verificationCode=1"), 400)
    assert_error(pre.post(CHECK.format(kind="EMAIL", code="1")), 400, "not configured")
    assert_error(pre.post(CHECK.format(kind="TOTP", code="1%00" + "9" * 500)), 400, "incorrect")
    assert_error(pre.post("/api/auth/2fa/verification/send?providerType=BACKUP_CODE"), 400)
