"""What the triggers must not do: fire on a login's bookkeeping, flood on failing tasks, cost a query per
tenant, or work on an event loop for a tenant without rules; and what the TTL must keep."""

import asyncio

import pytest
from celery import shared_task
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications import retention, trigger_receivers, usage_states
from notifications.models import Notification, NotificationRequest, RequestStatus
from notifications.tests.helpers import send, template, users_target
from notifications.tests.test_triggers import ADMINS, AFFECTED, inbox, make_rule
from tbproject.clock import now_ms
from tbproject.testing.fixtures import api_as
from tbproject.testing.limits import limit_tenant
from tenants import usage
from tenants.models import Tenant

pytestmark = pytest.mark.django_db


def test_wrong_passwords_fire_no_user_updated(api, anon, tenant_admin, settings, django_capture_on_commit_callbacks):
    settings.LOGIN_FAILURES_PER_CLIENT_RATE_LIMIT = ""  # every wrong password reaches the user's count
    make_rule(api, "ENTITY_ACTION", {"entityTypes": ["USER"], "created": False, "updated": True, "deleted": False},
              ADMINS, "${entityType} ${actionType}", "'${entityName}' ${actionType}")
    for _ in range(4):
        with django_capture_on_commit_callbacks(execute=True):
            res = anon.post("/api/auth/login", {"username": tenant_admin.email, "password": "wrong"}, format="json")
        assert res.status_code == 401
    tenant_admin.refresh_from_db()
    assert tenant_admin.additional_info.get("failedLoginAttempts") == 4  # they were counted (saved)
    assert inbox(tenant_admin) == []
    user = api.get(f"/api/user/{tenant_admin.pk}").json()
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post("/api/user", {**user, "firstName": "Alice"}, format="json").status_code == 200
    assert inbox(tenant_admin) == [("User updated", f"'{tenant_admin.email}' updated")]


@shared_task(name="tests.notifications.flaky_task")
def flaky_task(tenant_id=None):
    raise RuntimeError("password=hunter2 at db-internal:5432")


def test_task_failures_are_told_once_per_period_without_raw_text(sysadmin, tenant, tenant_admin,
                                                                django_capture_on_commit_callbacks):
    cache.clear()
    make_rule(api_as(sysadmin), "TASK_PROCESSING_FAILURE", {}, AFFECTED, "Task failed", "${taskType}: ${error}")
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(50):
            assert flaky_task.apply(kwargs={"tenant_id": str(tenant.pk)}, throw=False).failed()
    assert NotificationRequest.objects.count() == 1
    [(subject, text)] = inbox(tenant_admin)
    assert text.startswith("tests.notifications.flaky_task: ") and "hunter2" not in text
    cache.clear()


def test_api_usage_check_costs_the_same_queries_for_more_tenants(sysadmin, django_capture_on_commit_callbacks):
    make_rule(api_as(sysadmin), "API_USAGE_LIMIT", {"apiFeatures": ["TRANSPORT"], "notifyOn": ["WARNING"]},
              AFFECTED, "Usage", "${feature} ${status}")

    def run(count: int) -> tuple[int, int]:
        for i in range(count):
            tenant = Tenant.objects.create(title=f"T{count}-{i}")
            limit_tenant(tenant, maxTransportMessages=10)
            usage.add(tenant.pk, messages=9)
        Tenant.objects.create(title=f"unlimited {count}")
        with CaptureQueriesContext(connection) as queries:
            changed = usage_states.check()
        return changed, len([q for q in queries if not q["sql"].startswith(("INSERT", "UPDATE", "SAVEPOINT",
                                                                                "RELEASE", "BEGIN"))])

    few, few_reads = run(2)
    many, many_reads = run(8)
    assert (few, many) == (2, 8)
    assert many_reads == few_reads  # the reads do not grow with the tenants


def test_an_event_loop_hands_no_work_over_for_a_tenant_without_rules(tenant, monkeypatch):
    submitted = []
    monkeypatch.setattr(trigger_receivers._off_loop, "submit", lambda *a, **k: submitted.append(a))
    from notifications import triggers

    triggers.wanted("ENTITY_ACTION", tenant.pk)  # the cache loaded

    async def on_loop():
        trigger_receivers._deleted(sender=None, instance=type("D", (), {"tenant_id": tenant.pk, "pk": 1})())

    asyncio.run(on_loop())
    assert submitted == []


def test_ttl_keeps_requests_still_processing(api, tenant_admin):
    target = users_target(api, "Admins", {"type": "TENANT_ADMINISTRATORS"})
    res = send(api, [target["id"]["id"]], template(api, "hello")["id"]["id"])
    NotificationRequest.objects.filter(pk=res.json()["id"]["id"]).update(
        created_time=now_ms() - 31 * 86400_000, status=RequestStatus.PROCESSING)
    retention.remove_expired()
    assert NotificationRequest.objects.filter(pk=res.json()["id"]["id"]).exists()
    assert Notification.objects.filter(recipient=tenant_admin).count() == 1


def test_rules_of_the_other_level_triggers_are_400(api, sysadmin):
    """As ThingsBoard's rule API: a tenant's triggers (ENTITY_ACTION, ALARM, ...) and the system administrator's
    (ENTITIES_LIMIT, API_USAGE_LIMIT, ...) are not each other's."""
    root = api_as(sysadmin)
    for client, trigger, config in ((api, "API_USAGE_LIMIT", {"notifyOn": ["WARNING"]}),
                                    (root, "ENTITY_ACTION", {"entityTypes": ["DEVICE"], "created": True})):
        target = users_target(client, f"{trigger} target",
                              ADMINS if client is api else {"type": "SYSTEM_ADMINISTRATORS"})
        tpl = template(client, f"{trigger} template", trigger, {"deliveryMethodsTemplates": {
            "WEB": {"method": "WEB", "subject": "s", "body": "b"}}})
        res = client.post("/api/notification/rule", {
            "name": "wrong level", "templateId": tpl["id"], "triggerType": trigger, "triggerConfig": config,
            "recipientsConfig": {"targets": [target["id"]["id"]]}}, format="json")
        assert res.status_code == 400, (trigger, res.content)
