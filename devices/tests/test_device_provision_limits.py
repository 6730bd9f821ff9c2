"""What bounds anonymous provisioning (POST /api/v1/provision): the tenant profile's ``maxDevices`` (enforced
for every way of making a device, devices/device_quota.py, with ThingsBoard's "Devices limit reached"), and
rate limits per client address and per provision key (tenants/limits/device_attempts.py, 429 as the device
API answers); and the bad input that must not be a 500 on PostgreSQL (run these with DATABASE_URL too)."""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from converters.output import EntityUpdate
from devices import device_provision
from devices.api import device_http
from devices.device_quota import DevicesLimitReached
from devices.models import Device
from devices.provisioning import Provisioner
from tbproject.testing.factories import make_device
from tbproject.testing.limits import limit_tenant

KEY, SECRET = "quota-key-1", "quota-secret-1"
FAILURE = {"errorMsg": "Failed to provision device!", "status": "FAILURE"}
NOT_FOUND = {"errorMsg": "Provision data was not found!", "status": "NOT_FOUND"}


@pytest.fixture(autouse=True)
def no_cached_tokens():
    device_http._TOKENS.forget()


@pytest.fixture
def no_rate_limits(settings):
    settings.DEVICE_PROVISION_PER_CLIENT_RATE_LIMIT = ""
    settings.DEVICE_PROVISION_PER_KEY_RATE_LIMIT = ""


def profile_json(name="Provisioned", key=KEY, secret=SECRET) -> dict:
    kind = "ALLOW_CREATE_NEW_DEVICES"
    return {"name": name, "type": "DEFAULT", "transportType": "DEFAULT", "provisionType": kind,
            "provisionDeviceKey": key,
            "profileData": {"configuration": {"type": "DEFAULT"}, "transportConfiguration": {"type": "DEFAULT"},
                            "provisionConfiguration": {"type": kind, "provisionDeviceSecret": secret}}}


@pytest.fixture
def allow_new(api):
    res = api.post("/api/deviceProfile", profile_json(), format="json")
    assert res.status_code == 200, res.content
    return res.json()


def provision(client, ip="10.1.0.1", **body):
    body = {"provisionDeviceKey": KEY, "provisionDeviceSecret": SECRET, **body}
    return client.post("/api/v1/provision", json.dumps(body), content_type="application/json", REMOTE_ADDR=ip)


# --- maxDevices ---------------------------------------------------------------------------------------------


def test_provisioning_stops_at_the_tenant_profiles_max_devices(client, tenant, allow_new, no_rate_limits):
    limit_tenant(tenant, maxDevices=3)
    make_device(tenant, "already-there")
    answers = [provision(client, deviceName=f"q-{i}").json()["status"] for i in range(5)]
    assert answers == ["SUCCESS", "SUCCESS", "FAILURE", "FAILURE", "FAILURE"]
    assert Device.objects.filter(tenant=tenant).count() == 3
    assert not Device.objects.filter(name="q-2").exists()


def test_the_rest_api_refuses_a_device_past_max_devices_with_thingsboards_text(api, tenant):
    limit_tenant(tenant, maxDevices=1)
    assert api.post("/api/device", {"name": "first"}, format="json").status_code == 200
    res = api.post("/api/device", {"name": "second"}, format="json")
    assert res.status_code == 400
    assert res.json()["message"] == "Devices limit reached"
    assert list(Device.objects.filter(tenant=tenant).values_list("name", flat=True)) == ["first"]


def test_updating_a_device_is_not_creating_one(api, tenant):
    first = api.post("/api/device", {"name": "first"}, format="json").json()
    limit_tenant(tenant, maxDevices=1)
    res = api.post("/api/device", {**first, "label": "changed"}, format="json")
    assert res.status_code == 200, res.content


def test_no_limit_when_unset_or_zero(api, tenant):
    limit_tenant(tenant, maxDevices=0)
    for i in range(3):
        assert api.post("/api/device", {"name": f"free-{i}"}, format="json").status_code == 200


def _update(name):
    return EntityUpdate(entity_type="DEVICE", name=name, profile="sensor")


def test_integration_auto_provisioning_stops_at_max_devices_too(tenant):
    limit_tenant(tenant, maxDevices=2)
    updates = [_update(f"auto-{i}") for i in range(4)]
    provisioner = Provisioner(tenant.pk, allow_create=True)
    provisioner.prefetch(updates)  # the batch INSERT is refused whole, the entities are made one by one
    made, refused = [], []
    for update in updates:
        try:
            made.append(provisioner.entity(update).name)
        except ValueError as e:  # the uplink pipeline fails that message with the text
            refused.append(str(e))
    assert made == ["auto-0", "auto-1"]
    assert refused == ["Devices limit reached"] * 2
    assert Device.objects.filter(tenant=tenant).count() == 2


def test_a_script_saving_in_autocommit_keeps_no_device_past_the_limit(transactional_db, tenant):
    limit_tenant(tenant, maxDevices=1)
    make_device(tenant, "one")
    with pytest.raises(DevicesLimitReached):
        make_device(tenant, "two")
    assert list(Device.objects.filter(tenant=tenant).values_list("name", flat=True)) == ["one"]


def test_another_tenants_limit_does_not_count_here(client, tenant, other_tenant, allow_new, no_rate_limits):
    limit_tenant(other_tenant, maxDevices=1)
    make_device(other_tenant, "theirs")
    assert provision(client, deviceName="ours-1").json()["status"] == "SUCCESS"
    assert provision(client, deviceName="ours-2").json()["status"] == "SUCCESS"


