"""The system administrator's settings documents (GET/POST /api/admin/settings): ThingsBoard's defaults,
saves, the mail password write-only, sysadmins only, bad input refused; general.baseUrl in users' links;
the info pages (systemInfo, featuresInfo, licenseUsageInfo, updates) in the client's shapes."""

import pytest
from tb_pe_client.models import AdminSettings, FeaturesInfo, LicenseUsageInfo, SystemInfo, UpdateMessage

from tbproject.testing.api import assert_error
from tbproject.testing.fixtures import api_as
from tenants.models import AdminSettings as Row
from tenants.system import store

MAIL = {"mailFrom": "iot@example.com", "smtpProtocol": "smtp", "smtpHost": "smtp.example.com", "smtpPort": "587",
        "timeout": "10000", "enableTls": True, "tlsVersion": "TLSv1.2", "username": "iot", "password": "hunter2-mail"}


@pytest.fixture(autouse=True)
def _fresh_settings_cache():
    store.forget()
    yield
    store.forget()


@pytest.fixture
def root(sysadmin):
    return api_as(sysadmin)


def test_it_answers_thingsboards_defaults_before_anything_is_saved(root, settings):
    settings.PUBLIC_BASE_URL = ""
    general = AdminSettings.from_dict(root.get("/api/admin/settings/general").json())
    assert general.key == "general" and general.json_value == {"baseUrl": "http://localhost:8080",
                                                               "prohibitDifferentUrl": False}
    mail = root.get("/api/admin/settings/mail").json()["jsonValue"]
    assert mail["smtpHost"] and mail["smtpPort"] and "password" not in mail
    assert root.get("/api/admin/settings/connectivity").json()["jsonValue"]["mqtt"]["port"] == 1883
    assert_error(root.get("/api/admin/settings/sms"), 404)


def test_the_mail_password_is_write_only_and_kept_when_left_out(root):
    res = root.post("/api/admin/settings", {"key": "mail", "jsonValue": MAIL}, format="json")
    assert res.status_code == 200 and "hunter2" not in res.content.decode()
    saved = AdminSettings.from_dict(res.json())
    assert saved.id.id and isinstance(saved.created_time, int)
    shown = root.get("/api/admin/settings/mail").json()["jsonValue"]
    assert shown == {k: v for k, v in MAIL.items() if k != "password"}
    # the UI posts back what it read (no password): the stored one stays
    res = root.post("/api/admin/settings", {"key": "mail", "jsonValue": {**shown, "timeout": 5000}}, format="json")
    assert res.status_code == 200
    assert Row.objects.get(key="mail").json_value["password"] == "hunter2-mail"
    assert Row.objects.get(key="mail").json_value["timeout"] == 5000
    # ... but never for another server or login: it is not sent where it was not meant to go
    for change in ({"smtpHost": "smtp.elsewhere.example"}, {"smtpPort": 2525}, {"username": "someone"}):
        root.post("/api/admin/settings", {"key": "mail", "jsonValue": MAIL}, format="json")
        res = root.post("/api/admin/settings", {"key": "mail", "jsonValue": {**shown, **change}}, format="json")
        assert res.status_code == 200 and "password" not in Row.objects.get(key="mail").json_value
    root.post("/api/admin/settings", {"key": "mail", "jsonValue": {**shown, "password": "new-one"}}, format="json")
    assert Row.objects.get(key="mail").json_value["password"] == "new-one"


