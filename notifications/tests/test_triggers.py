"""The non-alarm triggers fire once through their real write paths (the REST API, the device state node,
the integrations' lifecycle events, rule chain saves, device creation past a threshold, a refused rate
limit, a failed Celery task, the usage check) and never for another tenant."""

import pytest
from celery import shared_task
from django.db import connection
from django.test.utils import CaptureQueriesContext
from tb_pe_client.models import NotificationRule

from integrations import sink
from integrations.tests.factories import make_integration
from notifications import triggers, usage_states
from notifications.models import ApiUsageStatus, Notification, NotificationRequest
from notifications.tests.helpers import template, users_target
from rulechains import engine, nodes
from rulechains.tests.helpers import install_root, msg, node
from tbproject.testing.factories import make_device
from tbproject.testing.fixtures import api_as
from tbproject.testing.limits import limit_tenant
from tenants import limits, usage

pytestmark = pytest.mark.django_db


def web(subject: str, body: str) -> dict:
    return {"deliveryMethodsTemplates": {"WEB": {"method": "WEB", "subject": subject, "body": body}}}


def make_rule(client, trigger: str, trigger_config: dict, target_filter: dict, subject: str, body: str,
              name: str = "rule") -> dict:
    target = users_target(client, f"{name} target", target_filter)
    tpl = template(client, f"{name} template", trigger, web(subject, body))
    res = client.post("/api/notification/rule", {
        "name": name, "templateId": tpl["id"], "triggerType": trigger, "triggerConfig": trigger_config,
        "recipientsConfig": {"targets": [target["id"]["id"]]}}, format="json")
    assert res.status_code == 200, res.content
    rule = NotificationRule.from_dict(res.json())  # tb-pe-client's models read the rule and its trigger config
    assert rule.trigger_type == trigger and type(rule.trigger_config).__name__.endswith("NotificationRuleTriggerConfig")
    return res.json()


def inbox(user) -> list[tuple[str, str]]:
    return [(n.subject, n.text) for n in Notification.objects.filter(recipient=user).order_by("created_time")]


ADMINS = {"type": "TENANT_ADMINISTRATORS"}
AFFECTED = {"type": "AFFECTED_TENANT_ADMINISTRATORS"}


def test_entity_action_fires_for_the_configured_types_and_actions(api, tenant_admin, mallory, mallory_api,
                                                                 django_capture_on_commit_callbacks):
    make_rule(api, "ENTITY_ACTION", {"entityTypes": ["DEVICE"], "created": True, "updated": False, "deleted": True},
              ADMINS, "${entityType} ${actionType}", "${entityType} '${entityName}' was ${actionType} by ${userEmail}")
    with django_capture_on_commit_callbacks(execute=True):
        res = api.post("/api/device", {"name": "T1", "type": "default"}, format="json")
    assert res.status_code == 200, res.content
    assert inbox(tenant_admin) == [("Device added", f"Device 'T1' was added by {tenant_admin.email}")]
    row = Notification.objects.get(recipient=tenant_admin)
    assert row.type == "ENTITY_ACTION" and row.info["entityId"] == res.json()["id"]
    device_id = res.json()["id"]["id"]
    with django_capture_on_commit_callbacks(execute=True):  # updated: off; an asset: not a configured type
        api.post("/api/device", {**res.json(), "label": "new"}, format="json")
        api.post("/api/asset", {"name": "A1", "type": "default"}, format="json")
        mallory_api.post("/api/device", {"name": "theirs", "type": "default"}, format="json")  # another tenant
    assert len(inbox(tenant_admin)) == 1 and inbox(mallory) == []
    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(f"/api/device/{device_id}").status_code == 200
    assert inbox(tenant_admin)[-1] == ("Device deleted", f"Device 'T1' was deleted by {tenant_admin.email}")


def test_a_tenant_without_rules_pays_no_query_for_entity_actions(tenant):
    device = make_device(tenant, "quiet")
    triggers.wanted("ENTITY_ACTION", tenant.pk)  # the cache is loaded once
    with CaptureQueriesContext(connection) as queries:
        assert triggers.wanted("ENTITY_ACTION", tenant.pk) is False
    assert len(queries) == 0
    device.label = "x"
    device.save()
    assert NotificationRequest.objects.count() == 0


