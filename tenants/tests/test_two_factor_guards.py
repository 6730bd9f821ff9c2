"""Two-factor authentication cannot be sidestepped: the admin's sign-in page refuses a user with a second factor
due, logging in again does not forget wrong codes, backup codes are no factor of their own, and checks are rate
limited also when the settings name no limit."""

import pytest
from django.test import Client

from tbproject.testing.api import assert_error
from tbproject.testing.fixtures import PASSWORD
from tenants.admin_pages.login import TWO_FACTOR
from tenants.models import TwoFaSettings, User
from tenants.system import store
from tenants.tests.two_factor_helpers import bearer, enable, login, set_up_totp

CHECK = "/api/auth/2fa/verification/check?providerType=TOTP&verificationCode={code}"


@pytest.fixture(autouse=True)
def _fresh_settings():
    store.forget()
    yield
    store.forget()


def _admin_login(email: str) -> tuple[Client, object]:
    client = Client()
    res = client.post("/admin/login/?next=/admin/", {"username": email, "password": PASSWORD})
    return client, res


def test_the_admin_sign_in_refuses_a_user_with_a_second_factor(sysadmin, tenant_admin, api):
    enable(sysadmin)
    set_up_totp(api)
    client, res = _admin_login(tenant_admin.email)
    assert res.status_code == 200 and TWO_FACTOR in res.content.decode()
    assert_error(client.get("/api/auth/user"), 401)
    assert client.get("/admin/").status_code == 302  # back to the sign-in page


def test_the_admin_sign_in_refuses_a_user_who_must_configure_2fa(sysadmin, tenant_admin):
    enable(sysadmin, enforceTwoFa=True)
    client, res = _admin_login(tenant_admin.email)
    assert TWO_FACTOR in res.content.decode()
    assert_error(client.get("/api/auth/user"), 401)


def test_the_admin_sign_in_still_works_without_2fa(sysadmin, tenant_admin):
    enable(sysadmin)
    client, res = _admin_login(tenant_admin.email)
    assert res.status_code == 302, res.content[:300]
    assert client.get("/api/auth/user").status_code == 200


def test_logging_in_again_does_not_forget_wrong_codes(sysadmin, tenant_admin, api):
    enable(sysadmin, maxVerificationFailuresBeforeUserLockout=3, verificationCodeCheckRateLimit="100:60")
    set_up_totp(api)
    pre = bearer(login(tenant_admin.email).json()["token"])
    for _ in range(3):  # the limit: 3 wrong codes pass, the 4th locks
        assert_error(pre.post(CHECK.format(code="000001")), 400, "incorrect")
    pre = bearer(login(tenant_admin.email).json()["token"])  # a right password does not start the count again
    assert_error(pre.post(CHECK.format(code="000001")), 401, "locked")
    user = User.objects.get(pk=tenant_admin.pk)
    assert not user.is_active
    assert TwoFaSettings.objects.get(user=user).state["failures"] == 0  # an enabled user starts again
    assert_error(login(tenant_admin.email), 401, "not active")


def test_a_right_code_starts_the_count_again(sysadmin, tenant_admin, api):
    import pyotp

    enable(sysadmin, maxVerificationFailuresBeforeUserLockout=2, verificationCodeCheckRateLimit="100:60")
    totp = pyotp.TOTP(set_up_totp(api))
    for _ in range(2):
        pre = bearer(login(tenant_admin.email).json()["token"])
        assert_error(pre.post(CHECK.format(code="000001")), 400)
        assert_error(pre.post(CHECK.format(code="000002")), 400)
        assert pre.post(CHECK.format(code=totp.now())).status_code == 200
    assert User.objects.get(pk=tenant_admin.pk).is_active


def test_backup_codes_need_another_provider_first(sysadmin, tenant_admin, api):
    enable(sysadmin)
    codes = api.post("/api/2fa/account/config/generate?providerType=BACKUP_CODE").json()
    assert_error(api.post("/api/2fa/account/config", codes, format="json"), 400, "at least one provider")
    assert api.get("/api/2fa/account/settings").json() == {"configs": {}}
    assert login(tenant_admin.email).json()["scope"] is None


def test_a_configuration_token_cannot_set_up_backup_codes_alone(sysadmin, tenant_admin):
    enable(sysadmin, enforceTwoFa=True)
    res = login(tenant_admin.email).json()
    assert res["scope"] == "MFA_CONFIGURATION_TOKEN"
    mfa = bearer(res["token"])
    body = {"providerType": "BACKUP_CODE", "useByDefault": True, "codes": ["aaaaaaaa"]}
    assert_error(mfa.post("/api/2fa/account/config?verificationCode=", body, format="json"), 400,
                 "at least one provider")
    assert_error(mfa.post("/api/auth/2fa/login"), 400, "not configured")


def test_deleting_the_last_provider_drops_the_backup_codes(sysadmin, tenant_admin, api):
    enable(sysadmin)
    set_up_totp(api)
    codes = api.post("/api/2fa/account/config/generate?providerType=BACKUP_CODE").json()
    assert api.post("/api/2fa/account/config", codes, format="json").status_code == 200
    assert api.delete("/api/2fa/account/config?providerType=TOTP").json() == {"configs": {}}
    assert TwoFaSettings.objects.get(user=tenant_admin).configs == {}
    assert login(tenant_admin.email).json()["scope"] is None


def test_backup_codes_left_alone_by_the_platform_are_no_factor(sysadmin, tenant_admin, api):
    enable(sysadmin)
    set_up_totp(api)
    codes = api.post("/api/2fa/account/config/generate?providerType=BACKUP_CODE").json()
    api.post("/api/2fa/account/config", codes, format="json")
    enable(sysadmin, providers=[{"providerType": "BACKUP_CODE"}])  # TOTP switched off on the platform
    assert api.get("/api/2fa/account/settings").json() == {"configs": {}}
    assert login(tenant_admin.email).json()["scope"] is None


def test_checks_are_rate_limited_by_default(sysadmin, tenant_admin, api):
    saved = enable(sysadmin, verificationCodeCheckRateLimit=None)
    assert saved["verificationCodeCheckRateLimit"] == "3:900"
    set_up_totp(api)
    TwoFaSettings.objects.filter(user=tenant_admin).update(state={})
    pre = bearer(login(tenant_admin.email).json()["token"])
    for _ in range(3):
        assert_error(pre.post(CHECK.format(code="000001")), 400)
    assert_error(pre.post(CHECK.format(code="000001")), 429, "Too many verification requests")


def test_a_stored_document_without_a_limit_gets_the_default(sysadmin, tenant_admin, api):
    enable(sysadmin)
    set_up_totp(api)
    doc = store.read("twoFaSettings")
    store.write("twoFaSettings", {**doc, "verificationCodeCheckRateLimit": None})  # saved before the default
    pre = bearer(login(tenant_admin.email).json()["token"])
    for _ in range(3):
        assert_error(pre.post(CHECK.format(code="000001")), 400)
    assert_error(pre.post(CHECK.format(code="000001")), 429)