@pytest.mark.parametrize("sms, secret", [
    ({"type": "TWILIO", "numberFrom": "+100", "accountSid": "AC1", "accountToken": "tw-secret-1"}, "accountToken"),
    ({"type": "SMPP", "protocolVersion": "3.4", "host": "smpp.example.com", "port": 2775, "systemId": "iot",
      "password": "smpp-secret-1"}, "password"),
    ({"type": "AWS_SNS", "accessKeyId": "AKIA1", "secretAccessKey": "aws-secret-1", "region": "eu-west-1"},
     "secretAccessKey"),
])
def test_the_sms_providers_secrets_are_write_only_and_masked(root, sysadmin, sms, secret):
    from django.test import Client

    res = root.post("/api/admin/settings", {"key": "sms", "jsonValue": sms}, format="json")
    assert res.status_code == 200 and sms[secret] not in res.content.decode()
    shown = root.get("/api/admin/settings/sms").json()["jsonValue"]
    assert shown == {k: v for k, v in sms.items() if k != secret}
    assert root.post("/api/admin/settings", {"key": "sms", "jsonValue": shown}, format="json").status_code == 200
    assert Row.objects.get(key="sms").json_value[secret] == sms[secret]  # kept when posted back without it
    admin = Client()
    admin.force_login(sysadmin)
    page = admin.get(f"/admin/tenants/adminsettings/{Row.objects.get(key='sms').pk}/change/").content.decode()
    assert sms[secret] not in page and "********" in page


@pytest.mark.parametrize("mail_from", ["a@b.example\r\nBcc: x@evil.example", "not an address",
                                       "a@b.example, c@d.example"])
def test_a_mail_from_that_would_break_mails_is_refused(root, mail_from):
    assert_error(root.post("/api/admin/settings", {"key": "mail", "jsonValue": {**MAIL, "mailFrom": mail_from}},
                           format="json"), 400, "mailFrom must be an email address")
    assert not Row.objects.exists()
    named = {**MAIL, "mailFrom": "IoT <iot@example.com>"}
    assert root.post("/api/admin/settings", {"key": "mail", "jsonValue": named}, format="json").status_code == 200


def test_other_keys_are_stored_as_given_and_jwt_is_never_read_here(root):
    sms = {"type": "TWILIO", "numberFrom": "+100", "accountSid": "x"}
    assert root.post("/api/admin/settings", {"key": "sms", "jsonValue": sms}, format="json").status_code == 200
    assert root.get("/api/admin/settings/sms").json()["jsonValue"] == sms
    assert_error(root.get("/api/admin/settings/jwt"), 400, "/api/admin/jwtSettings")
    assert_error(root.post("/api/admin/settings", {"key": "jwt", "jsonValue": {}}, format="json"), 400)


@pytest.mark.parametrize("path", ["/api/admin/settings/general", "/api/admin/securitySettings",
                                  "/api/admin/jwtSettings", "/api/admin/systemInfo", "/api/admin/featuresInfo",
                                  "/api/admin/licenseUsageInfo", "/api/admin/updates"])
def test_only_system_administrators_reach_the_settings(api, customer_api, anon, path):
    assert_error(api.get(path), 403)
    assert_error(customer_api.get(path), 403)
    assert_error(anon.get(path), 401)


def test_tenant_admins_cannot_save_settings_or_send_test_mail(api):
    assert_error(api.post("/api/admin/settings", {"key": "general", "jsonValue": {}}, format="json"), 403)
    assert_error(api.post("/api/admin/settings/testMail", {"key": "mail", "jsonValue": MAIL}, format="json"), 403)
    assert_error(api.post("/api/admin/jwtSettings", {}, format="json"), 403)
    assert not Row.objects.exists()


@pytest.mark.parametrize("body, message", [
    ([], "JSON object"),
    ({"key": "general"}, "jsonValue must be a JSON object"),
    ({"key": "", "jsonValue": {}}, "key should be specified"),
    ({"key": "a\x00b", "jsonValue": {}}, "NUL"),
    ({"key": "k" * 300, "jsonValue": {}}, "longer than 255"),
    ({"key": "general", "jsonValue": {"baseUrl": "x\x00"}}, "NUL"),
    ({"key": "general", "jsonValue": {"baseUrl": "ftp://x"}}, "baseUrl"),
    ({"key": "sms", "jsonValue": {"n": 10**30}}, "out of range"),
    ({"key": "sms", "jsonValue": {"blob": "x" * 70_000}}, "larger than"),
    ({"key": "mail", "jsonValue": {**MAIL, "smtpPort": "99999"}}, "smtpPort"),
    ({"key": "mail", "jsonValue": {**MAIL, "smtpPort": 10**20}}, "out of range"),
    ({"key": "mail", "jsonValue": {**MAIL, "smtpProtocol": "imap"}}, "smtpProtocol"),
    ({"key": "mail", "jsonValue": {**MAIL, "password": 5}}, "password must be a string"),
])
def test_bad_settings_are_refused_and_nothing_is_saved(root, body, message):
    assert_error(root.post("/api/admin/settings", body, format="json"), 400, message)
    assert not Row.objects.exists()


