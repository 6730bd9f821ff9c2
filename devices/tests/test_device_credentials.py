"""Device credentials as ThingsBoard keeps them: an access token made with every device, whatever
creates it, and the three endpoints (read, update, device-with-credentials) with ThingsBoard's
rules and messages, tenancy and audit."""

import hashlib
import importlib
import json
import logging
import re

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from tb_pe_client.models import DeviceCredentials as TbDeviceCredentials

from audit.models import AuditLog
from converters.output import EntityUpdate
from devices import known
from devices.models import Device, DeviceCredentials
from devices.provisioning import Provisioner
from integrations import pipeline
from integrations.tests.uplinks import integration, json_uplink
from tbproject.testing.api import assert_error
from tbproject.testing.factories import default_profile, make_customer, make_device

TOKEN = re.compile(r"[A-Za-z0-9]{20}")
PEM = "-----BEGIN CERTIFICATE-----\r\nMIIBszCCAVmgAwIBAgIU\r\nQ2VydA==\r\n-----END CERTIFICATE-----\n"


def token_of(device) -> str:
    return DeviceCredentials.objects.get(device=device).credentials_id


def post_credentials(api, device, **body):
    current = api.get(f"/api/device/{device.pk}/credentials").json()
    return api.post("/api/device/credentials", {**current, "credentialsValue": None, **body}, format="json")


# --- made with every device ---------------------------------------------------------------------

def test_it_gives_a_device_saved_through_the_api_a_random_access_token(api, tenant):
    first = api.post("/api/device", {"name": "api-1", "type": "meter"}, format="json").json()
    second = api.post("/api/device", {"name": "api-2"}, format="json").json()
    body = api.get(f"/api/device/{first['id']['id']}/credentials").json()
    assert set(body) == {"id", "createdTime", "deviceId", "credentialsType", "credentialsId", "credentialsValue",
                         "version"}
    assert body["deviceId"] == {"entityType": "DEVICE", "id": first["id"]["id"]}
    assert (body["credentialsType"], body["credentialsValue"], body["version"]) == ("ACCESS_TOKEN", None, 1)
    assert TOKEN.fullmatch(body["credentialsId"]) and isinstance(body["createdTime"], int)
    assert TbDeviceCredentials.from_dict(body).credentials_id == body["credentialsId"]  # the client parses it
    other = api.get(f"/api/device/{second['id']['id']}/credentials").json()["credentialsId"]
    assert other != body["credentialsId"]


def test_it_gives_devices_made_by_the_admin_and_by_code_an_access_token(client, tenant_admin, tenant):
    client.force_login(tenant_admin)
    data = {"name": "admin-made", "label": "", "customer": "", "additional_info": "{}",
            "profile": default_profile(tenant).pk}
    assert client.post("/admin/devices/device/add/", data).status_code == 302
    assert TOKEN.fullmatch(token_of(Device.objects.get(name="admin-made")))
    assert TOKEN.fullmatch(token_of(make_device(tenant, "factory-made")))


def test_it_gives_devices_provisioned_from_an_uplink_an_access_token(tenant):
    known.forget()
    integ = integration(tenant, allow_create_devices_or_assets=True)
    pipeline.process([json_uplink(integ, {"name": f"up-{i}", "telemetry": {"t": i}}) for i in range(3)])
    devices = Device.objects.filter(tenant=tenant, name__startswith="up-")
    assert devices.count() == 3
    tokens = {token_of(d) for d in devices}
    assert len(tokens) == 3 and all(TOKEN.fullmatch(t) for t in tokens)


def test_it_provisions_a_batch_of_new_devices_with_one_credentials_insert(tenant):
    known.forget()
    updates = [EntityUpdate(entity_type="DEVICE", name=f"bulk-{i}", profile="meter") for i in range(25)]
    updates.append(EntityUpdate(entity_type="ASSET", name="site", profile="default"))
    with CaptureQueriesContext(connection) as ctx:
        Provisioner(tenant.pk, allow_create=True).prefetch(updates)
    inserts = [q["sql"] for q in ctx.captured_queries if 'INTO "devices_devicecredentials"' in q["sql"]]
    assert len(inserts) == 1
    assert DeviceCredentials.objects.filter(device__name__startswith="bulk-").count() == 25
    # one by one (the fallback of a failed batch) goes through the model save: one row too
    Provisioner(tenant.pk, allow_create=True).entity(EntityUpdate(entity_type="DEVICE", name="single", profile="x"))
    assert TOKEN.fullmatch(token_of(Device.objects.get(name="single")))


