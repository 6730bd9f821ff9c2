"""The security settings enforced: the password policy on every password set (activation, reset, change;
ThingsBoard's messages), password reuse and expiry, the lockout after the stored number of failed logins,
the stored link TTLs; and the JWT settings (lifetimes in new tokens, a new signing key outdating the old)."""

import base64

import jwt as pyjwt
import pytest
from tb_pe_client.models import JwtPair, JwtSettings, SecuritySettings, UserPasswordPolicy

from tbproject.clock import now_ms
from tbproject.testing.api import assert_error
from tbproject.testing.fixtures import PASSWORD, api_as
from tenants import accounts
from tenants.models import CredentialsToken, User
from tenants.system import store
from tenants.system.jwt_settings import new_signing_key

STRICT = {"minimumLength": 8, "maximumLength": 20, "minimumUppercaseLetters": 1, "minimumLowercaseLetters": 1,
          "minimumDigits": 1, "minimumSpecialCharacters": 1, "allowWhitespaces": False,
          "passwordReuseFrequencyDays": 30, "passwordExpirationPeriodDays": 0,
          "forceUserToResetPasswordIfNotValid": False}


@pytest.fixture(autouse=True)
def _fresh_settings_cache():
    store.forget()
    yield
    store.forget()


@pytest.fixture
def root(sysadmin):
    return api_as(sysadmin)


def _save(root, **changes) -> dict:
    body = {**root.get("/api/admin/securitySettings").json(), **changes}
    res = root.post("/api/admin/securitySettings", body, format="json")
    assert res.status_code == 200, res.content
    return res.json()


def _login(anon, email, password):
    return anon.post("/api/auth/login", {"username": email, "password": password}, format="json")


def test_the_defaults_and_a_save_in_the_clients_shapes(root, anon):
    settings = SecuritySettings.from_dict(root.get("/api/admin/securitySettings").json())
    assert settings.password_policy.minimum_length == 6 and settings.user_activation_token_ttl == 24
    saved = SecuritySettings.from_dict(_save(root, passwordPolicy=STRICT, maxFailedLoginAttempts=5,
                                             userActivationTokenTtl=2))
    assert saved.max_failed_login_attempts == 5 and saved.user_activation_token_ttl == 2
    assert saved.password_policy.minimum_digits == 1
    policy = UserPasswordPolicy.from_dict(anon.get("/api/noauth/userPasswordPolicy").json())
    assert policy.minimum_special_characters == 1 and policy.allow_whitespaces is False


@pytest.mark.parametrize("password, message", [
    ("Ab1!", "Password must be 8 or more characters in length."),
    ("Abcdefgh1!" * 3, "Password must be no more than 20 characters in length."),
    ("abcdefg1!", "Password must contain 1 or more uppercase characters."),
    ("ABCDEFG1!", "Password must contain 1 or more lowercase characters."),
    ("Abcdefgh!", "Password must contain 1 or more digit characters."),
    ("Abcdefgh1", "Password must contain 1 or more special characters."),
    ("Abcd efg1!", "Password contains a whitespace character."),
])
def test_each_rule_of_the_policy_refuses_a_password_change(root, customer_api, customer_user, password, message):
    _save(root, passwordPolicy=STRICT)
    res = customer_api.post("/api/auth/changePassword", {"currentPassword": PASSWORD, "newPassword": password},
                            format="json")
    assert_error(res, 400, message)
    customer_user.refresh_from_db()
    assert customer_user.check_password(PASSWORD)


def test_a_valid_password_passes_and_a_reused_one_is_refused(root, customer_api, customer_user, anon):
    _save(root, passwordPolicy=STRICT)
    res = customer_api.post("/api/auth/changePassword", {"currentPassword": PASSWORD, "newPassword": "Valid-pass1"},
                            format="json")
    assert res.status_code == 200, res.content
    fresh = api_as(User.objects.get(pk=customer_user.pk))
    res = fresh.post("/api/auth/changePassword", {"currentPassword": "Valid-pass1", "newPassword": "Other-pass2"},
                     format="json")
    assert res.status_code == 200
    fresh = api_as(User.objects.get(pk=customer_user.pk))
    res = fresh.post("/api/auth/changePassword", {"currentPassword": "Other-pass2", "newPassword": "Valid-pass1"},
                     format="json")
    assert_error(res, 400, "Password was already used for the last 30 days")
    assert _login(anon, customer_user.email, "Other-pass2").status_code == 200