def test_a_key_no_column_can_hold_is_a_400(root):
    assert_error(root.get("/api/admin/settings/a%00b"), 400, "NUL")
    assert_error(root.get(f"/api/admin/settings/{'k' * 300}"), 400, "longer than 255")


def test_malformed_json_is_a_400(root):
    res = root.generic("POST", "/api/admin/settings", b'{"key": "general", "jsonValue": {',
                       content_type="application/json")
    assert_error(res, 400)


def test_general_base_url_starts_the_links_users_get(root, api, customer, settings):
    settings.PUBLIC_BASE_URL = "https://env.example.com"
    body = {"email": "dave@example.com", "authority": "CUSTOMER_USER", "customerId": {"id": str(customer.pk)}}
    user = api.post("/api/user?sendActivationMail=false", body, format="json").json()
    assert api.get(f"/api/user/{user['id']['id']}/activationLink").content.decode().startswith("https://env.example.com/")
    root.post("/api/admin/settings", {"key": "general", "jsonValue": {"baseUrl": "https://iot.example.org/",
                                                                       "prohibitDifferentUrl": True}}, format="json")
    link = api.get(f"/api/user/{user['id']['id']}/activationLink").content.decode()
    assert link.startswith("https://iot.example.org/api/noauth/activate?activateToken=")


def test_the_info_pages_answer_the_clients_shapes(root, settings, tenant):
    from tbproject.testing.factories import make_device

    make_device(tenant, "counted-1")
    info = SystemInfo.from_dict(root.get("/api/admin/systemInfo").json())
    data = info.system_data[0]
    assert info.monolith is True and data.cpu_count >= 1 and data.total_memory > 0 and data.total_disc_space > 0
    assert 0 <= data.memory_usage <= 100 and 0 <= data.disc_usage <= 100 and 0 <= data.cpu_usage <= 100
    settings.EMAIL_HOST = ""
    assert FeaturesInfo.from_dict(root.get("/api/admin/featuresInfo").json()).email_enabled is False
    root.post("/api/admin/settings", {"key": "mail", "jsonValue": MAIL}, format="json")
    assert FeaturesInfo.from_dict(root.get("/api/admin/featuresInfo").json()).email_enabled is True
    usage = LicenseUsageInfo.from_dict(root.get("/api/admin/licenseUsageInfo").json())
    assert usage.devices_count == 1 and usage.max_devices == 0 and usage.integrations_count == 0
    update = UpdateMessage.from_dict(root.get("/api/admin/updates").json())
    assert update.update_available is False and update.current_version


def test_the_higher_layers_register_what_the_license_usage_counts(tenant):
    from tbproject.testing.factories import make_device
    from tenants.system import usage_counts

    assert set(usage_counts._counters) == set(usage_counts.NAMES)  # devices/, dashboards/, integrations/ ready()
    make_device(tenant, "counted-1")
    assert usage_counts.counts() == {"devicesCount": 1, "assetsCount": 0, "dashboardsCount": 0,
                                     "integrationsCount": 0}
    with pytest.raises(ValueError):
        usage_counts.register("widgetsCount", lambda: 0)


def test_version_control_answers_as_not_configured(api):
    assert api.get("/api/admin/repositorySettings/exists").json() is False
    assert api.get("/api/admin/autoCommitSettings/exists").json() is False
    assert api.get("/api/admin/repositorySettings/info").json() == {"configured": False, "readOnly": False}
    assert_error(api.get("/api/admin/repositorySettings"), 404)
    assert_error(api.post("/api/admin/repositorySettings", {}, format="json"), 400)  # transfer/vc/ answers
