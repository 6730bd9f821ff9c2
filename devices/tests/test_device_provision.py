"""Device provisioning over HTTP (POST /api/v1/provision) by the device profile's strategy, with
ThingsBoard's answers; the profile JSON keeps provisionType / provisionDeviceKey / profileData as
ThingsBoard clients send them, and a key is unique on the whole server."""

import json

import pytest

from devices.api import device_http
from devices.attributes import attribute_values
from devices.choices import AttributeScope
from devices.models import Device, DeviceCredentials, DeviceProfile
from tbproject.testing.factories import make_device

KEY, SECRET = "prov-key-1", "prov-secret-1"
NOT_FOUND = {"errorMsg": "Provision data was not found!", "status": "NOT_FOUND"}
FAILURE = {"errorMsg": "Failed to provision device!", "status": "FAILURE"}


@pytest.fixture(autouse=True)
def no_cached_tokens():
    device_http._TOKENS.forget()


def profile_json(name: str, kind: str, key: str | None = KEY, secret: str | None = SECRET) -> dict:
    """A device profile as ThingsBoard's UI saves it."""
    return {"name": name, "type": "DEFAULT", "transportType": "DEFAULT", "provisionType": kind,
            "provisionDeviceKey": key,
            "profileData": {"configuration": {"type": "DEFAULT"}, "transportConfiguration": {"type": "DEFAULT"},
                            "provisionConfiguration": {"type": kind, "provisionDeviceSecret": secret}}}


def save_profile(api, name: str, kind: str, **extra) -> dict:
    res = api.post("/api/deviceProfile", profile_json(name, kind, **extra), format="json")
    assert res.status_code == 200, res.content
    return res.json()


def provision(client, body, raw=False):
    res = client.post("/api/v1/provision", body if raw else json.dumps(body), content_type="application/json")
    return res.status_code, (res.json() if res.status_code == 200 else res.content)


def request(name="prov-dev-1", **extra) -> dict:
    return {"deviceName": name, "provisionDeviceKey": KEY, "provisionDeviceSecret": SECRET, **extra}


@pytest.fixture
def allow_new(api):
    return save_profile(api, "Provisioned sensors", "ALLOW_CREATE_NEW_DEVICES")


def test_the_profile_json_round_trips_the_provision_fields_and_fills_the_column(api, allow_new):
    assert allow_new["provisionType"] == "ALLOW_CREATE_NEW_DEVICES" and allow_new["provisionDeviceKey"] == KEY
    assert allow_new["profileData"]["provisionConfiguration"] == {"type": "ALLOW_CREATE_NEW_DEVICES",
                                                                  "provisionDeviceSecret": SECRET}
    assert DeviceProfile.objects.get(pk=allow_new["id"]["id"]).provision_device_key == KEY
    again = api.get(f"/api/deviceProfile/{allow_new['id']['id']}").json()
    assert again["provisionDeviceKey"] == KEY
    assert DeviceProfile.objects.get(name="default", tenant__title="Alice Corp").provision_device_key is None


def test_a_provision_key_is_unique_on_the_whole_server(api, mallory_api, allow_new):
    res = mallory_api.post("/api/deviceProfile", profile_json("Mallory's", "ALLOW_CREATE_NEW_DEVICES"), format="json")
    assert res.status_code == 400
    assert res.json()["message"] == "Device profile with such provision device key already exists!"
    assert api.post("/api/deviceProfile", {**allow_new, "description": "re-saved"}, format="json").status_code == 200


def test_it_creates_a_device_with_a_new_access_token(client, allow_new, tenant):
    status, answer = provision(client, request())
    assert status == 200 and answer["status"] == "SUCCESS" and answer["credentialsType"] == "ACCESS_TOKEN"
    device = Device.objects.get(tenant=tenant, name="prov-dev-1")
    assert str(device.profile_id) == allow_new["id"]["id"]
    assert DeviceCredentials.objects.get(device=device).credentials_id == answer["credentialsValue"]
    assert attribute_values([device.pk], AttributeScope.SERVER_SCOPE,
                            ["provisionState"])[(device.pk, "provisionState")][1] == "provisioned"
    token = answer["credentialsValue"]
    assert client.post(f"/api/v1/{token}/telemetry", '{"t": 1}', content_type="application/json").status_code == 200
    # the same name once more: the device is there already
    assert provision(client, request()) == (200, FAILURE)


def test_it_names_a_device_that_sent_no_name_and_takes_the_credentials_it_brings(client, allow_new, tenant):
    status, answer = provision(client, {"provisionDeviceKey": KEY, "provisionDeviceSecret": SECRET,
                                        "credentialsType": "ACCESS_TOKEN", "token": "my-own-token-1"})
    assert (status, answer) == (200, {"credentialsType": "ACCESS_TOKEN", "credentialsValue": "my-own-token-1",
                                      "status": "SUCCESS"})
    device = DeviceCredentials.objects.get(credentials_id="my-own-token-1").device
    assert len(device.name) == 20 and device.tenant_id == tenant.pk
    status, answer = provision(client, request("mqtt-dev", credentialsType="MQTT_BASIC", clientId="c1",
                                               username="u1", password="p1"))
    assert answer == {"credentialsType": "MQTT_BASIC", "status": "SUCCESS",
                      "credentialsValue": {"clientId": "c1", "userName": "u1", "password": "p1"}}


def test_credentials_it_cannot_take_fail_and_leave_no_device(client, allow_new, tenant):
    make_device(tenant, "holder")
    taken = DeviceCredentials.objects.get(device__name="holder").credentials_id
    assert provision(client, request("dup-token", token=taken)) == (200, FAILURE)
    assert provision(client, request("spaced", token="has spaces")) == (200, FAILURE)
    assert not Device.objects.filter(name__in=["dup-token", "spaced"]).exists()
    assert provision(client, request("  ")) == (200, FAILURE)  # a name of spaces only


