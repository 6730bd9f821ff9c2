"""ENTITIES_LIMIT for every limited entity type (one signal, tenants.limits.entities.entities_counted, with the
entity type; the rule's ``entityTypes`` filter), and ``POST /api/notification/entitiesLimitIncreaseRequest/
{entityType}`` driven through tb_pe_client (its requests answered in-process by Django's test client)."""

import json
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from django.test import Client
from tb_pe_client.api.notification_controller_api import NotificationControllerApi
from tb_pe_client.api_client import ApiClient
from tb_pe_client.configuration import Configuration
from tb_pe_client.exceptions import ApiException

from notifications.models import Notification, NotificationRequest, NotificationTarget
from notifications.tests.test_triggers import AFFECTED, inbox, make_rule
from tbproject.api.tokens import issue_pair
from tbproject.testing.fixtures import api_as
from tbproject.testing.limits import limit_tenant

pytestmark = pytest.mark.django_db


def test_entities_limit_fires_for_assets_and_customers_as_the_rule_filters(
        sysadmin, tenant, tenant_admin, api, django_capture_on_commit_callbacks):
    make_rule(api_as(sysadmin), "ENTITIES_LIMIT", {"entityTypes": ["ASSET"], "threshold": 0.5}, AFFECTED,
              "Limit", "${entityType}s usage: ${currentCount}/${limit} (${percents}%)")
    limit_tenant(tenant, maxAssets=4, maxCustomers=2)
    for i in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            assert api.post("/api/asset", {"name": f"a{i}", "type": "x"}, format="json").status_code == 200
            if i < 2:  # 1/2 and 2/2 of maxCustomers: past the threshold too, but not a type the rule names
                assert api.post("/api/customer", {"title": f"c{i}"}, format="json").status_code == 200
    assert inbox(tenant_admin) == [("Limit", "Assets usage: 2/4 (50%)")]  # customers: not in entityTypes


class _InProcess:
    """urllib3's PoolManager as tb_pe_client's REST client calls it, answered by Django's test client."""

    def __init__(self):
        self.client = Client()

    def request(self, method, url, body=None, headers=None, **kwargs):
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = dict(headers or {})
        content_type = headers.pop("Content-Type", "application/json")
        extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
        res = self.client.generic(method, path, body or "", content_type=content_type, **extra)
        return SimpleNamespace(status=res.status_code, reason=res.reason_phrase, data=res.content,
                               headers=dict(res.items()))


def _client_of(user) -> NotificationControllerApi:
    configuration = Configuration(host="http://testserver")
    configuration.api_key["ApiKeyForm"] = issue_pair(user)["token"]
    configuration.api_key_prefix["ApiKeyForm"] = "Bearer"
    api_client = ApiClient(configuration)
    api_client.rest_client.pool_manager = _InProcess()
    return NotificationControllerApi(api_client)


def test_a_tenant_admin_asks_the_system_administrators_for_a_higher_limit(sysadmin, tenant, tenant_admin,
                                                                          customer_user):
    assert _client_of(tenant_admin).send_entities_limit_increase_request("ASSET") is None
    [row] = Notification.objects.filter(recipient=sysadmin)
    assert row.type == "ENTITIES_LIMIT_INCREASE_REQUEST"
    assert row.subject == "Assets limit increase request"
    assert row.text == ("alice@example.com has reached the maximum number of assets allowed and is requesting an "
                        "increase to the asset limit.")
    assert row.additional_config["actionButtonConfig"]["link"] == f"/tenants/{tenant.pk}"
    assert row.info["entityType"] == "ASSET" and row.info["userEmail"] == "alice@example.com"
    assert not Notification.objects.exclude(recipient=sysadmin).exists()  # nobody of the tenant
    request = NotificationRequest.objects.get()
    assert request.tenant_id is None and request.sender_id == tenant_admin.pk
    assert NotificationTarget.objects.get(tenant=None).configuration["usersFilter"]["type"] == "SYSTEM_ADMINISTRATORS"

    for user, entity_type, status in ((tenant_admin, "NOT_A_TYPE", 400), (tenant_admin, "EDGE", 400),
                                      (customer_user, "ASSET", 403), (sysadmin, "ASSET", 403)):
        with pytest.raises(ApiException) as refused:
            _client_of(user).send_entities_limit_increase_request(entity_type)
        assert refused.value.status == status, (user.email, entity_type)
        assert isinstance(json.loads(refused.value.body)["errorCode"], int)
    assert Notification.objects.count() == 1


def test_one_request_per_tenant_and_entity_type_an_hour(sysadmin, tenant, tenant_admin, api):
    path = "/api/notification/entitiesLimitIncreaseRequest/{}"
    assert [api.post(path.format("DEVICE")).status_code for _ in range(3)] == [200] * 3
    assert Notification.objects.filter(recipient=sysadmin).count() == 1  # the repeats: answered, nothing sent
    assert api.post(path.format("ASSET")).status_code == 200  # another entity type: its own request
    assert Notification.objects.filter(recipient=sysadmin).count() == 2
