"""The reviewer's defects of the OAuth 2.0 feature, each shown and then held fixed."""

from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import IntegrityError
from django.test import Client
from tb_pe_client.models import SignUpSelfRegistrationParams

from audit.models import AuditLog
from devices.models import EntityGroup
from oauth import mail, mapper, mobile
from oauth.models import MobileApp as App
from oauth.models import MobileAppBundle, OAuth2Client, OAuth2ClientTemplate
from oauth.tests.conftest import client_body
from oauth.tests.test_flow import _error, _login, _tokens
from tbproject.api import role_hook
from tbproject.testing.api import assert_error
from tbproject.testing.fixtures import api_as
from tenants.models import Tenant, User
from tenants.system import store

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(sysadmin):
    return api_as(sysadmin)


# 1 -------------------------------------------------------------------------------------------------------------
def test_named_user_groups_replace_the_tenant_administrators_group(idp, make_client):
    client = make_client(basic={"userGroupsNamePattern": ["%{dept} users"]})
    _tokens(_login(idp, client)[0])
    user = User.objects.get(email="jane@example.org")
    names = set(user.entity_groups.values_list("name", flat=True))
    assert names == {"All", "Sales users"}
    assert not EntityGroup.objects.get(tenant=user.tenant, type="USER", name="Tenant Administrators").users.filter(
        pk=user.pk).exists()
    assert not role_hook.permits(user, "ALL", "ALL")
    # without named groups the new tenant administrator is a full one, as before
    idp.user["email"] = "joe@example.org"
    _tokens(_login(idp, make_client())[0])
    assert role_hook.permits(User.objects.get(email="joe@example.org"), "ALL", "ALL")


# 2 -------------------------------------------------------------------------------------------------------------
def _mail_settings(root, idp):
    settings = {"key": "mail", "jsonValue": {
        "mailFrom": "iot@example.com", "smtpHost": "smtp.example.com", "smtpPort": "587", "username": "iot",
        "enableOauth2": True, "providerId": "OFFICE_365", "clientId": idp.client_id,
        "clientSecret": idp.client_secret, "authUri": f"{idp.url}/authorize", "tokenUri": f"{idp.url}/token",
        "scope": ["offline_access"], "redirectUri": "http://testserver/api/admin/mail/oauth2/code"}}
    assert root.post("/api/admin/settings", settings, format="json").status_code == 200


def test_a_forged_mail_state_cookie_replaces_no_refresh_token(root, idp):
    _mail_settings(root, idp)
    store.write("mail", {**store.read("mail"), "refreshToken": "the-admins-token", "tokenGenerated": True})
    attacker = api_as(None)
    attacker.cookies[mail.STATE_COOKIE] = "forged-state-of-the-attacker"
    code = idp.issue_code("http://testserver/api/admin/mail/oauth2/code", None)
    assert_error(attacker.get("/api/admin/mail/oauth2/code", {"code": code, "state": "forged-state-of-the-attacker"}),
                 400, "invalid state")
    assert store.read("mail")["refreshToken"] == "the-admins-token"
    # the administrator's own state works once, and only once
    url = root.get("/api/admin/mail/oauth2/authorize").json()
    state = parse_qs(urlsplit(url).query)["state"][0]
    code = idp.issue_code("http://testserver/api/admin/mail/oauth2/code", None)
    assert root.get("/api/admin/mail/oauth2/code", {"code": code, "state": state}).status_code == 302
    assert store.read("mail")["refreshToken"].startswith("refresh-")
    root.cookies[mail.STATE_COOKIE] = state
    code = idp.issue_code("http://testserver/api/admin/mail/oauth2/code", None)
    assert_error(root.get("/api/admin/mail/oauth2/code", {"code": code, "state": state}), 400, "invalid state")