def test_pre_provisioned_devices_are_provisioned_once(api, client, tenant):
    profile = save_profile(api, "Pre-made", "CHECK_PRE_PROVISIONED_DEVICES")
    device = make_device(tenant, "pre-1", profile=DeviceProfile.objects.get(pk=profile["id"]["id"]))
    token = DeviceCredentials.objects.get(device=device).credentials_id
    assert provision(client, request("pre-1")) == (200, {"credentialsType": "ACCESS_TOKEN", "credentialsValue": token,
                                                         "status": "SUCCESS"})
    assert provision(client, request("pre-1")) == (200, FAILURE)  # provisioned already
    assert provision(client, request("not-made")) == (200, FAILURE)
    make_device(tenant, "other-profile")  # the tenant's default profile
    assert provision(client, request("other-profile")) == (200, FAILURE)
    assert provision(client, {"provisionDeviceKey": KEY, "provisionDeviceSecret": SECRET}) == (200, FAILURE)


def test_disabled_profiles_wrong_secrets_and_unknown_keys_are_not_found(api, client, allow_new):
    assert provision(client, request(provisionDeviceSecret="wrong")) == (200, NOT_FOUND)
    assert provision(client, request(provisionDeviceKey="nobody's")) == (200, NOT_FOUND)
    assert provision(client, request(provisionDeviceKey="", provisionDeviceSecret="")) == (200, NOT_FOUND)
    save_profile(api, "Off", "DISABLED", key="off-key")
    assert provision(client, request(provisionDeviceKey="off-key")) == (200, NOT_FOUND)
    save_profile(api, "No secret", "ALLOW_CREATE_NEW_DEVICES", key="no-secret", secret=None)
    assert provision(client, request(provisionDeviceKey="no-secret", provisionDeviceSecret="x")) == (200, NOT_FOUND)
    assert not Device.objects.filter(name="prov-dev-1").exists()


def test_a_foreign_tenants_device_of_that_name_does_not_matter(client, allow_new, tenant, other_tenant):
    make_device(other_tenant, "shared-name")
    status, answer = provision(client, request("shared-name"))
    assert answer["status"] == "SUCCESS"
    assert Device.objects.filter(name="shared-name").count() == 2
    assert Device.objects.get(name="shared-name", tenant=tenant).profile.name == "Provisioned sensors"


@pytest.mark.parametrize("body", [
    b"not json", b"[1]", b'"text"',
    json.dumps({"provisionDeviceSecret": SECRET}).encode(),
    json.dumps({"provisionDeviceKey": KEY}).encode(),
    json.dumps({**request(), "credentialsType": "PIGEON"}).encode(),
    json.dumps({**request(), "deviceName": {"a": 1}}).encode(),
    json.dumps({**request(), "provisionDeviceKey": None}).encode(),
])
def test_it_answers_400_for_a_body_thingsboard_refuses(client, allow_new, body):
    status, content = provision(client, body, raw=True)
    assert status == 400 and json.loads(content)["message"]
    assert not Device.objects.filter(name="prov-dev-1").exists()


def test_only_post(client, db):
    assert client.get("/api/v1/provision").status_code == 405


@pytest.fixture
def rule_engine(monkeypatch):
    """What reaches the rule engine (handoff's connected entry points), as if its root chain acted on all."""
    from integrations import handoff

    submitted = []
    monkeypatch.setattr(handoff, "_engine", (lambda tenant_id, kind: True, submitted.extend))
    return submitted


def test_each_outcome_about_a_device_goes_to_the_rule_engine_as_thingsboards_message(client, allow_new, tenant,
                                                                                      rule_engine):
    status, answer = provision(client, request(credentialsType="MQTT_BASIC", clientId="c1", username="u1",
                                               password="p1"))
    assert answer["status"] == "SUCCESS"
    device = Device.objects.get(tenant=tenant, name="prov-dev-1")
    [msg] = rule_engine
    assert (msg.msg_type, msg.tenant_id, msg.originator_type, msg.originator_id) == (
        "PROVISION_SUCCESS", tenant.pk, "DEVICE", device.pk)
    assert msg.metadata == {"tenantId": str(tenant.pk)}
    # ThingsBoard's ProvisionRequest, less the provision secret and the password
    assert msg.data == {"deviceName": "prov-dev-1", "credentialsType": "MQTT_BASIC",
                        "credentials": {"provisionDeviceKey": KEY},
                        "credentialsData": {"token": None, "clientId": "c1", "username": "u1", "x509CertHash": None}}
    assert SECRET not in json.dumps(msg.data) and "p1" not in json.dumps(msg.data)
    rule_engine.clear()
    assert provision(client, request()) == (200, FAILURE)  # there already
    assert [(m.msg_type, m.originator_id) for m in rule_engine] == [("PROVISION_FAILURE", device.pk)]


def test_pre_provisioned_outcomes_go_to_the_rule_engine_and_no_device_sends_nothing(api, client, tenant, rule_engine):
    profile = save_profile(api, "Pre-made", "CHECK_PRE_PROVISIONED_DEVICES")
    device = make_device(tenant, "pre-1", profile=DeviceProfile.objects.get(pk=profile["id"]["id"]))
    provision(client, request("pre-1"))
    provision(client, request("pre-1"))
    assert [(m.msg_type, m.originator_id) for m in rule_engine] == [("PROVISION_SUCCESS", device.pk),
                                                                    ("PROVISION_FAILURE", device.pk)]
    rule_engine.clear()
    provision(client, request("not-made"))
    provision(client, request("pre-1", provisionDeviceSecret="wrong"))
    assert rule_engine == []
