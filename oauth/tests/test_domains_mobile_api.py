"""Domains, mobile apps, app bundles and the QR code settings: sysadmin-only configuration (a tenant
administrator keeps only its own QR code settings), write-only app secrets, bad input 400."""

import pytest
from tb_pe_client.models import (
    DomainInfo,
    LoginMobileInfo,
    MobileApp,
    MobileAppBundle,
    MobileAppBundleInfo,
    PageDataDomainInfo,
    PageDataMobileApp,
    QrCodeSettings,
)

from oauth.models import Domain
from oauth.models import MobileApp as App
from tbproject.testing.api import assert_error
from tbproject.testing.fixtures import api_as

NO = "You don't have permission to perform this operation!"
MISSING = "6f1c7f3e-2b4c-4d5e-9f00-000000000001"


@pytest.fixture
def root(sysadmin):
    return api_as(sysadmin)


def _app(root, pkg="org.example.app", platform="ANDROID", **extra):
    body = {"pkgName": pkg, "platformType": platform, "status": "PUBLISHED", "appSecret": "0123456789abcdef-app",
            "title": "Example", "storeInfo": {"storeLink": f"https://store.example/{platform}"}, **extra}
    answer = root.post("/api/mobile/app", body, format="json")
    assert answer.status_code == 200, answer.content
    return answer.json()


def test_domains_bind_clients(root, make_client):
    client = make_client(domain="unused.example")
    saved = root.post(f"/api/domain?oauth2ClientIds={client.pk}", {"name": "Login.Example.com"}, format="json").json()
    assert saved["name"] == "login.example.com" and saved["oauth2Enabled"] is True
    pk = saved["id"]["id"]
    info = root.get(f"/api/domain/info/{pk}").json()
    DomainInfo.from_dict(info)
    assert [c["id"]["id"] for c in info["oauth2ClientInfos"]] == [str(client.pk)]
    page = root.get("/api/domain/infos?pageSize=10&page=0&textSearch=login").json()
    PageDataDomainInfo.from_dict(page)
    assert page["totalElements"] == 1
    assert root.put(f"/api/domain/{pk}/oauth2Clients", [], format="json").status_code == 200
    assert not Domain.objects.get(pk=pk).oauth2_clients.exists()
    saved["oauth2Enabled"] = False
    assert root.post("/api/domain", saved, format="json").json()["oauth2Enabled"] is False
    assert root.delete(f"/api/domain/{pk}").status_code == 200
    assert not Domain.objects.filter(pk=pk).exists()


def test_bad_domains(root, make_client):
    root.post("/api/domain", {"name": "a.example"}, format="json")
    assert_error(root.post("/api/domain", {"name": "A.example"}, format="json"), 400, "already exists")
    assert_error(root.post("/api/domain", {"name": ""}, format="json"), 400, "name is required")
    assert_error(root.post("/api/domain", {"name": "https://b.example/x"}, format="json"), 400, "host name")
    assert_error(root.post(f"/api/domain?oauth2ClientIds={MISSING}", {"name": "c.example"}, format="json"), 404)
    assert not Domain.objects.filter(name="c.example").exists()
    pk = Domain.objects.get(name="a.example").pk
    assert_error(root.put(f"/api/domain/{pk}/oauth2Clients", {"a": 1}, format="json"), 400, "JSON array")
    assert_error(root.put(f"/api/domain/{pk}/oauth2Clients", ["nope"], format="json"), 400, "Invalid UUID")
    assert_error(root.get(f"/api/domain/info/{MISSING}"), 404)


def test_mobile_apps_keep_their_secret(root):
    saved = _app(root)
    MobileApp.from_dict(saved)
    assert saved["appSecret"] == "******" and saved["id"]["entityType"] == "MOBILE_APP"
    assert App.objects.get(pk=saved["id"]["id"]).app_secret == "0123456789abcdef-app"
    saved["title"] = "Renamed"
    assert root.post("/api/mobile/app", saved, format="json").json()["title"] == "Renamed"
    assert App.objects.get(pk=saved["id"]["id"]).app_secret == "0123456789abcdef-app"
    assert "0123456789abcdef" not in root.get(f"/api/mobile/app/{saved['id']['id']}").content.decode()
    _app(root, platform="IOS")
    page = root.get("/api/mobile/app?pageSize=10&page=0&platformType=IOS").json()
    PageDataMobileApp.from_dict(page)
    assert [a["platformType"] for a in page["data"]] == ["IOS"]
    assert_error(root.get("/api/mobile/app?pageSize=10&page=0&platformType=WEB"), 400, "platformType")