def test_the_migration_gives_existing_devices_a_token_and_deleting_a_device_drops_it(tenant):
    older = make_device(tenant, "older")
    DeviceCredentials.objects.filter(device=older).delete()  # as before migration 0006
    kept = token_of(make_device(tenant, "newer"))
    migration = importlib.import_module("devices.migrations.0006_device_credentials")
    migration.issue_tokens(apps, type("Editor", (), {"connection": connection})())
    assert TOKEN.fullmatch(token_of(older)) and token_of(Device.objects.get(name="newer")) == kept
    older.delete()
    assert not DeviceCredentials.objects.filter(device_id=older.pk).exists()


def test_the_migration_walks_devices_by_key_a_page_at_a_time_without_an_anti_join(tenant, monkeypatch):
    """Each page is an indexed range read (pk > last); an anti-join over all devices per page made
    the migration quadratic."""
    made = [make_device(tenant, f"old-{i}") for i in range(5)]
    DeviceCredentials.objects.all().delete()
    migration = importlib.import_module("devices.migrations.0006_device_credentials")
    monkeypatch.setattr(migration, "BATCH", 2)
    with CaptureQueriesContext(connection) as ctx:
        migration.issue_tokens(apps, type("Editor", (), {"connection": connection})())
    assert all(TOKEN.fullmatch(token_of(d)) for d in made)
    device_reads = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith('SELECT "devices_device"')]
    assert len(device_reads) == 4  # three pages of at most two, then an empty one
    assert all("JOIN" not in sql and "IS NULL" not in sql and "ORDER BY" in sql for sql in device_reads)


# --- reading: who may ---------------------------------------------------------------------------

def test_a_customer_user_reads_its_customers_devices_credentials_only(customer_api, tenant, customer, other_tenant):
    mine = make_device(tenant, "mine", customer=customer)
    assert customer_api.get(f"/api/device/{mine.pk}/credentials").json()["credentialsId"] == token_of(mine)
    assert_error(customer_api.get(f"/api/device/{make_device(tenant, 'tenants').pk}/credentials"), 404)
    other = make_device(tenant, "other-customers", customer=make_customer(tenant, "Other"))
    assert_error(customer_api.get(f"/api/device/{other.pk}/credentials"), 404)
    assert post_credentials_as(customer_api, mine, "x-token").status_code == 403
    assert token_of(mine) != "x-token"


def post_credentials_as(client, device, token):
    body = {"deviceId": {"entityType": "DEVICE", "id": str(device.pk)}, "credentialsType": "ACCESS_TOKEN",
            "credentialsId": token}
    return client.post("/api/device/credentials", body, format="json")


def test_another_tenants_device_is_a_404_everywhere(api, tenant, other_tenant):
    theirs = make_device(other_tenant, "theirs")
    before = token_of(theirs)
    assert_error(api.get(f"/api/device/{theirs.pk}/credentials"), 404)
    assert_error(post_credentials_as(api, theirs, "stolen"), 404)
    body = {"device": {"id": {"entityType": "DEVICE", "id": str(theirs.pk)}, "name": "taken"},
            "credentials": {"credentialsType": "ACCESS_TOKEN", "credentialsId": "stolen"}}
    assert_error(api.post("/api/device-with-credentials", body, format="json"), 404)
    assert token_of(theirs) == before and Device.objects.get(pk=theirs.pk).name == "theirs"


# --- updating -------------------------------------------------------------------------------------

def test_it_updates_an_access_token_and_audits_it(api, tenant, tenant_admin, caplog):
    device = make_device(tenant, "d")
    caplog.set_level(logging.DEBUG)
    res = post_credentials(api, device, credentialsId="my-token-1")
    assert res.status_code == 200 and res.json()["credentialsId"] == "my-token-1" and res.json()["version"] == 2
    assert token_of(device) == "my-token-1"
    assert "my-token-1" not in caplog.text  # the token is never logged
    [row] = AuditLog.objects.filter(action_type="CREDENTIALS_UPDATED")
    assert (row.entity_type, row.entity_id, row.entity_name, row.user_name) == ("DEVICE", device.pk, "d",
                                                                                tenant_admin.email)
    assert row.action_data["credentials"]["credentialsId"] == "******"  # the token is a secret: masked
    assert post_credentials(api, device, credentialsId="my-token-1").status_code == 200  # unchanged: no row
    assert AuditLog.objects.filter(action_type="CREDENTIALS_UPDATED").count() == 1


