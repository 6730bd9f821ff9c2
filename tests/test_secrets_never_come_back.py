"""Secrets are write-only (issue 19, item 3), for every integration type in the type table.

An integration of each type is stored with a known value in every field its type declares secret
(``secret_fields``); then the values are looked for in everything that shows an integration: the
API answers (get, list, by ids, infos, by routing key, the JSON package and ThingsBoard's ZIP), the
answer of a save that posts the masked configuration back (which must keep the stored secret),
lifecycle and debug events, the admin change and list pages, and every log line written meanwhile.
A new type is covered by adding it to the table; a new secret field by declaring it. A wildcard
field (``headersFilter.*``: every value of the map) is stored with two headers, one whose name
holds a dot, and each value must be masked, kept, listed and tokenised by its own path.
"""

import io
import json
import logging
import zipfile

import pytest

from converters.models import DebugEvent
from integrations.models import Integration
from integrations.types import TYPES
from integrations.types.base import MASK, _get, split_path

MARK = "s3cr3t-never-shown"
#: the header names a wildcard secret map is stored with: ``headersFilter.X-Api-Key``, ``headersFilter[X-Site.Token]``
HEADERS = ("X-Api-Key", "X-Site.Token")


def _secret(kind: str, path: str) -> str:
    return f"{MARK}-{kind}-{path}"


def _paths(cls) -> list[str]:
    """The concrete paths of the type's secrets in the configurations made here: a wildcard
    (the last part, ``*``) once per name of HEADERS."""
    out = []
    for path in cls.secret_fields:
        if path.endswith(".*"):
            out += [f"{path[:-2]}[{h}]" if "." in h else f"{path[:-2]}.{h}" for h in HEADERS]
        else:
            assert "*" not in path, path  # a wildcard elsewhere needs a configuration of its own here
            out.append(path)
    return out


def _put(data: dict, path: str, value) -> None:
    *parents, last = split_path(path)
    for part in parents:
        data = data.setdefault(part, {})
    data[last] = value


def _with_secrets(tenant, converter) -> list[Integration]:
    made = []
    for kind, cls in TYPES.all().items():
        if not cls.secret_fields:
            continue
        configuration: dict = {"baseUrl": "http://localhost"}
        for path in _paths(cls):
            _put(configuration, path, _secret(kind, path))
        if len(_paths(cls)) > len(cls.secret_fields):
            configuration["enableSecurity"] = True
        made.append(Integration.objects.create(tenant=tenant, name=f"secret {kind}", type=kind, enabled=False,
                                               default_converter=converter, configuration=configuration))
    return made


@pytest.fixture
def stored(tenant):
    from integrations.tests.factories import make_uplink_converter

    integrations = _with_secrets(tenant, make_uplink_converter(tenant, "secret decoder"))
    assert len(integrations) >= 8  # the types that declare secrets today
    assert sum(any(p.endswith(".*") for p in TYPES.load(i.type).secret_fields) for i in integrations) >= 6
    return integrations


def _assert_clean(text: str, where: str) -> None:
    assert MARK not in text, f"{where} shows a secret: ...{text[max(0, text.find(MARK) - 120):][:300]}..."


