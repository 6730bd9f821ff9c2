"""Device claiming: the device opens a claim (POST /api/v1/{token}/claim), a customer user claims it
by name and secret key (POST /api/customer/device/{name}/claim), a tenant administrator or the owning
customer gives it back (DELETE), with ThingsBoard's answers and rules."""

import json

import pytest

from devices import claiming
from devices.api import device_http
from devices.attributes import attribute_values, save_attributes
from devices.choices import AttributeScope
from devices.models import Device, DeviceCredentials
from tbproject.clock import now_ms
from tbproject.testing.factories import make_customer, make_device
from tbproject.testing.fixtures import api_as
from tenants.choices import Authority
from tenants.models import User

SERVER = AttributeScope.SERVER_SCOPE


@pytest.fixture(autouse=True)
def no_cached_tokens():
    device_http._TOKENS.forget()


@pytest.fixture
def device(tenant):
    return make_device(tenant, "claim-me")


@pytest.fixture
def token(device):
    return DeviceCredentials.objects.get(device=device).credentials_id


def device_claims(client, token, body="", content_type="application/json"):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(f"/api/v1/{token}/claim", data, content_type=content_type)


def claim(api, name="claim-me", body=None):
    return api.post(f"/api/customer/device/{name}/claim", body if body is not None else {}, format="json")


def test_a_customer_user_claims_a_device_that_asked_with_the_right_key(client, customer_api, device, token, customer):
    res = device_claims(client, token, {"secretKey": "s3cret", "durationMs": 60_000})
    assert (res.status_code, res.content) == (200, b"")
    res = claim(customer_api, body={"secretKey": "s3cret"})
    assert res.status_code == 200
    assert res.json()["response"] == "SUCCESS"
    assert res.json()["device"]["name"] == "claim-me"
    assert res.json()["device"]["customerId"] == {"entityType": "CUSTOMER", "id": str(customer.pk)}
    device.refresh_from_db()
    assert device.customer_id == customer.pk
    # claimed now: once more is CLAIMED, the bare ClaimResponse with a 400 as ThingsBoard answers
    res = claim(customer_api, body={"secretKey": "s3cret"})
    assert (res.status_code, res.json()) == (400, "CLAIMED")


def test_an_empty_body_opens_a_claim_with_an_empty_key_for_the_default_duration(client, customer_api, device, token,
                                                                                 monkeypatch, settings):
    settings.SECURITY_CLAIM_DURATION = 5_000
    assert device_claims(client, token).status_code == 200
    monkeypatch.setattr(claiming, "now_ms", lambda: now_ms() + 60_000)  # past the default duration
    res = claim(customer_api)
    assert (res.status_code, res.json()) == (400, "FAILURE")
    assert Device.objects.get(pk=device.pk).customer_id is None


def test_a_claim_expires_after_its_duration(client, customer_api, device, token, monkeypatch):
    assert device_claims(client, token, {"durationMs": 1_000}).status_code == 200
    monkeypatch.setattr(claiming, "now_ms", lambda: now_ms() + 2_000)
    assert claim(customer_api).json() == "FAILURE"


def test_a_wrong_key_fails_and_drops_the_claim(client, customer_api, device, token):
    device_claims(client, token, {"secretKey": "right"})
    assert claim(customer_api, body={"secretKey": "wrong"}).json() == "FAILURE"
    assert claim(customer_api, body={"secretKey": "right"}).json() == "FAILURE"  # ThingsBoard evicts it


def test_no_claim_request_fails_and_an_owned_device_is_claimed(customer_api, tenant, device):
    assert claim(customer_api).json() == "FAILURE"
    make_device(tenant, "owned", customer=make_customer(tenant, "Someone"))
    assert claim(customer_api, "owned").json() == "CLAIMED"


def test_a_server_side_claiming_data_attribute_works_without_the_device(customer_api, device):
    save_attributes(device.pk, SERVER, {"claimingData": {"secretKey": "box-key", "expirationTime": now_ms() + 60_000}})
    assert claim(customer_api, body={"secretKey": "box-key"}).json()["response"] == "SUCCESS"
    assert attribute_values([device.pk], SERVER, ["claimingData"]) == {}


