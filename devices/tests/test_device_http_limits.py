"""The device HTTP API under the tenant profile's transport rate limits (429, Retry-After, nothing
stored) and in the tenant's usage statistics (GET /api/usage/hourly)."""

import pytest

from devices.api import device_http
from devices.models import DeviceCredentials
from devices.tests.test_device_http_api import client_attributes, latest, post
from tbproject.testing.factories import make_device
from tbproject.testing.fixtures import api_as
from tbproject.testing.limits import limit_tenant
from tenants import limits


@pytest.fixture(autouse=True)
def _fresh():
    device_http._TOKENS.forget()
    limits.reset()
    limits.forget()


def token_of(device) -> str:
    return DeviceCredentials.objects.get(device=device).credentials_id


def assert_refused(res, key: str):
    assert res.status_code == 429
    body = res.json()
    assert body["status"] == 429 and body["errorCode"] == 33 and key in body["message"]
    assert int(res["Retry-After"]) >= 1


def test_a_device_over_its_message_limit_gets_429_and_nothing_stored_while_another_device_posts(
        client, api, tenant):
    limit_tenant(tenant, transportDeviceMsgRateLimit="2:3600")
    first, second = make_device(tenant, "lim-1"), make_device(tenant, "lim-2")
    assert post(client, token_of(first), "telemetry", {"a": 1}).status_code == 200
    assert post(client, token_of(first), "attributes", {"fw": "1.0"}).status_code == 200
    assert_refused(post(client, token_of(first), "telemetry", {"b": 2}), "transportDeviceMsgRateLimit")
    assert_refused(post(client, token_of(first), "attributes", {"hw": "x"}), "transportDeviceMsgRateLimit")
    assert_refused(client.get(f"/api/v1/{token_of(first)}/attributes"), "transportDeviceMsgRateLimit")
    assert set(latest(api, first)) == {"a"} and client_attributes(api, first) == {"fw": "1.0"}
    assert post(client, token_of(second), "telemetry", {"b": 2}).status_code == 200
    assert set(latest(api, second)) == {"b"}


def test_telemetry_limits_count_telemetry_posts_and_their_values_not_attribute_posts(client, api, tenant):
    limit_tenant(tenant, transportDeviceTelemetryDataPointsRateLimit="3:3600",
                 transportDeviceTelemetryMsgRateLimit="5:3600")
    device = make_device(tenant, "lim-dp")
    tok = token_of(device)
    assert post(client, tok, "telemetry", [{"ts": 1_700_000_000_000, "values": {"a": 1}}, {"b": 2}]).status_code == 200
    assert_refused(post(client, tok, "telemetry", {"c": 3, "d": 4}), "transportDeviceTelemetryDataPointsRateLimit")
    for i in range(6):  # attributes are no telemetry: neither telemetry limit counts them
        assert post(client, tok, "attributes", {f"k{i}": i}).status_code == 200
    assert post(client, tok, "telemetry", {"c": 3}).status_code == 200  # the third value fits
    assert set(latest(api, device)) == {"a", "b", "c"}


def test_the_tenant_limit_covers_all_its_devices_and_no_other_tenant(client, tenant, other_tenant):
    limit_tenant(tenant, transportTenantMsgRateLimit="1:3600", transportTenantTelemetryMsgRateLimit="1:3600")
    mine, also_mine = make_device(tenant, "t-1"), make_device(tenant, "t-2")
    theirs = make_device(other_tenant, "t-3")
    assert post(client, token_of(mine), "telemetry", {"a": 1}).status_code == 200
    assert_refused(post(client, token_of(also_mine), "telemetry", {"a": 1}), "transportTenantMsgRateLimit")
    for _ in range(3):
        assert post(client, token_of(theirs), "telemetry", {"a": 1}).status_code == 200


def test_limits_unset_mean_unlimited(client, tenant):
    limit_tenant(tenant, integrationMsgsPerTenantRateLimit="1:3600", transportDeviceMsgRateLimit="")
    device = make_device(tenant, "free")
    tok = token_of(device)
    for i in range(25):
        assert post(client, tok, "telemetry", {"a": i, "b": i}).status_code == 200
        assert post(client, tok, "attributes", {"a": i}).status_code == 200
    assert client.get(f"/api/v1/{tok}/attributes").status_code == 200


def test_the_tenant_profile_api_refuses_a_bad_transport_limit(tenant, sysadmin):
    profile = limit_tenant(tenant)
    root = api_as(sysadmin)
    body = root.get(f"/api/tenantProfile/{profile.pk}").json()
    body["profileData"]["configuration"]["transportDeviceMsgRateLimit"] = "ten per second"
    res = root.post("/api/tenantProfile", body, format="json")
    assert res.status_code == 400 and "transportDeviceMsgRateLimit" in res.json()["message"]


def test_stored_posts_are_counted_in_the_usage_statistics(client, tenant, tenant_admin):
    limit_tenant(tenant, transportDeviceMsgRateLimit="3:3600")
    device = make_device(tenant, "counted")
    tok = token_of(device)
    body = [{"ts": 1_700_000_000_000, "values": {"a": 1, "b": 2}}, {"c": 3}]
    assert post(client, tok, "telemetry", body).status_code == 200
    assert post(client, tok, "attributes", {"x": 1, "y": 2}).status_code == 200
    assert post(client, tok, "telemetry", "not json").status_code == 400  # refused bodies are not counted
    assert client.get(f"/api/v1/{tok}/attributes").status_code == 200  # nor reads
    assert post(client, tok, "telemetry", {"d": 4}).status_code == 429  # nor posts over a limit
    hourly = api_as(tenant_admin).get("/api/usage/hourly").json()
    assert hourly["transportMsgCountHourly"][-1]["value"] == 2
    assert hourly["storageDataPointsCountHourly"][-1]["value"] == 5
    assert api_as(tenant_admin).get("/api/usage").json()["transportMessages"] == 2
