"""Device provisioning over MQTT with a real client on a real socket, as ThingsBoard's MQTT example and SDK do it:
CONNECT as ``provision``, subscribe /provision/response, publish /provision/request, read ThingsBoard's answer
(the HTTP API's: devices/device_provision.py); such a session may do nothing else and is bounded."""

import json

import pytest

from devices.models import Device, DeviceCredentials
from devices.tests.test_device_provision import KEY, SECRET, save_profile
from tbproject.testing.factories import make_device
from transports.mqtt import provision
from transports.tests.mqtt_client import BOUND, DeviceClient

REQUEST, RESPONSE = "/provision/request", "/provision/response"
NOT_FOUND = {"errorMsg": "Provision data was not found!", "status": "NOT_FOUND"}


@pytest.fixture
def allow_new(api):
    return save_profile(api, "MQTT provisioned", "ALLOW_CREATE_NEW_DEVICES")


def request(name="mqtt-prov-1", **extra) -> dict:
    return {"deviceName": name, "provisionDeviceKey": KEY, "provisionDeviceSecret": SECRET, **extra}


def provisioning(clients, **kwargs) -> DeviceClient:
    client = clients(kwargs.pop("username", "provision"), **kwargs)
    assert client.subscribe(RESPONSE) == (1,)
    return client


def ask(client: DeviceClient, body) -> dict:
    client.publish(REQUEST, body)
    topic, answer = client.message()
    assert topic == RESPONSE
    return answer


def test_a_new_device_gets_an_access_token_it_then_connects_with(allow_new, tenant, clients):
    answer = ask(provisioning(clients), request())
    assert answer["status"] == "SUCCESS" and answer["credentialsType"] == "ACCESS_TOKEN"
    device = Device.objects.get(tenant=tenant, name="mqtt-prov-1")
    assert answer == {"credentialsValue": DeviceCredentials.objects.get(device=device).credentials_id,
                      "credentialsType": "ACCESS_TOKEN", "status": "SUCCESS"}
    assert device.profile_id is not None and str(device.profile_id) == allow_new["id"]["id"]
    client = clients(answer["credentialsValue"])
    client.publish("v1/devices/me/attributes", {"provisioned": True})
    assert client.request_attributes() == {"client": {"provisioned": True}}


def test_mqtt_basic_credentials_are_taken_and_answered_as_an_object(allow_new, clients):
    answer = ask(provisioning(clients), request(credentialsType="MQTT_BASIC", clientId="cid-9", username="user-9",
                                                password="pass-9"))
    assert answer == {"credentialsType": "MQTT_BASIC", "status": "SUCCESS",
                      "credentialsValue": {"clientId": "cid-9", "userName": "user-9", "password": "pass-9"}}
    assert clients("user-9", "pass-9", "cid-9").request_attributes() == {}


def test_the_client_id_provision_opens_such_a_session_too(allow_new, clients):
    client = clients("any-user", "any-password", "provision")
    assert ask(client, request("by-client-id"))["status"] == "SUCCESS"


def test_wrong_secrets_and_unknown_keys_are_not_found_and_make_nothing(allow_new, tenant, clients):
    client = provisioning(clients)
    assert ask(client, request(provisionDeviceSecret="wrong")) == NOT_FOUND
    assert ask(client, request(provisionDeviceKey="no-such-profile-key")) == NOT_FOUND
    assert not Device.objects.filter(tenant=tenant, name="mqtt-prov-1").exists()


def test_an_existing_name_fails_as_thingsboard_answers(allow_new, tenant, clients):
    make_device(tenant, "taken-name")
    answer = ask(provisioning(clients), request("taken-name"))
    assert answer == {"errorMsg": "Failed to provision device!", "status": "FAILURE"}


@pytest.mark.parametrize(("payload", "why"), [
    (b"{not json", "not JSON"), (b"[1]", "JSON object"), (b"\xff", "UTF-8"),
    (json.dumps({"deviceName": "x", "provisionDeviceKey": KEY}).encode(), "provisionDeviceSecret"),
    (json.dumps(request(credentialsType="PIGEON")).encode(), "credentialsType"),
])
def test_malformed_requests_get_a_failure_saying_why(allow_new, tenant, clients, payload, why):
    client = provisioning(clients)
    answer = ask(client, payload)
    assert answer["status"] == "FAILURE" and why in answer["errorMsg"]
    assert ask(client, request("after-a-bad-one"))["status"] == "SUCCESS"  # the session was not lost


def test_a_provisioning_session_may_publish_nothing_else(allow_new, tenant, clients):
    client = provisioning(clients)
    assert client.subscribe("v1/devices/me/attributes") == (128,)  # SUBACK's failure code
    device = make_device(tenant, "victim")
    client.publish("v1/devices/me/telemetry", {"temperature": 99})
    assert client.disconnected.wait(BOUND)
    other = clients(DeviceCredentials.objects.get(device=device).credentials_id)
    assert other.request_attributes() == {}


def test_it_answers_only_so_many_requests(allow_new, clients):
    client = provisioning(clients)
    for i in range(provision.MAX_REQUESTS):
        assert ask(client, request(provisionDeviceSecret=f"guess-{i}")) == NOT_FOUND
    client.publish(REQUEST, request())
    assert client.disconnected.wait(BOUND)
    assert client.received.empty()


def test_a_session_lasts_only_so_long(allow_new, clients, monkeypatch):
    monkeypatch.setattr(provision, "SESSION_S", 0.2)
    client = clients("provision")
    assert client.disconnected.wait(BOUND)


def test_an_oversize_request_closes_the_connection(allow_new, tenant, clients, transport):
    client = provisioning(clients)
    client.publish(REQUEST, request("x" * (transport.server.max_bytes + 10)))
    assert client.disconnected.wait(BOUND)
    assert not Device.objects.filter(tenant=tenant).exclude(name="mqtt-prov-1").filter(name__startswith="x").exists()


def test_requests_past_the_per_client_limit_fail_saying_so(allow_new, tenant, clients, settings):
    settings.DEVICE_PROVISION_PER_CLIENT_RATE_LIMIT = "1:3600"
    client = provisioning(clients)
    assert ask(client, request(provisionDeviceSecret="wrong")) == NOT_FOUND
    answer = ask(client, request())
    assert answer["status"] == "FAILURE" and "Too many" in answer["errorMsg"]
    assert not Device.objects.filter(tenant=tenant, name="mqtt-prov-1").exists()