@pytest.mark.parametrize(("body", "message"), [
    ({"credentialsId": "has space"}, "Access token should not contain spaces!"),
    ({"credentialsId": "x" * 33}, "Access token length must be from 1 to 32 characters."),
    ({"credentialsId": ""}, "Device credentials id should be specified!"),
    ({"credentialsId": 12}, "Access token should be a string!"),
    ({"credentialsType": None}, "Device credentials type should be specified!"),
    ({"credentialsType": "PASSWORD"}, "Invalid credentialsType: PASSWORD"),
    ({"deviceId": None}, "Device credentials should be assigned to device!"),
    ({"deviceId": {"id": "not-a-uuid"}}, "Invalid UUID string"),
    ({"id": {"id": "9b2c1a70-0000-4000-8000-000000000000"}}, "Unable to update non-existent device credentials!"),
    ({"credentialsType": "MQTT_BASIC", "credentialsValue": "{not json"}, "Invalid credentials body for simple mqtt"),
    ({"credentialsType": "MQTT_BASIC", "credentialsValue": '{"password": "p"}'},
     "Both mqtt client id and user name are empty!"),
    ({"credentialsType": "MQTT_BASIC", "credentialsValue": '{"clientId": "c", "password": "p"}'},
     "Password cannot be specified along with client id"),
    ({"credentialsType": "MQTT_BASIC", "credentialsValue": '{"clientId": ["c"]}'},
     "Invalid credentials body for simple mqtt"),
    ({"credentialsType": "X509_CERTIFICATE", "credentialsValue": None}, "X509 certificate should be specified"),
    ({"credentialsType": "X509_CERTIFICATE", "credentialsValue": "-----BEGIN CERTIFICATE-----not base64!"},
     "Invalid X509 certificate"),
    ({"credentialsType": "LWM2M_CREDENTIALS", "credentialsValue": '{"client": {"securityConfigClientMode": "NO_SEC"}}'},
     "LwM2M client endpoint must be specified!"),
    ({"credentialsType": "LWM2M_CREDENTIALS", "credentialsValue": json.dumps({"client": {
        "endpoint": "e", "securityConfigClientMode": "PSK", "identity": "i", "key": "abc"}})},
     "LwM2M client PSK key length = 3"),
    # PostgreSQL text refuses NUL (a DataError, a 500): refused first, on every database
    ({"credentialsId": "tok\u0000en"}, "NUL"),
    ({"credentialsType": "MQTT_BASIC", "credentialsValue": '{"userName": "u\\u0000"}'}, "NUL"),
    ({"credentialsType": "MQTT_BASIC", "credentialsValue": {"clientId": "c", "userName": "u", "password": "p\u0000"}},
     "NUL"),
    ({"credentialsType": "LWM2M_CREDENTIALS", "credentialsValue": json.dumps({"client": {
        "endpoint": "ep\u0000", "securityConfigClientMode": "NO_SEC"}, "bootstrap": {
        "bootstrapServer": {}, "lwm2mServer": {}}})}, "NUL"),
    ({"credentialsType": "LWM2M_CREDENTIALS", "credentialsValue": {"client": {
        "endpoint": "ep", "securityConfigClientMode": "NO_SEC"}, "bootstrap": {
        "bootstrapServer": {"clientSecretKey": "\u0000"}, "lwm2mServer": {}}}}, "NUL"),
])
def test_it_refuses_bad_credentials_with_thingsboards_messages_and_keeps_the_old_ones(api, tenant, body, message):
    device = make_device(tenant, "d")
    before = token_of(device)
    assert_error(post_credentials(api, device, **body), 400, message)
    assert token_of(device) == before
    assert_error(api.post("/api/device/credentials", ["not", "an", "object"], format="json"), 400, "JSON object")


def test_a_taken_credentials_id_is_refused_without_naming_its_device(api, tenant, other_tenant):
    device, sibling = make_device(tenant, "d"), make_device(tenant, "sibling")
    theirs = make_device(other_tenant, "their-secret-device")
    for taken in (token_of(sibling), token_of(theirs)):
        body = assert_error(post_credentials(api, device, credentialsId=taken), 400,
                            "Device credentials are already assigned to another device!")
        assert "their-secret-device" not in json.dumps(body) and str(theirs.pk) not in json.dumps(body)
    failures = AuditLog.objects.filter(action_type="CREDENTIALS_UPDATED", action_status="FAILURE")
    assert failures.count() == 2 and failures.first().entity_id == device.pk