def test_no_api_answer_shows_a_secret(api, stored, caplog):
    caplog.set_level(logging.DEBUG)
    ids = ",".join(str(i.pk) for i in stored)
    for url in ["/api/integrations?pageSize=100&page=0", "/api/integrationInfos?pageSize=100&page=0",
                f"/api/integrations/list?integrationIds={ids}"]:
        res = api.get(url)
        assert res.status_code == 200, (url, res.content[:200])
        _assert_clean(res.content.decode(), url)
    for integration in stored:
        for url in [f"/api/integration/{integration.pk}", f"/api/integration/routingKey/{integration.routing_key}"]:
            res = api.get(url)
            assert res.status_code == 200, (url, res.content[:200])
            _assert_clean(res.content.decode(), url)
        cls = TYPES.load(integration.type)
        shown = api.get(f"/api/integration/{integration.pk}").json()
        for path in _paths(cls):
            assert _get(shown["configuration"], path) == MASK, (integration.type, path)
        # the package (transfer/): every secret left out and listed, none shown even masked
        package = api.get(f"/api/integration/{integration.pk}/export")
        assert package.status_code == 200, package.content[:200]
        _assert_clean(package.content.decode(), f"the package of {integration.type}")
        assert MASK not in package.content.decode(), integration.type
        assert sorted(package.json()["requiredSecrets"]) == sorted(
            f"integration.configuration.{p}" for p in _paths(cls)), integration.type
        # ThingsBoard 4.4's ZIP: every secret a ${...} placeholder, in no file in clear or masked
        archive = api.get(f"/api/integration/{integration.pk}/export-package")
        assert archive.status_code == 200, archive.content[:200]
        with zipfile.ZipFile(io.BytesIO(archive.content)) as files:
            text = {name: files.read(name).decode() for name in files.namelist()}
        for name, body in text.items():
            _assert_clean(body, f"{name} in the ZIP of {integration.type}")
            assert MASK not in body, (integration.type, name)
        for path in _paths(cls):
            assert _get(json.loads(text["integration.json"])["configuration"], path) == \
                "${configuration." + path + "}", (integration.type, path)
        form = {f["name"] for f in json.loads(text["form.json"])["fields"]}
        assert {f"configuration.{p}" for p in _paths(cls)} <= form, integration.type
    _assert_clean(caplog.text, "the log")


def test_posting_the_masked_configuration_back_keeps_every_secret(api, stored, caplog):
    caplog.set_level(logging.DEBUG)
    saved = []
    for integration in stored:
        shown = api.get(f"/api/integration/{integration.pk}").json()
        res = api.post("/api/integration", shown, format="json")
        _assert_clean(res.content.decode(), f"saving {integration.type}")
        if res.status_code != 200:  # a type whose minimal configuration is incomplete: its error is clean
            continue
        saved.append(integration.type)
        integration.refresh_from_db()
        for path in _paths(TYPES.load(integration.type)):
            assert _get(integration.configuration, path) == _secret(integration.type, path), (integration.type, path)
    print(f"secrets: {len(saved)} of {len(stored)} types saved back with their secrets kept: {saved}")
    assert len(saved) >= 5  # the HTTP-family types save with these minimal configurations
    for event in DebugEvent.objects.all():
        _assert_clean(str(event.body), f"{event.event_type} event")
    _assert_clean(caplog.text, "the log")


def test_no_admin_page_shows_a_secret(client, tenant_admin, stored):
    client.force_login(tenant_admin)
    page = client.get("/admin/integrations/integration/")
    assert page.status_code == 200
    _assert_clean(page.content.decode(), "the integration list")
    for integration in stored:
        page = client.get(f"/admin/integrations/integration/{integration.pk}/change/")
        assert page.status_code == 200, integration.type
        _assert_clean(page.content.decode(), f"the {integration.type} change page")


def test_the_audit_log_never_shows_a_secret(api, client, tenant_admin, stored, caplog):
    """Each type's secrets changed through the API: the audit log (API and admin) says they
    changed, as ******, and shows neither the old nor the new value."""
    caplog.set_level(logging.DEBUG)
    changed = []
    for integration in stored:
        shown = api.get(f"/api/integration/{integration.pk}").json()
        for path in _paths(TYPES.load(integration.type)):
            _put(shown["configuration"], path, _secret(integration.type, path) + "-rotated")
        if api.post("/api/integration", shown, format="json").status_code == 200:
            changed.append(integration)
    assert len(changed) >= 5
    logs = api.get("/api/audit/logs", {"pageSize": 1000, "page": 0})
    _assert_clean(logs.content.decode(), "the audit log")
    rows = [r for r in logs.json()["data"] if r["actionStatus"] == "SUCCESS"]  # the refused saves: FAILURE rows
    assert len(rows) == len(changed)
    for row in rows:
        secret_entries = [d for d in row["actionData"]["diff"] if d["old"] == MASK and d["new"] == MASK]
        kind = row["entityName"].removeprefix("secret ")
        assert len(secret_entries) == len(_paths(TYPES.load(kind))), row["entityName"]  # one per header value
    client.force_login(tenant_admin)
    _assert_clean(client.get("/admin/audit/auditlog/").content.decode(), "the audit list page")
    for row in rows:
        _assert_clean(client.get(f"/admin/audit/auditlog/{row['id']['id']}/change/").content.decode(),
                      "an audit page")
    _assert_clean(caplog.text, "the log")