# 3 -------------------------------------------------------------------------------------------------------------
SELF_REG = {"type": "MOBILE", "enabled": True, "title": "Sign up",
            "captcha": {"version": "v3", "siteKey": "site-key", "secretKey": "captcha-secret-key",
                        "logActionName": "signup"},
            "signUpFields": [{"id": "EMAIL", "label": "Email", "required": True}],
            "showPrivacyPolicy": True, "showTermsOfUse": False, "privacyPolicy": "<p>policy</p>",
            "customerTitlePrefix": "internal-prefix", "redirect": {"scheme": "app", "host": "x"}}


def test_the_anonymous_mobile_info_shows_no_captcha_secret(root):
    app = root.post("/api/mobile/app", {"pkgName": "org.example.app", "platformType": "ANDROID", "status": "DRAFT",
                                        "appSecret": "0123456789abcdef-app"}, format="json").json()
    saved = root.post("/api/mobile/bundle", {"title": "B", "androidAppId": app["id"],
                                             "selfRegistrationParams": SELF_REG}, format="json")
    assert saved.status_code == 200, saved.content
    saved = saved.json()
    assert saved["selfRegistrationParams"]["captcha"]["secretKey"] == "******"
    assert "captcha-secret-key" not in saved.__repr__()
    answer = api_as(None).get("/api/noauth/mobile?pkgName=org.example.app&platform=ANDROID")
    assert "captcha-secret-key" not in answer.content.decode()
    params = answer.json()["selfRegistrationParams"]
    SignUpSelfRegistrationParams.from_dict(params)
    assert params == {"title": "Sign up",
                      "captcha": {"version": "v3", "siteKey": "site-key", "logActionName": "signup"},
                      "fields": [{"id": "EMAIL", "label": "Email", "required": True}], "showPrivacyPolicy": True,
                      "showTermsOfUse": False}
    # posting the mask back keeps the stored secret
    again = root.post("/api/mobile/bundle", saved, format="json")
    assert again.status_code == 200, again.content
    stored = MobileAppBundle.objects.get(pk=saved["id"]["id"]).self_registration_params
    assert stored["captcha"]["secretKey"] == "captcha-secret-key"
    for bad, message in (({"captcha": "x"}, "captcha"), ({"signUpFields": "x"}, "signUpFields"),
                         ({"captcha": {"version": "v9"}}, "version"), ({"showTermsOfUse": "yes"}, "showTermsOfUse"),
                         ({"title": 5}, "title")):
        assert_error(root.post("/api/mobile/bundle", {**saved, "selfRegistrationParams": {**SELF_REG, **bad}},
                               format="json"), 400, message)
    assert MobileAppBundle.objects.get(pk=saved["id"]["id"]).self_registration_params == stored


# 4 -------------------------------------------------------------------------------------------------------------
def test_a_qr_secret_spent_by_a_concurrent_caller_gives_no_tokens(customer_user):
    class Raced:  # the other caller deleted the key between our read and our delete
        def get(self, key):
            return str(customer_user.pk)

        def delete(self, key):
            return False

        def getdel(self, key):
            return None

    with mock.patch.object(mobile, "cache", Raced()):
        assert mobile.take_secret("some-secret") is None


# 5 -------------------------------------------------------------------------------------------------------------
@pytest.fixture
def admin_client(sysadmin):
    client = Client()
    client.force_login(sysadmin)
    return client


APP_FORM = {"pkg_name": "org.example.new", "title": "New", "app_secret": "app-secret-0123456789",
            "platform_type": "ANDROID", "status": "DRAFT", "version_info": "null", "store_info": "null"}