def test_device_activity_fires_when_the_device_state_changes(api, tenant, tenant_admin, settings,
                                                             django_capture_on_commit_callbacks):
    settings.DEVICE_STATE_NODE_RATE_LIMIT_CONFIGURATION = ""
    device = make_device(tenant, "Sensor T1")
    make_rule(api, "DEVICE_ACTIVITY", {"devices": [str(device.pk)], "notifyOn": ["ACTIVE", "INACTIVE"]}, ADMINS,
              "${deviceName}", "${deviceType:capitalize} '${deviceName}' became ${eventType}")
    state = "org.thingsboard.rule.engine.action.TbDeviceStateNode"
    install_root(tenant, [node(nodes.SWITCH, "switch"), node(state, "up", event="ACTIVITY_EVENT"),
                          node(state, "down", event="INACTIVITY_EVENT")],
                 [(0, 1, "Post telemetry"), (0, 2, "Inactivity Event")])
    for _ in range(2):  # the second activity: already active, no change
        with django_capture_on_commit_callbacks(execute=True):
            engine.process([msg(tenant, device)])
    assert inbox(tenant_admin) == [("Sensor T1", "Default 'Sensor T1' became active")]
    with django_capture_on_commit_callbacks(execute=True):
        engine.process([msg(tenant, device, msg_type="INACTIVITY_EVENT")])
    assert inbox(tenant_admin)[-1] == ("Sensor T1", "Default 'Sensor T1' became inactive")
    other = make_device(tenant, "not listed")
    with django_capture_on_commit_callbacks(execute=True):
        engine.process([msg(tenant, other)])
    assert len(inbox(tenant_admin)) == 2


def test_integration_lifecycle_events_fire_on_errors_only(api, tenant, tenant_admin, other_tenant, mallory,
                                                         django_capture_on_commit_callbacks):
    make_rule(api, "INTEGRATION_LIFECYCLE_EVENT", {"integrationTypes": ["MQTT"], "onlyOnError": True}, ADMINS,
              "${integrationName}", "${integrationType} integration '${integrationName}' - ${action} failure: ${error}")
    mine, theirs = make_integration(tenant, "My MQTT", "MQTT"), make_integration(other_tenant, "Their MQTT", "MQTT")
    with django_capture_on_commit_callbacks(execute=True):
        sink.record_lifecycle(mine, "STARTED")  # no error
        sink.record_lifecycle(mine, "FAILED", error="failed to connect to MQTT broker")
        sink.record_lifecycle(theirs, "FAILED", error="theirs")
    assert inbox(tenant_admin) == [("My MQTT", "MQTT integration 'My MQTT' - start failure: "
                                               "failed to connect to MQTT broker")]
    assert inbox(mallory) == []


def test_rule_chain_lifecycle_events(api, tenant_admin, django_capture_on_commit_callbacks):
    make_rule(api, "RULE_ENGINE_COMPONENT_LIFECYCLE_EVENT", {"ruleChainEvents": ["STARTED", "STOPPED"]}, ADMINS,
              "${componentName}", "${componentType} '${componentName}' ${eventType}")
    with django_capture_on_commit_callbacks(execute=True):
        res = api.post("/api/ruleChain", {"name": "Chain A", "type": "CORE"}, format="json")
    assert res.status_code == 200, res.content
    with django_capture_on_commit_callbacks(execute=True):
        api.post("/api/ruleChain", {**res.json(), "name": "Chain A"}, format="json")  # UPDATED: not configured
        assert api.delete(f"/api/ruleChain/{res.json()['id']['id']}").status_code == 200
    assert [text for _, text in inbox(tenant_admin)] == ["Rule chain 'Chain A' started", "Rule chain 'Chain A' stopped"]


def test_entities_limit_fires_once_at_the_threshold_for_the_affected_tenant(
        sysadmin, tenant, tenant_admin, api, other_tenant, mallory, mallory_api, django_capture_on_commit_callbacks):
    root = api_as(sysadmin)
    make_rule(root, "ENTITIES_LIMIT", {"entityTypes": ["DEVICE"], "threshold": 0.5}, AFFECTED,
              "Limit", "${entityType}s usage: ${currentCount}/${limit} (${percents}%) of ${tenantName}")
    limit_tenant(tenant, maxDevices=4)
    limit_tenant(other_tenant, maxDevices=100)
    for name in ("d1", "d2", "d3"):
        with django_capture_on_commit_callbacks(execute=True):
            assert api.post("/api/device", {"name": name, "type": "default"}, format="json").status_code == 200
    assert inbox(tenant_admin) == [("Limit", f"Devices usage: 2/4 (50%) of {tenant.title}")]
    with django_capture_on_commit_callbacks(execute=True):
        mallory_api.post("/api/device", {"name": "x", "type": "default"}, format="json")
    assert inbox(mallory) == []


