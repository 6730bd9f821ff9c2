"""Two-factor authentication (tenants/two_factor/): the system administrator enables providers; a user sets up
TOTP and backup codes; the login then answers a PRE_VERIFICATION_TOKEN that reaches only the 2FA endpoints and
trades a right code for the token pair. Backup codes are single use, the token expires, API keys are not
affected, enforced 2FA gives a MFA_CONFIGURATION_TOKEN, and no user reaches another's configs."""

import time

import pyotp
import pytest
from tb_pe_client.models import AccountTwoFaSettings, JwtPair, PlatformTwoFaSettings, TwoFaAccountConfig

from tbproject.api import tokens
from tbproject.testing.api import assert_error
from tbproject.testing.fixtures import api_as
from tenants.models import TwoFaSettings, User
from tenants.system import store
from tenants.tests.two_factor_helpers import bearer, enable, login, secret_of, set_up_totp


@pytest.fixture(autouse=True)
def _fresh_settings():
    store.forget()
    yield
    store.forget()


def test_the_sysadmin_saves_and_reads_the_platform_settings(sysadmin, tenant_admin):
    root = api_as(sysadmin)
    assert root.get("/api/2fa/settings").content == b"null"  # nothing configured yet
    saved = PlatformTwoFaSettings.from_dict(enable(sysadmin, verificationCodeCheckRateLimit="3:900"))
    assert saved.total_allowed_time_for_verification == 600 and saved.providers[0].issuer_name == "TB 2FA"
    got = root.get("/api/2fa/settings").json()
    assert got["verificationCodeCheckRateLimit"] == "3:900" and got["enforceTwoFa"] is False
    assert api_as(tenant_admin).get("/api/2fa/providers").json() == ["TOTP", "EMAIL", "BACKUP_CODE"]
    assert_error(api_as(tenant_admin).post("/api/2fa/settings", got, format="json"), 403)
    assert_error(root.get("/api/admin/settings/twoFaSettings"), 400, "/api/2fa/settings")


def test_a_user_sets_up_totp_and_the_login_then_needs_the_code(sysadmin, tenant_admin, api):
    enable(sysadmin)
    secret = set_up_totp(api)
    settings = AccountTwoFaSettings.from_dict(api.get("/api/2fa/account/settings").json())
    totp = settings.configs["TOTP"]
    assert totp.use_by_default is True and secret not in totp.auth_url and "secret=SECRET_HIDDEN" in totp.auth_url
    assert secret not in str(TwoFaSettings.objects.get(user=tenant_admin).configs)

    res = login(tenant_admin.email)
    pair = JwtPair.from_dict(res.json())
    assert res.status_code == 200 and pair.scope == "PRE_VERIFICATION_TOKEN" and not pair.refresh_token
    pre = bearer(pair.token)
    assert_error(pre.get("/api/tenant/devices?pageSize=10&page=0"), 403)
    assert_error(pre.get("/api/auth/user"), 403)
    assert_error(pre.get("/api/2fa/account/settings"), 403)
    assert_error(pre.post("/api/auth/token", {"refreshToken": pair.token}, format="json"), 401)
    assert pre.get("/api/auth/2fa/providers").json() == [
        {"type": "TOTP", "default": True, "contact": None, "minVerificationCodeSendPeriod": 30}]
    assert pre.post("/api/auth/2fa/verification/send?providerType=TOTP").status_code == 200

    assert_error(pre.post("/api/auth/2fa/verification/check?providerType=TOTP&verificationCode=000000"), 400,
                 "Verification code is incorrect")
    res = pre.post(f"/api/auth/2fa/verification/check?providerType=TOTP&verificationCode={pyotp.TOTP(secret).now()}")
    assert res.status_code == 200, res.content
    full = res.json()
    assert full["refreshToken"]
    assert bearer(full["token"]).get("/api/tenant/devices?pageSize=10&page=0").status_code == 200
    # a normal token is not a pre-verification token
    assert_error(api.post("/api/auth/2fa/verification/check?providerType=TOTP&verificationCode=1"), 403)