@pytest.mark.parametrize("change, message", [
    ({"appSecret": "short"}, "at least 16"), ({"pkgName": ""}, "pkgName is required"),
    ({"platformType": "WEB"}, "platformType must be one of"), ({"status": "LIVE"}, "status must be one of"),
    ({"storeInfo": "x"}, "storeInfo must be a JSON object"),
])
def test_bad_mobile_apps(root, change, message):
    body = {"pkgName": "org.example.app", "platformType": "ANDROID", "status": "DRAFT",
            "appSecret": "0123456789abcdef-app", **change}
    assert_error(root.post("/api/mobile/app", body, format="json"), 400, message)
    assert not App.objects.exists()


def test_a_package_and_platform_pair_is_unique(root):
    _app(root)
    assert_error(root.post("/api/mobile/app", {"pkgName": "org.example.app", "platformType": "ANDROID",
                                               "status": "DRAFT", "appSecret": "0123456789abcdef-x"}, format="json"),
                 400, "already exists")


def test_bundles_and_what_a_mobile_app_is_offered(root, make_client, tenant_admin):
    android, ios = _app(root), _app(root, platform="IOS")
    client = make_client(domain="unused.example")
    body = {"title": "Field app", "androidAppId": android["id"], "iosAppId": ios["id"], "oauth2Enabled": True,
            "layoutConfig": {"pages": [{"type": "DEFAULT", "id": "HOME", "visible": True}]}}
    saved = root.post(f"/api/mobile/bundle?oauth2ClientIds={client.pk}", body, format="json").json()
    MobileAppBundle.from_dict(saved)
    info = root.get(f"/api/mobile/bundle/info/{saved['id']['id']}").json()
    MobileAppBundleInfo.from_dict(info)
    assert (info["androidPkgName"], info["iosPkgName"]) == ("org.example.app", "org.example.app")
    assert [c["id"]["id"] for c in info["oauth2ClientInfos"]] == [str(client.pk)]
    assert root.get("/api/mobile/bundle/infos?pageSize=10&page=0").json()["totalElements"] == 1
    login = api_as(None).get("/api/noauth/mobile?pkgName=org.example.app&platform=ANDROID").json()
    LoginMobileInfo.from_dict(login)
    assert login["oAuth2ClientLoginInfos"][0]["url"] == f"/oauth2/authorization/{client.pk}?pkgName=org.example.app"
    assert login["storeInfo"] == {"storeLink": "https://store.example/ANDROID"}
    mine = api_as(tenant_admin).get("/api/mobile?pkgName=org.example.app&platform=IOS").json()
    assert mine["user"]["email"] == tenant_admin.email and mine["pages"][0]["id"] == "HOME"
    assert_error(api_as(None).get("/api/noauth/mobile?pkgName=org.example.app"), 400, "platform")
    assert_error(api_as(None).get("/api/noauth/mobile?pkgName=nope&platform=IOS"), 404)
    assert root.put(f"/api/mobile/bundle/{saved['id']['id']}/oauth2Clients", [], format="json").status_code == 200
    assert api_as(None).get("/api/noauth/mobile?pkgName=org.example.app&platform=ANDROID").json()[
        "oAuth2ClientLoginInfos"] == []
    assert_error(root.post("/api/mobile/bundle", {**body, "androidAppId": ios["id"]}, format="json"), 400,
                 "androidAppId must name an ANDROID app")
    assert_error(root.post("/api/mobile/bundle", {**body, "title": ""}, format="json"), 400, "title")
    assert_error(root.post("/api/mobile/bundle", {**body, "iosAppId": {"id": MISSING}}, format="json"), 404)
    assert root.delete(f"/api/mobile/bundle/{saved['id']['id']}").status_code == 200


