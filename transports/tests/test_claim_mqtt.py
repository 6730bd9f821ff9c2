"""Device claiming over MQTT (v1/devices/me/claim) with a real client on a real socket: the claim it opens is
the one the device HTTP API opens (devices/claiming.py), claimed by a customer user through the REST API with
the same answers; a payload the HTTP API refuses is dropped and the session stays up."""

import logging

import pytest

from devices.models import Device
from tbproject.testing.factories import make_customer, make_device
from tbproject.testing.fixtures import api_as
from tenants.choices import Authority
from tenants.models import User
from transports.tests.conftest import token

CLAIM = "v1/devices/me/claim"


@pytest.fixture
def device(tenant):
    return make_device(tenant, "mqtt-claim-me")


def claim(api, body, name="mqtt-claim-me"):
    return api.post(f"/api/customer/device/{name}/claim", body, format="json")


def test_a_claim_opened_over_mqtt_is_claimed_by_a_customer_user_with_the_key(customer_api, customer, device, clients):
    client = clients(token(device))
    client.publish(CLAIM, {"secretKey": "s3cret", "durationMs": 60000})
    client.request_attributes()  # handled in order: the claim is open now
    assert (claim(customer_api, {"secretKey": "wrong"}).status_code, Device.objects.get(pk=device.pk).customer_id) \
        == (400, None)
    client.publish(CLAIM, {"secretKey": "s3cret", "durationMs": 60000})  # the wrong key dropped the claim
    client.request_attributes()
    res = claim(customer_api, {"secretKey": "s3cret"})
    assert res.status_code == 200 and res.json()["response"] == "SUCCESS"
    assert Device.objects.get(pk=device.pk).customer_id == customer.pk
    assert (claim(customer_api, {"secretKey": "s3cret"}).status_code, claim(customer_api, {}).json()) \
        == (400, "CLAIMED")


def test_an_empty_payload_opens_a_claim_with_an_empty_key(customer_api, customer, device, clients):
    client = clients(token(device))
    client.publish(CLAIM, b"")
    client.request_attributes()
    assert claim(customer_api, {}).json()["response"] == "SUCCESS"


def test_another_tenants_customer_never_reaches_the_device(customer_api, mallory_api, other_tenant, device, clients):
    client = clients(token(device))
    client.publish(CLAIM, {"secretKey": "k"})
    client.request_attributes()
    foreign_customer = make_customer(other_tenant, "Mallory's customer")
    foreign = User.objects.create_user("eve@example.com", "secret-pass-1", authority=Authority.CUSTOMER_USER,
                                       tenant=other_tenant, customer=foreign_customer)
    assert claim(api_as(foreign), {"secretKey": "k"}).status_code == 404
    assert claim(mallory_api, {"secretKey": "k"}).status_code == 404
    assert Device.objects.get(pk=device.pk).customer_id is None
    assert claim(customer_api, {"secretKey": "k"}).json()["response"] == "SUCCESS"  # the claim was left open


def test_claiming_not_allowed_opens_nothing(settings, customer_api, device, clients):
    settings.SECURITY_CLAIM_ALLOW_CLAIMING_BY_DEFAULT = False
    client = clients(token(device))
    client.publish(CLAIM, {"secretKey": "k"})
    client.request_attributes()
    assert (claim(customer_api, {"secretKey": "k"}).status_code, claim(customer_api, {"secretKey": "k"}).json()) \
        == (400, "FAILURE")


@pytest.mark.parametrize("payload", [b"{not json", b"[1, 2]", b'{"secretKey": {"a": 1}}', b'{"durationMs": "soon"}',
                                     b"\xff\xfe", b'{"secretKey": "a\\u0000b"}'])
def test_payloads_the_http_api_refuses_are_dropped_and_the_session_stays_up(customer_api, device, clients, caplog,
                                                                           payload):
    client = clients(token(device))
    with caplog.at_level(logging.DEBUG, logger="transports.mqtt.session"):
        client.publish(CLAIM, payload)
        assert client.request_attributes() == {}  # still served
    assert any("dropped" in r.getMessage() and CLAIM in r.getMessage() for r in caplog.records)
    assert claim(customer_api, {}).json() == "FAILURE"  # no claim was opened
    client.publish(CLAIM, {"secretKey": "ok"})
    client.request_attributes()
    assert claim(customer_api, {"secretKey": "ok"}).json()["response"] == "SUCCESS"


def test_an_oversize_claim_closes_only_that_connection(device, clients, transport):
    other = clients(token(make_device(device.tenant, "bystander")))
    client = clients(token(device))
    client.publish(CLAIM, {"secretKey": "x" * (transport.server.max_bytes + 10)})
    assert client.disconnected.wait(20)
    assert other.request_attributes() == {}