def test_the_previous_and_next_totp_steps_pass_older_ones_do_not(sysadmin, tenant_admin, api):
    enable(sysadmin)
    totp = pyotp.TOTP(set_up_totp(api))
    pre = bearer(login(tenant_admin.email).json()["token"])
    stale = totp.at(time.time() - 120)
    assert_error(pre.post(f"/api/auth/2fa/verification/check?providerType=TOTP&verificationCode={stale}"), 400)
    code = totp.at(time.time() - 30)
    assert pre.post(f"/api/auth/2fa/verification/check?providerType=TOTP&verificationCode={code}").status_code == 200


def test_backup_codes_are_shown_once_and_work_once(sysadmin, tenant_admin, api):
    enable(sysadmin)
    set_up_totp(api)
    generated = api.post("/api/2fa/account/config/generate?providerType=BACKUP_CODE").json()
    codes = generated["codes"]
    assert len(codes) == 10 and TwoFaAccountConfig.from_dict(generated).codes_left == 10
    res = api.post("/api/2fa/account/config", generated, format="json")  # backup codes need no verification code
    assert res.status_code == 200, res.content
    shown = res.json()["configs"]["BACKUP_CODE"]
    assert shown["codesLeft"] == 10 and not set(codes) & set(shown["codes"])
    assert res.json()["configs"]["TOTP"]["useByDefault"] is True
    assert not set(codes) & set(TwoFaSettings.objects.get(user=tenant_admin).configs["BACKUP_CODE"]["codes"])

    pre = bearer(login(tenant_admin.email).json()["token"])
    check = f"/api/auth/2fa/verification/check?providerType=BACKUP_CODE&verificationCode={codes[0]}"
    assert pre.post(check).status_code == 200
    pre = bearer(login(tenant_admin.email).json()["token"])
    assert_error(pre.post(check), 400, "incorrect")
    assert api.get("/api/2fa/account/settings").json()["configs"]["BACKUP_CODE"]["codesLeft"] == 9
    assert AccountTwoFaSettings.from_dict(api.get("/api/2fa/account/settings").json()).configs


def test_the_pre_verification_token_expires(sysadmin, tenant_admin, api, monkeypatch):
    enable(sysadmin, totalAllowedTimeForVerification=60)
    secret = set_up_totp(api)
    real = tokens.time.time
    monkeypatch.setattr(tokens.time, "time", lambda: real() - 61)
    token = login(tenant_admin.email).json()["token"]
    monkeypatch.setattr(tokens.time, "time", real)
    code = pyotp.TOTP(secret).now()
    assert_error(bearer(token).post(f"/api/auth/2fa/verification/check?providerType=TOTP&verificationCode={code}"),
                 401, "expired")


def test_api_keys_and_users_without_a_config_are_not_affected(sysadmin, tenant_admin, customer_user, api):
    enable(sysadmin)
    value = api.post("/api/apiKey", {"description": "ci"}, format="json").json()["value"]
    set_up_totp(api)
    key = bearer("x")
    key.credentials(HTTP_X_AUTHORIZATION=f"ApiKey {value}")
    assert key.get("/api/auth/user").status_code == 200
    res = login(customer_user.email)
    assert res.json()["scope"] is None and res.json()["refreshToken"]


def test_enforced_2fa_answers_a_configuration_token(sysadmin, tenant_admin, customer_user):
    enable(sysadmin, enforceTwoFa=True, enforcedUsersFilter={"type": "TENANT_ADMINISTRATORS"})
    assert login(customer_user.email).json()["scope"] is None
    res = login(tenant_admin.email).json()
    assert res["scope"] == "MFA_CONFIGURATION_TOKEN"
    mfa = bearer(res["token"])
    assert_error(mfa.get("/api/tenant/devices?pageSize=10&page=0"), 403)
    assert_error(mfa.post("/api/auth/2fa/verification/check?providerType=TOTP&verificationCode=1"), 403)
    assert_error(mfa.post("/api/auth/2fa/login"), 400, "not configured")
    assert mfa.get("/api/2fa/providers").json() == ["TOTP", "EMAIL", "BACKUP_CODE"]
    set_up_totp(mfa)
    pair = mfa.post("/api/auth/2fa/login").json()
    assert pair["refreshToken"] and bearer(pair["token"]).get("/api/auth/user").status_code == 200
    assert login(tenant_admin.email).json()["scope"] == "PRE_VERIFICATION_TOKEN"


