"""Claiming under guesses: as ThingsBoard's ClaimDevicesServiceImpl, a wrong secret key cancels the device's
pending claim and an owned device answers CLAIMED; a user's failed claims are counted
(DEVICE_CLAIM_FAILURES_PER_USER_RATE_LIMIT, tenants/limits/device_attempts.py) and past the limit refused
with a 429 before anything is checked, so a stranger cancels a few claims at most and probes few names. A
device name no column holds is a 400, not PostgreSQL's error (run with DATABASE_URL too)."""

import json

import pytest

from devices.api import device_http
from devices.models import Device, DeviceCredentials
from tbproject.testing.factories import make_customer, make_device
from tbproject.testing.fixtures import api_as
from tenants.choices import Authority
from tenants.models import User


@pytest.fixture(autouse=True)
def no_cached_tokens():
    device_http._TOKENS.forget()


@pytest.fixture
def device(tenant):
    return make_device(tenant, "claim-me")


@pytest.fixture
def token(device):
    return DeviceCredentials.objects.get(device=device).credentials_id


@pytest.fixture
def stranger(tenant):
    """A user of another customer of the same tenant: may claim, but does not know the device's key."""
    user = User.objects.create_user("stranger@example.com", "secret-pass-1", authority=Authority.CUSTOMER_USER,
                                    tenant=tenant, customer=make_customer(tenant, "Strangers"))
    return api_as(user)


@pytest.fixture
def two_failures(settings):
    settings.DEVICE_CLAIM_FAILURES_PER_USER_RATE_LIMIT = "2:3600"


def device_claims(client, token, secret="right"):
    res = client.post(f"/api/v1/{token}/claim", json.dumps({"secretKey": secret}), content_type="application/json")
    assert res.status_code == 200


def claim(api, name="claim-me", secret="right"):
    return api.post(f"/api/customer/device/{name}/claim", {"secretKey": secret}, format="json")


def test_the_default_is_ten_failed_claims_an_hour(settings):
    assert settings.DEVICE_CLAIM_FAILURES_PER_USER_RATE_LIMIT == "10:3600"


def test_a_stranger_cancels_claims_only_until_the_limit(client, customer_api, stranger, device, token, customer,
                                                        two_failures):
    for _ in range(2):  # as ThingsBoard: each wrong key cancels the pending claim; the device asks again
        device_claims(client, token)
        assert claim(stranger, secret="guess").json() == "FAILURE"
    device_claims(client, token)
    res = claim(stranger, secret="guess")
    assert res.status_code == 429
    assert res.json()["errorCode"] == 33 and int(res["Retry-After"]) >= 1
    assert claim(stranger, secret="right").status_code == 429  # refused before the key is checked
    res = claim(customer_api)  # the claim the device opened last is still there
    assert res.status_code == 200 and res.json()["response"] == "SUCCESS"
    assert Device.objects.get(pk=device.pk).customer_id == customer.pk


def test_probing_names_counts_and_stops(stranger, tenant, device, two_failures):
    make_device(tenant, "owned", customer=make_customer(tenant, "Owner"))
    assert claim(stranger, "owned").json() == "CLAIMED"  # ThingsBoard's answer, kept
    assert claim(stranger, "no-such-device").status_code == 404
    assert claim(stranger, "owned").status_code == 429
    assert claim(stranger, "claim-me").status_code == 429


def test_successful_claims_are_not_counted_and_users_count_apart(client, customer_api, stranger, tenant,
                                                                 settings):
    settings.DEVICE_CLAIM_FAILURES_PER_USER_RATE_LIMIT = "1:3600"
    for i in range(3):
        dev = make_device(tenant, f"mine-{i}")
        device_claims(client, DeviceCredentials.objects.get(device=dev).credentials_id, "k")
        assert claim(customer_api, f"mine-{i}", "k").json()["response"] == "SUCCESS"
    assert claim(stranger, "mine-0").json() == "CLAIMED"
    assert claim(stranger, "mine-1").status_code == 429
    assert claim(customer_api, "mine-1").json() == "CLAIMED"  # the stranger's bucket is not this user's


def test_no_limit_when_empty(stranger, device, settings):
    settings.DEVICE_CLAIM_FAILURES_PER_USER_RATE_LIMIT = ""
    assert {claim(stranger, secret=f"g{i}").status_code for i in range(15)} == {400}


@pytest.mark.parametrize("method", ["post", "delete"])
def test_a_device_name_with_a_nul_is_a_400(api, customer_api, device, method):
    client = customer_api if method == "post" else api
    res = getattr(client, method)("/api/customer/device/claim%00me/claim", {}, format="json")
    assert res.status_code == 400, res.content
    assert "NUL" in res.json()["message"]


def test_a_device_name_no_device_can_have_is_a_404(api, customer_api, device):
    assert claim(customer_api, "n" * 300).status_code == 404
    assert api.delete(f"/api/customer/device/{'n' * 300}/claim").status_code == 404