def test_only_customer_users_claim_and_only_their_tenants_devices(api, customer_api, mallory_api, client, device,
                                                                  token, other_tenant):
    device_claims(client, token, {})
    assert claim(api).status_code == 403  # a tenant administrator
    assert claim(mallory_api).status_code == 404  # another tenant's device name
    foreign_customer = make_customer(other_tenant, "Mallory's customer")
    foreign_user = User.objects.create_user("eve@example.com", "secret-pass-1", authority=Authority.CUSTOMER_USER,
                                            tenant=other_tenant, customer=foreign_customer)
    assert claim(api_as(foreign_user)).status_code == 404
    assert claim(customer_api, "no-such-device").status_code == 404
    assert Device.objects.get(pk=device.pk).customer_id is None


def test_claiming_not_allowed_by_default_needs_the_claiming_allowed_attribute(settings, client, customer_api, api,
                                                                              device, token):
    settings.SECURITY_CLAIM_ALLOW_CLAIMING_BY_DEFAULT = False
    device_claims(client, token, {"secretKey": "k"})
    assert claim(customer_api, body={"secretKey": "k"}).json() == "FAILURE"  # the request was not kept
    save_attributes(device.pk, SERVER, {"claimingAllowed": True})
    device_claims(client, token, {"secretKey": "k"})
    assert claim(customer_api, body={"secretKey": "k"}).json()["response"] == "SUCCESS"
    assert attribute_values([device.pk], SERVER, ["claimingAllowed"]) == {}
    assert api.delete("/api/customer/device/claim-me/claim").status_code == 200
    assert attribute_values([device.pk], SERVER, ["claimingAllowed"])[(device.pk, "claimingAllowed")][1] is True


def test_reclaim_by_the_tenant_or_the_owning_customer_only(api, customer_api, tenant, customer, device):
    device.customer = customer
    device.save()
    other_user = User.objects.create_user("dave@example.com", "secret-pass-1", authority=Authority.CUSTOMER_USER,
                                          tenant=tenant, customer=make_customer(tenant, "Other customer"))
    assert api_as(other_user).delete("/api/customer/device/claim-me/claim").status_code == 403
    assert Device.objects.get(pk=device.pk).customer_id == customer.pk
    res = customer_api.delete("/api/customer/device/claim-me/claim")
    assert (res.status_code, res.content) == (200, b"")
    assert Device.objects.get(pk=device.pk).customer_id is None
    assert api.delete("/api/customer/device/claim-me/claim").status_code == 200  # unowned: nothing to do
    assert api.delete("/api/customer/device/nobody/claim").status_code == 404


def test_the_devices_request_answers_401_and_400_as_the_device_api(client, device, token):
    assert device_claims(client, "nobody", {}).status_code == 401
    for body in ("not json", "[1]", {"secretKey": {"a": 1}}, {"durationMs": "soon"}, {"durationMs": True},
                 {"secretKey": None}):
        res = device_claims(client, token, body)
        assert res.status_code == 400, body
        assert json.loads(res.content)["message"]
    assert client.get(f"/api/v1/{token}/claim").status_code == 405


def test_a_device_owned_already_is_answered_200_but_opens_no_claim(client, customer_api, tenant, customer):
    owned = make_device(tenant, "owned-dev", customer=make_customer(tenant, "Owner"))
    token = DeviceCredentials.objects.get(device=owned).credentials_id
    assert device_claims(client, token, {"secretKey": "k"}).status_code == 200
    assert claim(customer_api, "owned-dev", {"secretKey": "k"}).json() == "CLAIMED"


@pytest.mark.parametrize("body", [
    {"durationMs": "--5"}, {"durationMs": "²"}, {"durationMs": "9" * 5000}, {"durationMs": 2**63},
    {"durationMs": 1e400}, '{"durationMs": NaN}', '{"secretKey": "a\\u0000b"}', '{"secretKey": "\\ud800"}',
])
def test_numbers_and_text_it_cannot_read_are_a_400_not_a_500(client, device, token, body):
    res = device_claims(client, token, body)
    assert res.status_code == 400, res.content
    assert json.loads(res.content)["message"]


def test_durations_are_read_as_gsons_get_as_long(client, device, token):
    for duration in ("60000", " +60000 ", 60_000.9, -1, 0):
        assert device_claims(client, token, {"durationMs": duration}).status_code == 200, duration


@pytest.mark.parametrize("secret", ["a\u0000b", "\ud800"])
def test_a_customer_key_no_comparison_can_take_is_a_400(client, customer_api, device, token, secret):
    assert device_claims(client, token, {"secretKey": "k"}).status_code == 200  # so that keys are compared
    res = customer_api.post("/api/customer/device/claim-me/claim",
                            json.dumps({"secretKey": secret}).encode(), content_type="application/json")
    assert res.status_code == 400, res.content
