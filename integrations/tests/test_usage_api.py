"""GET /api/usage and /api/usage/hourly (issue 19, item 5), and the REST API's rate limits
from the tenant profile (item 4): 429 with Retry-After over tenantServerRestLimitsConfiguration."""

import pytest

from integrations import config_cache, pipeline
from integrations.tests.uplinks import integration, json_uplink
from tbproject.clock import now_ms
from tbproject.testing.fixtures import api_as
from tbproject.testing.limits import limit_tenant
from tenants import limits, usage


@pytest.fixture(autouse=True)
def _fresh():
    limits.reset()
    config_cache.forget()


def test_hourly_usage_after_a_known_number_of_uplinks(tenant, tenant_admin):
    integ = integration(tenant)
    pipeline.process([json_uplink(integ, {"name": f"m{i}", "telemetry": {"a": i, "b": 1}}) for i in range(7)])
    answer = api_as(tenant_admin).get("/api/usage/hourly")
    assert answer.status_code == 200
    data = answer.json()
    assert set(data) == {"transportMsgCountHourly", "storageDataPointsCountHourly", "jsExecutionCountHourly",
                         "tbelExecutionCountHourly", "debugEventsCountHourly"}
    messages = data["transportMsgCountHourly"]
    assert len(messages) == 24 and messages[-1] == {"ts": usage.period_start(now_ms()), "value": 7}
    assert sum(p["value"] for p in messages[:-1]) == 0
    assert data["storageDataPointsCountHourly"][-1]["value"] == 14
    assert data["jsExecutionCountHourly"][-1]["value"] == 7


def test_usage_info_has_thingsboards_shape(tenant, tenant_admin):
    limit_tenant(tenant, maxTransportMessages=1000, maxDevices=5)
    integ = integration(tenant)
    pipeline.process([json_uplink(integ, {"name": "dev-1", "telemetry": {"a": 1}})])
    info = api_as(tenant_admin).get("/api/usage").json()
    assert info["transportMessages"] == 1 and info["maxTransportMessages"] == 1000
    assert info["devices"] == 1 and info["maxDevices"] == 5 and info["jsExecutions"] == 1
    assert info["users"] == 1 and info["smsEnabled"] is False and info["maxJsExecutions"] == 0


def test_usage_is_tenant_scoped(tenant, other_tenant, tenant_admin, mallory, customer_user, sysadmin):
    usage.add(tenant.pk, messages=3)
    assert api_as(mallory).get("/api/usage/hourly").json()["transportMsgCountHourly"][-1]["value"] == 0
    assert api_as(mallory).get(f"/api/usage/hourly?tenantId={tenant.pk}").status_code == 404
    assert api_as(mallory).get(f"/api/usage?tenantId={tenant.pk}").status_code == 404
    assert api_as(customer_user).get("/api/usage/hourly").status_code == 403
    assert api_as(None).get("/api/usage").status_code == 401
    root = api_as(sysadmin)
    assert root.get(f"/api/usage/hourly?tenantId={tenant.pk}").json()["transportMsgCountHourly"][-1]["value"] == 3
    assert root.get("/api/usage/hourly").status_code == 400
    assert root.get("/api/usage/hourly?tenantId=not-a-uuid").status_code == 404


@pytest.mark.parametrize("query, message", [
    ("startTs=abc", "Parameter 'startTs' must be a number"),
    ("startTs=2000&endTs=1000", "endTs must be later than startTs"),
    ("startTs=0&endTs=99999999999999", "At most"),
])
def test_bad_ranges_get_a_clear_400(tenant_admin, query, message):
    answer = api_as(tenant_admin).get(f"/api/usage/hourly?{query}")
    assert answer.status_code == 400 and message in answer.json()["message"]


def test_the_rest_api_answers_429_with_retry_after_over_the_tenant_limit(tenant, tenant_admin, other_tenant, mallory):
    limit_tenant(tenant, tenantServerRestLimitsConfiguration="3:60")
    client = api_as(tenant_admin)
    answers = [client.get("/api/customers?pageSize=10&page=0") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[3].json()["errorCode"] == 33 and int(answers[3]["Retry-After"]) >= 1
    assert api_as(mallory).get("/api/customers?pageSize=10&page=0").status_code == 200  # its own budget


def test_customer_users_have_their_own_limit_too(tenant, customer_user, tenant_admin):
    limit_tenant(tenant, customerServerRestLimitsConfiguration="1:60")
    client = api_as(customer_user)
    assert [client.get(f"/api/customer/{customer_user.customer_id}").status_code for _ in range(2)] == [200, 429]
    assert api_as(tenant_admin).get("/api/customers?pageSize=10&page=0").status_code == 200