def test_rate_limits_fire_once_per_hour_per_limit(sysadmin, tenant, tenant_admin, mallory, settings,
                                                  django_capture_on_commit_callbacks):
    from django.core.cache import cache

    cache.clear()
    make_rule(api_as(sysadmin), "RATE_LIMITS", {"apis": ["REST_REQUESTS_PER_TENANT"]}, AFFECTED,
              "Rate limits", "Rate limits for ${api} exceeded for ${limitLevelEntityType:lowerCase} "
                             "'${limitLevelEntityName}'")
    limit_tenant(tenant, tenantServerRestLimitsConfiguration="1:3600")
    limits.reset()
    client = api_as(tenant_admin)
    with django_capture_on_commit_callbacks(execute=True):
        codes = [client.get("/api/tenant/devices?pageSize=1&page=0").status_code for _ in range(3)]
    assert codes == [200, 429, 429]
    assert inbox(tenant_admin) == [("Rate limits", f"Rate limits for REST API requests exceeded for tenant "
                                                   f"'{tenant.title}'")]
    assert inbox(mallory) == []
    limits.reset()


@shared_task(name="tests.notifications.failing_task")
def failing_task(tenant_id=None):
    raise RuntimeError("telemetry deletion failed")


def test_task_processing_failure(sysadmin, django_capture_on_commit_callbacks):
    from django.core.cache import cache

    cache.clear()  # the once-per-period mark of an earlier failure
    make_rule(api_as(sysadmin), "TASK_PROCESSING_FAILURE", {}, {"type": "SYSTEM_ADMINISTRATORS"}, "Task failed",
              "Failed to process ${taskType}: ${error}")
    with django_capture_on_commit_callbacks(execute=True):
        result = failing_task.apply(kwargs={"tenant_id": None}, throw=False)
    assert result.failed()
    assert inbox(sysadmin) == [("Task failed", "Failed to process tests.notifications.failing_task: "
                                               "RuntimeError: telemetry deletion failed")]


def test_api_usage_limit_fires_on_each_state_change(sysadmin, tenant, tenant_admin, mallory, other_tenant,
                                                    django_capture_on_commit_callbacks):
    make_rule(api_as(sysadmin), "API_USAGE_LIMIT", {"apiFeatures": ["TRANSPORT"], "notifyOn": ["WARNING", "DISABLED"]},
              AFFECTED, "Usage", "${feature} feature - ${status:upperCase} (${currentValue} out of ${limit} "
                                 "${unitLabel}s)")
    limit_tenant(tenant, maxTransportMessages=10)
    limit_tenant(other_tenant, maxTransportMessages=10)
    usage.add(tenant.pk, messages=8)
    usage.add(other_tenant.pk, messages=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert usage_states.check() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert usage_states.check() == 0  # no change, nothing told
    usage.add(tenant.pk, messages=2)
    with django_capture_on_commit_callbacks(execute=True):
        usage_states.check()
    assert [text for _, text in inbox(tenant_admin)] == [
        "Device API feature - WARNING (8 out of 10 messages)", "Device API feature - DISABLED (10 out of 10 messages)"]
    assert ApiUsageStatus.objects.get(tenant=tenant, feature="TRANSPORT").status == "DISABLED"
    assert inbox(mallory) == []


def test_bad_trigger_configs_are_400(api):
    tpl = template(api, "activity", "DEVICE_ACTIVITY", web("s", "b"))
    target = users_target(api, "Admins", ADMINS)
    for config in ({"notifyOn": []}, {"notifyOn": ["SLEEPING"]}, {"notifyOn": ["ACTIVE"], "devices": "x"}):
        res = api.post("/api/notification/rule", {"name": "bad", "templateId": tpl["id"],
                                                  "triggerType": "DEVICE_ACTIVITY", "triggerConfig": config,
                                                  "recipientsConfig": {"targets": [target["id"]["id"]]}},
                       format="json")
        assert res.status_code == 400, config
