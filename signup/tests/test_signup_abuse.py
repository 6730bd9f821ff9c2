"""What a sign-up refuses: a failed or unverifiable reCAPTCHA, too many sign-ups from one address, an address
that has an account, a password the policy refuses, bad input, a domain without self-registration; and the
tenant is always the one whose domain was reached."""

import pytest

from signup.models import SelfRegistration, SignUp
from signup.tests.conftest import PASSWORD, SECRET, TOKEN, params_body, sign_up, sign_up_body
from tbproject.testing.api import assert_error
from tbproject.testing.fixtures import api_as
from tenants.models import Customer, User


def _nothing_made():
    assert not User.objects.filter(authority="CUSTOMER_USER").exists()
    assert not Customer.objects.filter(title__startswith="Self: ").exists()


def test_a_refused_captcha_is_a_400_and_makes_nothing(anon, registration, recaptcha, inbox):
    assert_error(sign_up(anon, token="forged"), 400, "Invalid reCAPTCHA response")
    assert_error(sign_up(anon, sign_up_body(token=None)), 400, "Invalid reCAPTCHA response")
    _nothing_made()
    assert inbox.messages == []


def test_a_captcha_service_that_is_down_refuses_the_sign_up(anon, registration, recaptcha):
    recaptcha.down = True
    assert_error(sign_up(anon), 400, "Unable to verify reCAPTCHA")
    _nothing_made()


def test_a_v3_token_needs_a_good_score_and_the_configured_action(api, anon, recaptcha, inbox):
    body = params_body(captcha={"version": "v3", "siteKey": "k3", "secretKey": SECRET, "logActionName": "signup"})
    assert api.post("/api/selfRegistration/selfRegistrationParams", body, format="json").status_code == 200
    recaptcha.accept(SECRET, "low", score=0.1, action="signup")
    recaptcha.accept(SECRET, "other-action", score=0.9, action="login")
    recaptcha.accept(SECRET, "good", score=0.9, action="signup")
    assert_error(sign_up(anon, token="low"), 400, "reCAPTCHA")
    assert_error(sign_up(anon, token="other-action"), 400, "reCAPTCHA")
    assert sign_up(anon, token="good").json() == "SUCCESS"


def test_sign_ups_are_rate_limited_per_client_address(anon, registration, recaptcha, inbox, settings):
    settings.SIGNUP_PER_CLIENT_RATE_LIMIT = "2:3600"
    assert sign_up(anon, email="a1@example.com", ip="198.51.100.1").json() == "SUCCESS"
    assert_error(sign_up(anon, email="a2@example.com", ip="198.51.100.1", token="bad"), 400)
    res = sign_up(anon, email="a3@example.com", ip="198.51.100.1")
    assert_error(res, 429, "Too many sign-up requests")
    assert int(res["Retry-After"]) > 0
    assert sign_up(anon, email="a3@example.com", ip="198.51.100.2").json() == "SUCCESS"  # another client


def test_an_address_with_an_account_is_refused_with_thingsboards_message(anon, tenant_admin, registration, recaptcha):
    assert_error(sign_up(anon, email="ALICE@example.com"), 400,
                 "User with email 'alice@example.com' already present in database!")
    _nothing_made()


def test_an_activated_sign_up_cannot_sign_up_again(anon, registration, recaptcha, inbox):
    sign_up(anon)
    anon.post(f"/api/noauth/activateByEmailCode?emailCode={inbox.code('dave@example.com')}")
    assert_error(sign_up(anon), 400, "already present")


def test_the_password_policy_of_the_security_settings_applies(anon, sysadmin, registration, recaptcha):
    assert_error(sign_up(anon, password="short"), 400, "or more characters in length")
    policy = {"passwordPolicy": {"minimumLength": 12, "minimumDigits": 2}}
    assert api_as(sysadmin).post("/api/admin/securitySettings", policy, format="json").status_code == 200
    assert_error(sign_up(anon, password="Longenough-1"), 400, "digit")
    assert_error(sign_up(anon, sign_up_body(password=PASSWORD, REPEAT_PASSWORD="other")), 400, "do not match")
    _nothing_made()


@pytest.mark.parametrize("body, message", [
    ([], "JSON object"),
    ({"fields": "x", "recaptchaResponse": TOKEN}, "fields must be a JSON object"),
    ({"fields": {"EMAIL": "not-an-address", "PASSWORD": PASSWORD, "REPEAT_PASSWORD": PASSWORD}}, "Invalid email"),
    ({"fields": {"PASSWORD": PASSWORD, "REPEAT_PASSWORD": PASSWORD}}, "Email is required"),
    ({"fields": {"EMAIL": "x@example.com", "PASSWORD": 5}}, "must be a string"),
    ({"fields": {"EMAIL": "x@example.com", "PASSWORD": PASSWORD, "REPEAT_PASSWORD": PASSWORD,
                 "FIRST_NAME": "x" * 300}}, "longer than"),
])
def test_bad_input_is_a_clear_400(anon, registration, recaptcha, body, message):
    assert_error(sign_up(anon, body), 400, message)
    assert recaptcha.requests == []  # refused before Google is asked
    _nothing_made()


def test_a_domain_without_self_registration_signs_nobody_up(anon, api, registration, recaptcha):
    assert_error(sign_up(anon, host="elsewhere.example"), 404)
    assert anon.get("/api/noauth/selfRegistration/signUpSelfRegistrationParams",
                    HTTP_HOST="elsewhere.example").content == b"null"
    body = params_body(enabled=False)
    assert api.post("/api/selfRegistration/selfRegistrationParams", body, format="json").status_code == 200
    assert_error(sign_up(anon), 404)
    _nothing_made()


def test_each_domain_signs_up_into_its_own_tenant(api, mallory_api, anon, tenant, other_tenant, recaptcha, inbox):
    assert api.post("/api/selfRegistration/selfRegistrationParams", params_body(), format="json").status_code == 200
    mallory = params_body(domainName="iot.mallory.example", customerTitlePrefix="M: ")
    assert mallory_api.post("/api/selfRegistration/selfRegistrationParams", mallory, format="json").status_code == 200
    assert sign_up(anon, email="p@example.com").json() == "SUCCESS"
    assert sign_up(anon, email="q@example.com", host="iot.mallory.example:8080").json() == "SUCCESS"
    assert User.objects.get(email="p@example.com").tenant_id == tenant.pk
    q = User.objects.get(email="q@example.com")
    assert q.tenant_id == other_tenant.pk and q.customer.title == "M: q@example.com"
    assert SignUp.objects.filter(tenant=other_tenant).count() == 1


def test_a_mail_the_smtp_server_refuses_keeps_nothing(anon, registration, recaptcha, inbox):
    inbox.refuse = True
    assert_error(sign_up(anon), 500, "Unable to send mail")
    _nothing_made()
    assert not SignUp.objects.exists()


def test_activation_codes_are_checked(anon, registration, recaptcha, inbox):
    for code in ("", "x" * 100, "unknown-code"):
        assert_error(anon.post(f"/api/noauth/activateByEmailCode?emailCode={code}"), 400)
        assert anon.get("/api/noauth/activateEmail", {"emailCode": code}).status_code == 409
    # an administrator's invitation token is no sign-up code: it needs its password set (/api/noauth/activate)
    from tenants.models import CredentialsToken

    sign_up(anon)
    assert SelfRegistration.objects.count() == 1
    CredentialsToken.objects.update(expires=1)
    assert_error(anon.post(f"/api/noauth/activateByEmailCode?emailCode={inbox.code('dave@example.com')}"), 400,
                 "expired")