def test_activation_and_reset_follow_the_policy_and_the_stored_ttls(root, api, anon, customer, customer_user):
    _save(root, passwordPolicy=STRICT, userActivationTokenTtl=2, passwordResetTokenTtl=3)
    body = {"email": "dave@example.com", "authority": "CUSTOMER_USER", "customerId": {"id": str(customer.pk)}}
    user = api.post("/api/user?sendActivationMail=false", body, format="json").json()
    info = api.get(f"/api/user/{user['id']['id']}/activationLinkInfo").json()
    assert 2 * 3_600_000 - 60_000 < info["ttlMs"] <= 2 * 3_600_000
    token = info["value"].rsplit("=", 1)[1]
    assert_error(anon.post("/api/noauth/activate", {"activateToken": token, "password": "weakpass"}, format="json"),
                 400, "uppercase")
    assert anon.post("/api/noauth/activate", {"activateToken": token, "password": "Strong-pass1"},
                     format="json").status_code == 200
    accounts.request_password_reset(customer_user.email, "https://iot.example.com")
    row = CredentialsToken.objects.get(user=customer_user, purpose="RESET")
    assert 3 * 3_600_000 - 60_000 < row.expires - now_ms() <= 3 * 3_600_000
    assert_error(anon.post("/api/noauth/resetPassword", {"resetToken": row.token, "password": "short"},
                           format="json"), 400, "8 or more")


def test_lockout_after_the_stored_number_of_failed_logins(root, anon, customer_user, settings, mailoutbox):
    settings.USER_MAX_FAILED_LOGIN_ATTEMPTS = 0  # the environment's default: off; the stored value wins
    _save(root, maxFailedLoginAttempts=2, userLockoutNotificationEmail="security@example.com")
    for _ in range(2):
        assert_error(_login(anon, customer_user.email, "wrong-pass"), 401, "Invalid username or password")
    assert not mailoutbox
    assert_error(_login(anon, customer_user.email, "wrong-pass"), 401, "locked due to security policy")
    assert_error(_login(anon, customer_user.email, PASSWORD), 401, "not active")
    [notice] = mailoutbox
    assert notice.to == ["security@example.com"] and customer_user.email in notice.body


def test_an_expired_password_answers_a_reset_token(root, anon, customer_user):
    _save(root, passwordPolicy={**STRICT, "passwordExpirationPeriodDays": 1, "minimumLength": 6,
                                "minimumUppercaseLetters": 0, "minimumSpecialCharacters": 0})
    customer_user.password_history = {str(now_ms() - 2 * 86_400_000): customer_user.password}
    customer_user.save(update_fields=["password_history"])
    body = assert_error(_login(anon, customer_user.email, PASSWORD), 401, "User password expired!")
    assert body["errorCode"] == 15
    res = anon.post("/api/noauth/resetPassword", {"resetToken": body["resetToken"], "password": "fresh-pass-9"},
                    format="json")
    assert res.status_code == 200
    assert _login(anon, customer_user.email, "fresh-pass-9").status_code == 200


def _expire(root, user):
    _save(root, passwordPolicy={**STRICT, "passwordExpirationPeriodDays": 1, "minimumLength": 6,
                                "minimumUppercaseLetters": 0, "minimumSpecialCharacters": 0})
    user.password_history = {str(now_ms() - 2 * 86_400_000): user.password}
    user.save(update_fields=["password_history"])


@pytest.mark.parametrize("address", ["a@b.example\r\nBcc: x@evil.example", "nobody", "a@b.example, c@d.example"])
def test_a_lockout_address_that_would_break_mails_is_refused(root, address):
    assert_error(root.post("/api/admin/securitySettings", {"userLockoutNotificationEmail": address}, format="json"),
                 400, "userLockoutNotificationEmail must be an email address")
    assert store.read("securitySettings") is None


def test_a_save_without_max_failed_login_attempts_keeps_the_value_in_force(root, settings):
    settings.USER_MAX_FAILED_LOGIN_ATTEMPTS = 5
    assert root.post("/api/admin/securitySettings", {}, format="json").json()["maxFailedLoginAttempts"] == 5
    assert _save(root, maxFailedLoginAttempts=3)["maxFailedLoginAttempts"] == 3
    body = {k: v for k, v in root.get("/api/admin/securitySettings").json().items() if k != "maxFailedLoginAttempts"}
    assert root.post("/api/admin/securitySettings", body, format="json").json()["maxFailedLoginAttempts"] == 3
    assert _save(root, maxFailedLoginAttempts=0)["maxFailedLoginAttempts"] == 0  # off, when asked