def test_mobile_configuration_is_the_system_administrators(tenant_admin, customer_user, root):
    """403 without an id; an id route tells nothing of the system's entities: 404."""
    pk = _app(root)["id"]["id"]
    domain = root.post("/api/domain", {"name": "x.example"}, format="json").json()["id"]["id"]
    for user in (tenant_admin, customer_user):
        c = api_as(user)
        for answer in (c.post("/api/mobile/app", {}, format="json"), c.get("/api/mobile/app?pageSize=1&page=0"),
                       c.post("/api/mobile/bundle", {}, format="json"),
                       c.get("/api/mobile/bundle/infos?pageSize=1&page=0"),
                       c.post("/api/domain", {"name": "y.example"}, format="json"),
                       c.get("/api/domain/infos?pageSize=1&page=0")):
            assert_error(answer, 403, NO)
        for answer in (c.get(f"/api/mobile/app/{pk}"), c.delete(f"/api/mobile/app/{pk}"),
                       c.get(f"/api/domain/info/{domain}"), c.delete(f"/api/domain/{domain}"),
                       c.put(f"/api/domain/{domain}/oauth2Clients", [], format="json")):
            assert_error(answer, 404)
    assert App.objects.filter(pk=pk).exists() and list(Domain.objects.values_list("name", flat=True)) == ["x.example"]


def test_qr_code_settings_of_the_system_and_of_a_tenant(root, tenant_admin, customer_user):
    android = _app(root)
    bundle = root.post("/api/mobile/bundle", {"title": "B", "androidAppId": android["id"]}, format="json").json()
    system = root.get("/api/mobile/qr/settings").json()
    QrCodeSettings.from_dict(system)
    assert system["useDefaultApp"] is True and system["useSystemSettings"] is False
    saved = root.post("/api/mobile/qr/settings", {"useDefaultApp": False, "mobileAppBundleId": bundle["id"],
                                                  "qrCodeConfig": {"showOnHomePage": True, "badgePosition": "LEFT"},
                                                  "iosEnabled": False}, format="json").json()
    assert saved["googlePlayLink"] == "https://store.example/ANDROID" and saved["appStoreLink"] is None
    assert saved["qrCodeConfig"]["badgePosition"] == "LEFT"
    # a tenant uses the system's until it saves its own
    admin = api_as(tenant_admin)
    assert admin.get("/api/mobile/qr/settings").json()["useSystemSettings"] is True
    assert api_as(customer_user).get("/api/mobile/qr/merged").json()["mobileAppBundleId"] == bundle["id"]
    own = admin.post("/api/mobile/qr/settings", {"useSystemSettings": False, "useDefaultApp": True,
                                                 "qrCodeConfig": {"qrCodeLabel": "Ours"}}, format="json").json()
    assert own["tenantId"]["id"] == str(tenant_admin.tenant_id) and own["useSystemSettings"] is False
    assert api_as(customer_user).get("/api/mobile/qr/merged").json()["qrCodeConfig"]["qrCodeLabel"] == "Ours"
    assert root.get("/api/mobile/qr/settings").json()["mobileAppBundleId"] == bundle["id"]  # untouched
    assert_error(api_as(customer_user).post("/api/mobile/qr/settings", {"qrCodeConfig": {}}, format="json"), 403)
    assert_error(root.post("/api/mobile/qr/settings", {"qrCodeConfig": "x"}, format="json"), 400, "qrCodeConfig")
    assert_error(root.post("/api/mobile/qr/settings", {"useDefaultApp": False, "qrCodeConfig": {}}, format="json"),
                 400, "mobileAppBundleId is required")
    assert_error(root.post("/api/mobile/qr/settings", {"qrCodeConfig": {"badgePosition": "TOP"}}, format="json"),
                 400, "badgePosition")
    # the phone that scans the code goes to its store
    root_store = api_as(None).get("/api/noauth/qr", HTTP_USER_AGENT="Mozilla/5.0 (Linux; Android 14)")
    assert root_store.status_code == 302 and root_store["Location"] == "https://store.example/ANDROID"
    assert api_as(None).get("/api/noauth/qr", HTTP_USER_AGENT="curl/8")["Location"] == "/"


def test_the_deep_link_secret_logs_the_app_in_once(customer_user):
    link = api_as(customer_user).get("/api/mobile/qr/deepLink").json()
    assert link.startswith("http://testserver/api/noauth/qr?secret=") and link.endswith("&ttl=60")
    secret = link.split("secret=")[1].split("&")[0]
    pair = api_as(None).get(f"/api/noauth/qr/{secret}").json()
    assert api_as(None).get("/api/auth/user", HTTP_X_AUTHORIZATION=f"Bearer {pair['token']}").json()["email"] == \
        customer_user.email
    assert_error(api_as(None).get(f"/api/noauth/qr/{secret}"), 404, "expired")