def test_it_formats_mqtt_basic_x509_and_lwm2m_credentials_as_thingsboard_does(api, tenant):
    device = make_device(tenant, "d")
    value = {"clientId": "c1", "userName": "u1", "password": "p1", "ignored": 1}
    body = post_credentials(api, device, credentialsType="MQTT_BASIC", credentialsValue=json.dumps(value)).json()
    assert body["credentialsId"] == hashlib.sha3_256(b"c1|u1").hexdigest()
    assert body["credentialsValue"] == '{"clientId":"c1","userName":"u1","password":"p1"}'
    row = AuditLog.objects.get(action_type="CREDENTIALS_UPDATED")
    assert json.loads(row.action_data["credentials"]["credentialsValue"])["password"] == "******"
    user_only = post_credentials(api, device, credentialsType="MQTT_BASIC", credentialsValue='{"userName": "u9"}')
    assert user_only.json()["credentialsId"] == "u9"
    client_only = post_credentials(api, device, credentialsType="MQTT_BASIC", credentialsValue={"clientId": "c9"})
    assert client_only.json()["credentialsId"] == hashlib.sha3_256(b"c9").hexdigest()
    cert = post_credentials(api, device, credentialsType="X509_CERTIFICATE", credentialsValue=PEM).json()
    assert cert["credentialsValue"] == "MIIBszCCAVmgAwIBAgIUQ2VydA=="
    assert cert["credentialsId"] == hashlib.sha3_256(b"MIIBszCCAVmgAwIBAgIUQ2VydA==").hexdigest()
    lwm2m = {"client": {"endpoint": "ep-1", "securityConfigClientMode": "NO_SEC"},
             "bootstrap": {"bootstrapServer": {"securityMode": "NO_SEC"}, "lwm2mServer": {"securityMode": "NO_SEC"}}}
    body = post_credentials(api, device, credentialsType="LWM2M_CREDENTIALS", credentialsValue=json.dumps(lwm2m))
    assert body.json()["credentialsId"] == "ep-1" and json.loads(body.json()["credentialsValue"]) == lwm2m
    token = post_credentials(api, device, credentialsType="ACCESS_TOKEN", credentialsId="back-to-token",
                             credentialsValue="dropped").json()
    assert (token["credentialsId"], token["credentialsValue"]) == ("back-to-token", None)


# --- device with credentials ----------------------------------------------------------------------

def test_device_with_credentials_saves_both_and_answers_the_device(api, tenant):
    body = {"device": {"name": "with-creds", "type": "meter", "label": "L"},
            "credentials": {"credentialsType": "MQTT_BASIC", "credentialsValue": '{"userName": "with-creds-user"}'}}
    res = api.post("/api/device-with-credentials", body, format="json")
    assert res.status_code == 200 and (res.json()["name"], res.json()["type"]) == ("with-creds", "meter")
    device = Device.objects.get(pk=res.json()["id"]["id"])
    assert (device.credentials.credentials_type, device.credentials.credentials_id) == ("MQTT_BASIC", "with-creds-user")
    assert list(AuditLog.objects.filter(entity_id=device.pk).values_list("action_type", flat=True)) == ["ADDED"]
    update = {"device": {"id": {"entityType": "DEVICE", "id": str(device.pk)}, "name": "renamed"},
              "credentials": {"credentialsType": "ACCESS_TOKEN", "credentialsId": "renamed-token"}}
    assert api.post("/api/device-with-credentials", update, format="json").json()["name"] == "renamed"
    assert token_of(device) == "renamed-token"
    assert AuditLog.objects.filter(entity_id=device.pk, action_type="CREDENTIALS_UPDATED").count() == 1