def test_demodata_reset_passwords_renews_an_expired_demo_password(root, anon):
    from django.core.management import call_command

    call_command("demodata")
    demo = User.objects.get(email="tenant@thingsboard.org")
    _expire(root, demo)
    assert_error(_login(anon, demo.email, "tenant"), 401, "User password expired!")
    call_command("demodata", "--reset-passwords")
    assert _login(anon, demo.email, "tenant").status_code == 200


def test_the_admin_login_refuses_an_expired_password(root, sysadmin, tenant_admin):
    from django.test import Client

    _expire(root, tenant_admin)
    page = Client().post("/admin/login/?next=/admin/", {"username": tenant_admin.email, "password": PASSWORD})
    assert page.status_code == 200 and "User password expired!" in page.content.decode()
    assert "/login/resetPasswordRequest" in page.content.decode()
    assert "_auth_user_id" not in page.wsgi_request.session
    # a fresh password signs in
    ok = Client().post("/admin/login/?next=/admin/", {"username": sysadmin.email, "password": PASSWORD})
    assert ok.status_code == 302


def test_a_password_breaking_the_policy_is_refused_at_login_when_forced(root, anon, customer_user):
    _save(root, passwordPolicy={**STRICT, "passwordReuseFrequencyDays": 0, "forceUserToResetPasswordIfNotValid": True})
    body = assert_error(_login(anon, customer_user.email, PASSWORD), 401, "violates our policies")
    assert body["errorCode"] == 45


@pytest.mark.parametrize("changes, message", [
    ({"passwordPolicy": []}, "passwordPolicy must be a JSON object"),
    ({"passwordPolicy": {"minimumLength": 10**30}}, "out of range"),
    ({"passwordPolicy": {"minimumLength": -1}}, "minimumLength"),
    ({"passwordPolicy": {"minimumLength": "6"}}, "minimumLength must be an integer"),
    ({"passwordPolicy": {"allowWhitespaces": "yes"}}, "allowWhitespaces"),
    ({"userActivationTokenTtl": 25}, "userActivationTokenTtl"),
    ({"maxFailedLoginAttempts": 1.5}, "maxFailedLoginAttempts"),
    ({"userLockoutNotificationEmail": "a\x00b"}, "NUL"),
])
def test_bad_security_settings_are_refused(root, changes, message):
    body = {**root.get("/api/admin/securitySettings").json(), **changes}
    assert_error(root.post("/api/admin/securitySettings", body, format="json"), 400, message)
    assert store.read("securitySettings") is None