def test_admin_add_forms_save_and_validate(admin_client, idp):
    answer = admin_client.post("/admin/oauth/mobileapp/add/", APP_FORM)
    assert answer.status_code == 302, answer.content[:3000]
    assert App.objects.get(pkg_name="org.example.new").app_secret == "app-secret-0123456789"
    for bad in ({"app_secret": "x"}, {"platform_type": "WINDOWS"}, {"status": "WHATEVER"}):
        answer = admin_client.post("/admin/oauth/mobileapp/add/", {**APP_FORM, "pkg_name": "org.bad", **bad})
        assert answer.status_code == 200 and not App.objects.filter(pkg_name="org.bad").exists(), bad
    form = {"title": "Admin client", "additional_info": '{"providerName": "X"}', "client_id": "cid",
            "client_secret": "csecret", "authorization_uri": "https://idp.example/auth",
            "access_token_uri": "https://idp.example/token", "scope": '["openid"]',
            "user_info_uri": "https://idp.example/me", "user_name_attribute_name": "email",
            "jwk_set_uri": "", "client_authentication_method": "POST", "login_button_label": "X",
            "login_button_icon": "", "platforms": "[]"}
    answer = admin_client.post("/admin/oauth/oauth2client/add/", form)
    assert answer.status_code == 302, answer.content[:3000]
    assert OAuth2Client.objects.get(title="Admin client").client_secret == "csecret"
    for bad in ({"client_authentication_method": "MAGIC"}, {"access_token_uri": "ftp://x"},
                {"client_secret": "******"}, {"platforms": '["PALM"]'}):
        answer = admin_client.post("/admin/oauth/oauth2client/add/", {**form, "title": "Bad", **bad})
        assert answer.status_code == 200 and not OAuth2Client.objects.filter(title="Bad").exists(), bad


def test_the_template_admin_masks_the_mapper_password(admin_client):
    template = OAuth2ClientTemplate.objects.create(provider_id="Custom", mapper_config={
        "type": "CUSTOM", "custom": {"url": "http://m.example", "password": "template-mapper-pass"}})
    page = admin_client.get(f"/admin/oauth/oauth2clienttemplate/{template.pk}/change/")
    assert page.status_code == 200 and "template-mapper-pass" not in page.content.decode()


# 6 -------------------------------------------------------------------------------------------------------------
def test_a_system_administrator_cannot_log_in_through_oauth2(idp, make_client, sysadmin):
    idp.user["email"] = sysadmin.email
    assert "System administrator" in _error(_login(idp, make_client())[0])


def test_an_unverified_email_is_refused(idp, make_client, tenant_admin):
    idp.user.update(email=tenant_admin.email, email_verified=False)
    assert "not verified" in _error(_login(idp, make_client())[0])
    idp.user["email_verified"] = "false"
    assert "not verified" in _error(_login(idp, make_client())[0])
    idp.user["email_verified"] = True
    _tokens(_login(idp, make_client())[0])


# 7 -------------------------------------------------------------------------------------------------------------
def test_a_long_tenant_name_is_found_again(idp, make_client):
    idp.user["dept"] = "D" * 300
    client = make_client(basic={"tenantNameStrategy": "CUSTOM", "tenantNamePattern": "%{dept}"})
    _tokens(_login(idp, client)[0])
    idp.user["email"] = "second@example.org"
    _tokens(_login(idp, client)[0])
    assert Tenant.objects.filter(title="D" * 255).count() == 1
    assert User.objects.get(email="second@example.org").tenant.title == "D" * 255


def test_a_concurrent_first_login_finds_the_other_ones_user(idp, make_client, tenant):
    client = make_client()
    mapped = mapper.OAuth2User(email="race@example.org", tenant_name=tenant.title)
    other = User.objects.create_user("race@example.org", None, authority="TENANT_ADMIN", tenant=tenant)
    # our lookup missed the user the other callback was creating; our insert then hits its row
    with mock.patch.object(mapper, "_find", side_effect=[None, other]), \
            mock.patch.object(mapper, "_new_user", side_effect=IntegrityError("duplicate key value")):
        assert mapper.user_for(client, mapped) == other
    with mock.patch.object(mapper, "_new_user", mock.Mock(side_effect=IntegrityError("x"))):
        with pytest.raises(mapper.LoginError):
            mapper.user_for(client, mapper.OAuth2User(email="never@example.org", tenant_name=tenant.title))