def test_device_with_bad_or_taken_credentials_saves_no_device(api, tenant, other_tenant, customer_api):
    taken = token_of(make_device(other_tenant, "theirs"))
    count = Device.objects.count()
    for credentials, message in (({"credentialsType": "ACCESS_TOKEN", "credentialsId": taken}, "already assigned"),
                                 ({"credentialsType": "ACCESS_TOKEN", "credentialsId": "a b"}, "spaces"),
                                 ({"credentialsType": "NOPE"}, "Invalid credentialsType"),
                                 (None, "Device credentials should be specified!")):
        body = {"device": {"name": "atomic"}, "credentials": credentials}
        assert_error(api.post("/api/device-with-credentials", body, format="json"), 400, message)
    assert Device.objects.count() == count and not Device.objects.filter(name="atomic").exists()
    assert not AuditLog.objects.filter(action_type="ADDED", action_status="SUCCESS", entity_name="atomic").exists()
    assert AuditLog.objects.filter(action_type="ADDED", action_status="FAILURE", entity_name="atomic").count() == 4
    assert_error(api.post("/api/device-with-credentials", {"credentials": {}}, format="json"), 400, "device")
    make_device(tenant, "dup")
    dup = {"device": {"name": "dup"}, "credentials": {"credentialsType": "ACCESS_TOKEN", "credentialsId": "dup-1"}}
    assert_error(api.post("/api/device-with-credentials", dup, format="json"), 400, "already exists")
    assert not DeviceCredentials.objects.filter(credentials_id="dup-1").exists()
    assert customer_api.post("/api/device-with-credentials", dup, format="json").status_code == 403


# --- admin ----------------------------------------------------------------------------------------

def test_the_admin_shows_credentials_read_only_and_still_deletes_devices(client, tenant_admin, tenant):
    client.force_login(tenant_admin)
    device = make_device(tenant, "to-delete")
    row = device.credentials
    base = "/admin/devices/devicecredentials/"
    assert client.get(base).status_code == 200 and client.get(f"{base}{row.pk}/change/").status_code == 200
    assert client.get(f"{base}add/").status_code == 403
    assert client.get(f"{base}{row.pk}/delete/").status_code == 403
    assert client.post(f"/admin/devices/device/{device.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not Device.objects.filter(pk=device.pk).exists() and not DeviceCredentials.objects.filter(pk=row.pk).exists()


def test_the_audit_log_keeps_no_credentials_secret(api, client, tenant_admin, tenant):
    """Every secret of every credentials type is masked in CREDENTIALS_UPDATED rows (API and admin)."""
    device = make_device(tenant, "d")
    mark = "5ecret"
    psk, rpk = "a" * 31 + "5", f"rpk-{mark}-key"
    server = {"securityMode": "PSK", "clientPublicKeyOrId": "server-id", "clientSecretKey": f"{mark}-bs",
              "serverPublicKey": ""}
    lwm2m_psk = {"client": {"endpoint": "ep", "securityConfigClientMode": "PSK", "identity": "psk-id", "key": psk},
                 "bootstrap": {"bootstrapServer": server, "lwm2mServer": {**server, "clientSecretKey": f"{mark}-lw"}}}
    lwm2m_rpk = {**lwm2m_psk, "client": {"endpoint": "ep-2", "securityConfigClientMode": "RPK", "key": rpk}}
    posts = [dict(credentialsType="ACCESS_TOKEN", credentialsId=f"tok-{mark}"),
             dict(credentialsType="MQTT_BASIC", credentialsValue={"userName": "u", "password": f"pw-{mark}"}),
             dict(credentialsType="LWM2M_CREDENTIALS", credentialsValue=json.dumps(lwm2m_psk)),
             dict(credentialsType="LWM2M_CREDENTIALS", credentialsValue=lwm2m_rpk)]
    for body in posts:
        assert post_credentials(api, device, **body).status_code == 200, body
    rows = AuditLog.objects.filter(action_type="CREDENTIALS_UPDATED").order_by("created_time")
    assert rows.count() == 4
    shown = [row.action_data["credentials"] for row in rows]
    for credentials in shown:
        text = json.dumps(credentials)
        assert mark not in text and psk not in text, text
    assert shown[0]["credentialsId"] == "******"
    assert json.loads(shown[1]["credentialsValue"]) == {"clientId": None, "userName": "u", "password": "******"}
    kept = json.loads(shown[2]["credentialsValue"])
    assert kept["client"] == {**lwm2m_psk["client"], "key": "******"}  # the identity is not a secret
    assert kept["bootstrap"]["lwm2mServer"]["clientSecretKey"] == "******"
    assert kept["bootstrap"]["bootstrapServer"]["clientPublicKeyOrId"] == "server-id"
    assert json.loads(shown[3]["credentialsValue"])["client"]["key"] == "******"
    logs = api.get("/api/audit/logs", {"pageSize": 100, "page": 0})
    assert logs.status_code == 200 and mark not in logs.content.decode() and psk not in logs.content.decode()
    client.force_login(tenant_admin)
    for row in rows:
        page = client.get(f"/admin/audit/auditlog/{row.pk}/change/").content.decode()
        assert mark not in page and psk not in page