def test_a_shorter_token_lifetime_shows_in_new_tokens(root, sysadmin, anon, tenant_admin):
    current = JwtSettings.from_dict(root.get("/api/admin/jwtSettings").json())
    assert current.token_expiration_time == 9000 and current.token_signing_key is None
    res = root.post("/api/admin/jwtSettings", {"tokenExpirationTime": 120, "refreshTokenExpTime": 3600,
                                               "tokenIssuer": "iot.example.com"}, format="json")
    assert res.status_code == 200
    pair = JwtPair.from_dict(res.json())
    claims = pyjwt.decode(pair.token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 120 and claims["iss"] == "iot.example.com"
    login = _login(anon, tenant_admin.email, PASSWORD).json()
    claims = pyjwt.decode(login["refreshToken"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 3600
    assert api_as(tenant_admin).get("/api/auth/user").status_code == 200


def test_a_new_issuer_logs_no_one_out_on_either_path(root, tenant_admin, api):
    from devices.api import lean_app

    token = api.get("/api/auth/user").wsgi_request.META["HTTP_X_AUTHORIZATION"]
    res = root.post("/api/admin/jwtSettings", {"tokenExpirationTime": 9000, "refreshTokenExpTime": 604800,
                                               "tokenIssuer": "iot.example.com"}, format="json")
    assert res.status_code == 200
    assert api.get("/api/auth/user").status_code == 200  # the token issued by "thingsboard.io"
    assert lean_app._authenticate(token) == (str(tenant_admin.pk), tenant_admin.credentials_changed)


def test_authenticating_a_request_does_not_load_the_password_history(api, tenant_admin):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    made = api.post("/api/apiKey", {"description": "ci"}, format="json").json()
    by_key = APIClient()
    by_key.credentials(HTTP_X_AUTHORIZATION=f"ApiKey {made['value']}")
    for client in (api, by_key):
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/auth/user").status_code == 200
        assert queries.captured_queries and not any("password_history" in q["sql"] for q in queries.captured_queries)
    tenant_admin.refresh_from_db()
    assert tenant_admin.password_history  # kept, and loaded where a password is set or checked


def test_the_lean_path_reads_the_jwt_settings_off_its_event_loop(db):
    import asyncio
    import threading

    from tenants.system import jwt_settings

    threads = []
    query = store._query_closing
    store._query_closing = lambda key: threads.append(threading.current_thread()) or query(key)
    try:
        store.forget()
        asyncio.run(store.prefetch(jwt_settings.KEY))
        asyncio.run(store.prefetch(jwt_settings.KEY))  # fresh: no second read
    finally:
        store._query_closing = query
    assert len(threads) == 1 and threads[0] is not threading.current_thread()
    assert store._cache.get(jwt_settings.KEY) is not None


def test_a_new_signing_key_outdates_every_token_signed_before(root, tenant_admin, api):
    assert api.get("/api/auth/user").status_code == 200
    key = new_signing_key()
    res = root.post("/api/admin/jwtSettings", {"tokenExpirationTime": 9000, "refreshTokenExpTime": 604800,
                                               "tokenIssuer": "thingsboard.io", "tokenSigningKey": key}, format="json")
    assert res.status_code == 200 and key not in res.content.decode()
    assert_error(api.get("/api/auth/user"), 401, "Signature verification failed")
    assert_error(root.get("/api/auth/user"), 401)
    fresh = api_as(tenant_admin)  # signed with the new key
    assert fresh.get("/api/auth/user").status_code == 200
    new_root = api_as(None)
    new_root.credentials(HTTP_X_AUTHORIZATION=f"Bearer {res.json()['token']}")
    assert new_root.get("/api/admin/jwtSettings").json()["tokenSigningKey"] is None
    # a save without the key keeps it
    new_root.post("/api/admin/jwtSettings", {"tokenExpirationTime": 600, "refreshTokenExpTime": 7200,
                                             "tokenIssuer": "thingsboard.io"}, format="json")
    assert store.read("jwt")["tokenSigningKey"] == key
    assert fresh.get("/api/auth/user").status_code == 200


@pytest.mark.parametrize("body, message", [
    ({"tokenExpirationTime": 9000, "refreshTokenExpTime": 604800}, "issuer should be specified"),
    ({"tokenExpirationTime": 10, "refreshTokenExpTime": 604800, "tokenIssuer": "x"}, "at least 1 minute"),
    ({"tokenExpirationTime": 9000, "refreshTokenExpTime": 60, "tokenIssuer": "x"}, "at least 15 minutes"),
    ({"tokenExpirationTime": 9000, "refreshTokenExpTime": 10**30, "tokenIssuer": "x"}, "out of range"),
    ({"tokenExpirationTime": 9000, "refreshTokenExpTime": 604800, "tokenIssuer": "x", "tokenSigningKey": "%%%"},
     "valid Base64"),
    ({"tokenExpirationTime": 9000, "refreshTokenExpTime": 604800, "tokenIssuer": "x",
      "tokenSigningKey": base64.b64encode(b"short").decode()}, "at least 512 bits"),
    ({"tokenExpirationTime": 9000, "refreshTokenExpTime": 604800, "tokenIssuer": "x\x00"}, "NUL"),
])
def test_bad_jwt_settings_are_refused_and_tokens_keep_working(root, api, body, message):
    assert_error(root.post("/api/admin/jwtSettings", body, format="json"), 400, message)
    assert store.read("jwt") is None and api.get("/api/auth/user").status_code == 200


def test_the_admin_forms_follow_the_policy_too(root, customer_user):
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    _save(root, passwordPolicy=STRICT)
    with pytest.raises(ValidationError) as caught:
        validate_password("weak", customer_user)
    assert "Password must be 8 or more characters in length." in caught.value.messages
    validate_password("Strong-pass1", customer_user)


@pytest.mark.django_db(transaction=True)
def test_the_lean_attribute_path_refuses_tokens_signed_with_the_old_key(sysadmin, tenant_admin, tenant):
    from tbproject.testing.factories import make_device
    from tbproject.testing.lean import LeanClient

    device = make_device(tenant, "lean-1")
    path = f"/api/plugins/telemetry/DEVICE/{device.pk}/SHARED_SCOPE"
    old = api_as(tenant_admin)
    assert LeanClient(old).asgi_post(path, b'{"a": 1}', "application/json").status_code == 200  # cached as valid
    res = api_as(sysadmin).post("/api/admin/jwtSettings", {"tokenExpirationTime": 9000, "refreshTokenExpTime": 604800,
                                                           "tokenIssuer": "thingsboard.io",
                                                           "tokenSigningKey": new_signing_key()}, format="json")
    assert res.status_code == 200
    assert LeanClient(old).asgi_post(path, b'{"a": 2}', "application/json").status_code == 401
    assert LeanClient(api_as(tenant_admin)).asgi_post(path, b'{"a": 3}', "application/json").status_code == 200