def test_the_system_secrets_never_come_back(sysadmin, client, caplog):
    """The mail password, the JWT signing key and API key values (tenants/system/): written through the API,
    never in its answers, the admin pages or the log; an API key's value is answered once, when it is made."""
    import base64

    from tbproject.testing.fixtures import api_as
    from tenants.models import AdminSettings, ApiKey
    from tenants.system import store

    caplog.set_level(logging.DEBUG)
    store.forget()
    root = api_as(sysadmin)
    password, signing_key = f"{MARK}-mail", base64.b64encode(f"{MARK}-jwt".encode() * 4).decode()
    mail = {"mailFrom": "a@b.c", "smtpHost": "127.0.0.1", "smtpPort": "1", "timeout": "1000", "password": password}
    answers = [root.post("/api/admin/settings", {"key": "mail", "jsonValue": mail}, format="json"),
               root.get("/api/admin/settings/mail"),
               root.post("/api/admin/settings/testMail", {"key": "mail", "jsonValue": mail}, format="json"),
               root.post("/api/admin/jwtSettings", {"tokenExpirationTime": 9000, "refreshTokenExpTime": 604800,
                                                    "tokenIssuer": "x", "tokenSigningKey": signing_key}, format="json")]
    root = api_as(sysadmin)  # the new key signs from now on
    answers += [root.get("/api/admin/jwtSettings"), root.get("/api/admin/settings/jwt")]
    made = root.post("/api/apiKey", {"description": "ci"}, format="json").json()
    value = made["value"]
    answers += [root.get(f"/api/apiKeys/{sysadmin.pk}", {"pageSize": 10, "page": 0}),
                root.put(f"/api/apiKey/{made['id']['id']}/enabled/false")]
    assert AdminSettings.objects.get(key="mail").json_value["password"] == password
    for res in answers:
        text = res.content.decode()
        assert password not in text and signing_key not in text and value not in text, text[:300]
    assert value not in ApiKey.objects.values_list("key_hash", flat=True)[0]
    client.force_login(sysadmin)
    for row in AdminSettings.objects.all():
        page = client.get(f"/admin/tenants/adminsettings/{row.pk}/change/").content.decode()
        assert password not in page and signing_key not in page and row.key in page
    page = client.get(f"/admin/tenants/apikey/{made['id']['id']}/change/").content.decode()
    assert value not in page and "ci" in page
    assert password not in caplog.text and signing_key not in caplog.text and value not in caplog.text
    store.forget()


def test_the_two_factor_secrets_never_come_back(sysadmin, tenant_admin, client, caplog):
    """A user's TOTP secret and backup codes (tenants/two_factor/): answered once, by generate; never by the
    account settings, a save, an update, the login's provider infos, the admin pages or the log; not stored
    in the clear."""
    import pyotp

    from tbproject.testing.fixtures import api_as
    from tenants.models import TwoFaSettings
    from tenants.system import store
    from tenants.tests.two_factor_helpers import bearer, enable, login, secret_of

    caplog.set_level(logging.DEBUG)
    store.forget()
    try:
        enable(sysadmin)
        api = api_as(tenant_admin)
        config = api.post("/api/2fa/account/config/generate?providerType=TOTP").json()
        secret = secret_of(config["authUrl"])
        backup = api.post("/api/2fa/account/config/generate?providerType=BACKUP_CODE").json()
        codes = backup["codes"]
        answers = [api.post(f"/api/2fa/account/config?verificationCode={pyotp.TOTP(secret).now()}", config,
                            format="json"),
                   api.post("/api/2fa/account/config", backup, format="json"),
                   api.get("/api/2fa/account/settings"),
                   api.put("/api/2fa/account/config?providerType=BACKUP_CODE", {"useByDefault": False},
                           format="json"),
                   bearer(login(tenant_admin.email).json()["token"]).get("/api/auth/2fa/providers")]
        for res in answers:
            text = res.content.decode()
            assert res.status_code == 200 and secret not in text and not any(c in text for c in codes), text[:300]
        row = TwoFaSettings.objects.get(user=tenant_admin)
        assert secret not in str(row.configs) and not any(c in str(row.configs) for c in codes)
        client.force_login(sysadmin)
        for page in (client.get("/admin/tenants/twofasettings/"),
                     client.get(f"/admin/tenants/twofasettings/{row.pk}/change/")):
            text = page.content.decode()
            assert page.status_code == 200 and "TOTP" in text
            assert secret not in text and not any(c in text for c in codes)
        assert secret not in caplog.text and not any(c in caplog.text for c in codes)
    finally:
        store.forget()