# --- rate limits --------------------------------------------------------------------------------------------


def test_wrong_secrets_from_one_client_get_429_with_retry_after(client, allow_new, settings):
    assert settings.DEVICE_PROVISION_PER_CLIENT_RATE_LIMIT == "10:60"
    answers = [provision(client, provisionDeviceSecret=f"guess-{i}") for i in range(300)]
    assert [a.json() for a in answers[:10]] == [NOT_FOUND] * 10
    refused = answers[10]
    assert refused.status_code == 429
    assert refused.json()["errorCode"] == 33 and refused.json()["status"] == 429
    assert int(refused["Retry-After"]) >= 1
    assert all(a.status_code == 429 for a in answers[10:])
    # the right secret from that client waits too; another client is served
    assert provision(client, deviceName="late").status_code == 429
    assert provision(client, ip="10.1.0.2", deviceName="elsewhere").json()["status"] == "SUCCESS"


def test_an_ipv6_client_counts_by_its_64(client, allow_new, settings):
    settings.DEVICE_PROVISION_PER_CLIENT_RATE_LIMIT = "2:60"
    assert provision(client, ip="2001:db8::1", provisionDeviceSecret="x").status_code == 200
    assert provision(client, ip="2001:db8::2", provisionDeviceSecret="x").status_code == 200
    assert provision(client, ip="2001:db8::3", provisionDeviceSecret="x").status_code == 429


def test_one_key_is_limited_across_clients_and_unknown_keys_alike(client, allow_new, settings):
    settings.DEVICE_PROVISION_PER_CLIENT_RATE_LIMIT = ""
    settings.DEVICE_PROVISION_PER_KEY_RATE_LIMIT = "3:60"
    statuses = [provision(client, ip=f"10.2.0.{i}", deviceName=f"k-{i}").status_code for i in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    assert Device.objects.filter(name__startswith="k-").count() == 3
    unknown = [provision(client, ip=f"10.3.0.{i}", provisionDeviceKey="nope").status_code for i in range(4)]
    assert unknown == [200, 200, 200, 429]  # a refusal tells nothing about which keys exist


def test_a_client_refused_takes_nothing_from_the_key(client, allow_new, settings):
    settings.DEVICE_PROVISION_PER_CLIENT_RATE_LIMIT = "1:60"
    settings.DEVICE_PROVISION_PER_KEY_RATE_LIMIT = "2:60"
    assert provision(client, deviceName="a").status_code == 200
    assert [provision(client, deviceName=f"b{i}").status_code for i in range(3)] == [429] * 3
    assert provision(client, ip="10.9.9.9", deviceName="c").json()["status"] == "SUCCESS"


def test_a_request_without_a_key_is_a_400_and_not_counted(client, allow_new, settings):
    settings.DEVICE_PROVISION_PER_CLIENT_RATE_LIMIT = "1:60"
    body = json.dumps({"provisionDeviceSecret": SECRET})
    for _ in range(3):
        assert client.post("/api/v1/provision", body, content_type="application/json").status_code == 400
    assert provision(client, ip="127.0.0.1", deviceName="d").json()["status"] == "SUCCESS"


# --- bad input ----------------------------------------------------------------------------------------------


def test_a_device_name_no_column_holds_is_thingsboards_failure(client, tenant, allow_new, no_rate_limits):
    res = provision(client, deviceName="n" * 300)
    assert (res.status_code, res.json()) == (200, FAILURE)
    assert provision(client, deviceName="n" * 255).json()["status"] == "SUCCESS"
    assert not Device.objects.filter(name="n" * 300).exists()


def test_credentials_no_column_holds_are_failure(client, allow_new, no_rate_limits):
    res = provision(client, deviceName="long-creds", credentialsType="MQTT_BASIC", clientId="c" * 300,
                    username="u" * 300, password="p" * 300)
    assert res.status_code == 200 and res.json()["status"] in ("SUCCESS", "FAILURE")
    res = provision(client, deviceName="long-token", token="t" * 300)
    assert (res.status_code, res.json()) == (200, FAILURE)


@pytest.mark.postgres
def test_concurrent_provisioning_cannot_pass_the_limit_together(transactional_db, tenant, api):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (SQLite writes one transaction at a time)")
    assert api.post("/api/deviceProfile", profile_json(), format="json").status_code == 200
    limit_tenant(tenant, maxDevices=3)

    def one(i):
        try:
            request = device_provision.ProvisionRequest(key=KEY, secret=SECRET, device_name=f"race-{i}")
            return device_provision.provision(request)["status"]
        finally:
            connections.close_all()

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(one, range(8)))
    assert sorted(statuses) == ["FAILURE"] * 5 + ["SUCCESS"] * 3
    assert Device.objects.filter(tenant=tenant).count() == 3


def test_the_admin_says_the_limit_is_reached_instead_of_a_500(client, tenant_admin, tenant):
    from tbproject.testing.factories import default_profile

    limit_tenant(tenant, maxDevices=1)
    make_device(tenant, "first")
    client.force_login(tenant_admin)
    data = {"name": "second", "label": "", "customer": "", "additional_info": "{}",
            "profile": default_profile(tenant).pk}
    res = client.post("/admin/devices/device/add/", data, follow=True)
    assert res.status_code == 200 and "Devices limit reached" in res.content.decode()
    assert not Device.objects.filter(tenant=tenant, name="second").exists()