def test_a_user_changes_only_its_own_configs(sysadmin, tenant_admin, mallory, api, mallory_api):
    enable(sysadmin)
    set_up_totp(api)
    assert mallory_api.get("/api/2fa/account/settings").json() == {"configs": {}}
    assert mallory_api.delete("/api/2fa/account/config?providerType=TOTP").json() == {"configs": {}}
    assert_error(mallory_api.put("/api/2fa/account/config?providerType=TOTP", {"useByDefault": True},
                                 format="json"), 400, "not found")
    assert "TOTP" in api.get("/api/2fa/account/settings").json()["configs"]
    assert login(tenant_admin.email).json()["scope"] == "PRE_VERIFICATION_TOKEN"
    assert login(mallory.email).json()["scope"] is None


def test_default_provider_update_and_delete(sysadmin, tenant_admin, api):
    enable(sysadmin)
    set_up_totp(api)
    api.post("/api/2fa/account/config", api.post("/api/2fa/account/config/generate?providerType=BACKUP_CODE").json(),
             format="json")
    res = api.put("/api/2fa/account/config?providerType=BACKUP_CODE", {"useByDefault": True}, format="json").json()
    assert res["configs"]["BACKUP_CODE"]["useByDefault"] and not res["configs"]["TOTP"]["useByDefault"]
    res = api.delete("/api/2fa/account/config?providerType=BACKUP_CODE").json()
    assert list(res["configs"]) == ["TOTP"] and res["configs"]["TOTP"]["useByDefault"] is True
    res = api.delete("/api/2fa/account/config?providerType=TOTP").json()
    assert res == {"configs": {}} and login(tenant_admin.email).json()["scope"] is None


def test_disabling_a_provider_on_the_platform_turns_its_configs_off(sysadmin, tenant_admin, api):
    enable(sysadmin)
    set_up_totp(api)
    enable(sysadmin, providers=[{"providerType": "EMAIL"}])
    assert api.get("/api/2fa/account/settings").json() == {"configs": {}}
    assert login(tenant_admin.email).json()["scope"] is None
    assert_error(api.post("/api/2fa/account/config/generate?providerType=TOTP"), 400, "not configured")
    assert User.objects.get(pk=tenant_admin.pk).is_active


def test_a_wrong_verification_code_does_not_save_a_config(sysadmin, api):
    enable(sysadmin)
    config = api.post("/api/2fa/account/config/generate?providerType=TOTP").json()
    assert secret_of(config["authUrl"]) and config["authUrl"].startswith("otpauth://totp/TB%202FA:alice@example.com?")
    assert_error(api.post("/api/2fa/account/config?verificationCode=123", config, format="json"), 400, "incorrect")
    assert_error(api.post("/api/2fa/account/config", config, format="json"), 400, "required")
    assert api.get("/api/2fa/account/settings").json() == {"configs": {}}


def test_a_password_reset_link_is_no_second_factor(sysadmin, tenant_admin, api, anon):
    from tenants import accounts

    enable(sysadmin)
    set_up_totp(api)
    token = accounts.reset_token(tenant_admin)
    res = anon.post("/api/noauth/resetPassword", {"resetToken": token, "password": "reset-pass-1"}, format="json")
    assert res.status_code == 200 and res.json()["scope"] == "PRE_VERIFICATION_TOKEN"
    assert_error(bearer(res.json()["token"]).get("/api/auth/user"), 403)