def test_the_notification_delivery_secrets_never_come_back(api, client, tenant_admin, sysadmin, settings, caplog):
    """Slack's bot token and the mobile app's Firebase credentials (notification settings) and a Teams target's
    webhook URL: answered masked, kept when posted back masked or left out, masked in the admin, never logged."""
    from tb_pe_client.models import NotificationTarget as TbTarget

    from notifications.models import NotificationSettings, NotificationTarget

    caplog.set_level(logging.DEBUG)
    settings.NOTIFICATION_ALLOW_PRIVATE_URLS = True  # the webhook's host below is a local one
    token, firebase, hook = f"xoxb-{MARK}", f'{{"private_key": "{MARK}-fcm"}}', f"http://127.0.0.1:9/hook/{MARK}"
    configs = {"SLACK": {"method": "SLACK", "botToken": token},
               "MOBILE_APP": {"method": "MOBILE_APP", "firebaseServiceAccountCredentials": firebase}}
    answers = [api.post("/api/notification/settings", {"deliveryMethodsConfigs": configs}, format="json")]
    shown = api.get("/api/notification/settings").json()
    assert shown["deliveryMethodsConfigs"]["SLACK"]["botToken"] == MASK
    answers += [api.post("/api/notification/settings", shown, format="json"),  # the mask posted back
                api.post("/api/notification/settings", {"deliveryMethodsConfigs": {  # left out
                    "SLACK": {"method": "SLACK"}, "MOBILE_APP": {"method": "MOBILE_APP"}}}, format="json")]
    row = NotificationSettings.objects.get(tenant_id=tenant_admin.tenant_id)
    assert row.delivery_methods_configs["SLACK"]["botToken"] == token
    assert row.delivery_methods_configs["MOBILE_APP"]["firebaseServiceAccountCredentials"] == firebase
    made = api.post("/api/notification/target", {"name": "team", "configuration": {
        "type": "MICROSOFT_TEAMS", "webhookUrl": hook, "channelName": "ops"}}, format="json")
    target = made.json()
    assert target["configuration"]["webhookUrl"] == MASK and TbTarget.from_dict(target).name == "team"
    answers += [made, api.get(f"/api/notification/target/{target['id']['id']}"),
                api.get("/api/notification/targets?pageSize=10&page=0"),
                api.get(f"/api/notification/targets/list?ids={target['id']['id']}"),
                api.post("/api/notification/target", target, format="json")]
    left_out = {**target, "configuration": {k: v for k, v in target["configuration"].items() if k != "webhookUrl"}}
    answers.append(api.post("/api/notification/target", left_out, format="json"))
    assert all(res.status_code == 200 for res in answers), [r.content[:200] for r in answers]
    for res in answers:
        _assert_clean(res.content.decode(), res.wsgi_request.path)
    stored = NotificationTarget.objects.get(pk=target["id"]["id"])
    assert stored.configuration["webhookUrl"] == hook
    client.force_login(tenant_admin)
    page = client.get(f"/admin/notifications/notificationtarget/{stored.pk}/change/")
    assert page.status_code == 200 and MASK in page.content.decode()
    _assert_clean(page.content.decode(), "the Teams target's admin page")
    saved = client.post(f"/admin/notifications/notificationtarget/{stored.pk}/change/", {
        "name": "team renamed", "configuration": json.dumps(target["configuration"]), "_save": "Save"})
    assert saved.status_code == 302, saved.content.decode()[:2000]
    stored.refresh_from_db()
    assert (stored.name, stored.configuration["webhookUrl"]) == ("team renamed", hook)
    client.force_login(sysadmin)
    page = client.get(f"/admin/notifications/notificationsettings/{row.pk}/change/")
    assert page.status_code == 200
    _assert_clean(page.content.decode(), "the notification settings' admin page")
    _assert_clean(caplog.text, "the log")