def test_an_email_over_254_characters_is_refused(idp, make_client):
    idp.user["email"] = "a" * 250 + "@example.org"
    assert "too long" in _error(_login(idp, make_client())[0])
    assert not User.objects.filter(email__startswith="aaaa").exists()


# 8 -------------------------------------------------------------------------------------------------------------
def test_the_stored_secret_does_not_follow_a_changed_endpoint(root, idp):
    saved = root.post("/api/oauth2/client", client_body(idp), format="json").json()
    for change in ({"accessTokenUri": "https://evil.example/token"}, {"clientId": "another-client"}):
        assert_error(root.post("/api/oauth2/client", {**saved, **change}, format="json"), 400,
                     "clientSecret is required")
    assert OAuth2Client.objects.get(pk=saved["id"]["id"]).access_token_uri == f"{idp.url}/token"
    body = client_body(idp, type="CUSTOM", basic=None, custom={"url": "http://mapper.example/map", "username": "u",
                                                               "password": "mapper-password"})
    saved = root.post("/api/oauth2/client", body, format="json").json()
    saved["mapperConfig"]["custom"]["url"] = "https://evil.example/map"
    assert_error(root.post("/api/oauth2/client", saved, format="json"), 400, "password")


def test_the_mail_oauth_secrets_do_not_follow_a_changed_token_uri(root, idp):
    _mail_settings(root, idp)
    store.write("mail", {**store.read("mail"), "refreshToken": "kept", "tokenGenerated": True})
    shown = root.get("/api/admin/settings/mail").json()
    assert root.post("/api/admin/settings", shown, format="json").status_code == 200
    assert (store.read("mail")["clientSecret"], store.read("mail")["refreshToken"]) == (idp.client_secret, "kept")
    shown["jsonValue"]["tokenUri"] = "https://evil.example/token"
    assert root.post("/api/admin/settings", shown, format="json").status_code == 200
    stored = store.read("mail")
    assert "clientSecret" not in stored and "refreshToken" not in stored


# 9 -------------------------------------------------------------------------------------------------------------
def test_login_errors_hide_internal_addresses(idp, make_client):
    client = make_client()
    client.access_token_uri = "http://127.0.0.1:9/internal-token-path"
    client.save()
    text = _error(_login(idp, client)[0])
    assert "internal-token-path" not in text and "127.0.0.1" not in text and "access token" in text


def test_oauth2_and_qr_logins_are_logins(idp, make_client, customer_user):
    _tokens(_login(idp, make_client())[0])
    user = User.objects.get(email="jane@example.org")
    assert user.last_login is not None
    assert AuditLog.objects.filter(entity_id=user.pk, action_type="LOGIN").exists()
    secret = mobile.new_secret(customer_user)
    assert api_as(None).get(f"/api/noauth/qr/{secret}").status_code == 200
    customer_user.refresh_from_db()
    assert customer_user.last_login is not None
    assert AuditLog.objects.filter(entity_id=customer_user.pk, action_type="LOGIN").exists()


def test_the_mask_without_a_stored_secret_is_refused(root, idp):
    assert_error(root.post("/api/oauth2/client", {**client_body(idp), "clientSecret": "******"}, format="json"),
                 400, "clientSecret")
    assert not OAuth2Client.objects.exists()


def test_a_concurrent_first_qr_save_is_no_500(root):
    root.post("/api/mobile/qr/settings", {"qrCodeConfig": {"qrCodeLabel": "First"}}, format="json")
    with mock.patch.object(mobile, "_stored_qr", side_effect=[None, mobile._stored_qr(None)]):
        answer = root.post("/api/mobile/qr/settings", {"qrCodeConfig": {"qrCodeLabel": "Second"}}, format="json")
    assert answer.status_code == 200, answer.content
    assert mobile.qr_settings(None).qr_code_config["qrCodeLabel"] == "Second"
