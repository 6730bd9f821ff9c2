"""Notification rules that fire: an ALARM rule on alarms the rule engine raises, updates and clears,
on acknowledging through the alarm API, with its filters, escalation and clear rule; alarm
assignment and comment rules; and batching (no query per recipient)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications import sending
from notifications.models import Notification, NotificationRequest
from notifications.tests.helpers import template, users_target
from rulechains import engine, nodes
from rulechains.models import Alarm
from rulechains.tests.helpers import install_root, msg, node
from tbproject.testing.factories import make_device
from tenants.choices import Authority
from tenants.models import User

pytestmark = pytest.mark.django_db

ALARM_TEMPLATE = {"deliveryMethodsTemplates": {"WEB": {
    "method": "WEB", "subject": "${alarmType} on ${alarmOriginatorName}",
    "body": "${alarmSeverity} ${action} ${alarmStatus} ${alarmId} for ${recipientFirstName}"}}}


@pytest.fixture
def device(tenant, customer):
    return make_device(tenant, "boiler", label="Boiler room", customer=customer)


@pytest.fixture
def chain(tenant):
    return install_root(tenant, [
        node(nodes.SWITCH, "switch"),
        node(nodes.SCRIPT_FILTER, "too hot?", scriptLang="JS", jsScript="return msg.temperature > 50;"),
        node(nodes.CREATE_ALARM, "raise", alarmType="${kind}", severity="${level}", scriptLang="JS",
             alarmDetailsBuildJs="return {};"),
        node(nodes.CLEAR_ALARM, "clear", alarmType="${kind}", scriptLang="JS", alarmDetailsBuildJs="return {};"),
    ], [(0, 1, "Post telemetry"), (1, 2, "True"), (1, 3, "False")])


def raise_(tenant, device, temperature=60, level="MAJOR", kind="High Temperature"):
    engine.process([msg(tenant, device, data={"temperature": temperature}, metadata={"level": level, "kind": kind})])


@pytest.fixture
def rule(api, customer):
    admins = users_target(api, "Admins", {"type": "TENANT_ADMINISTRATORS"})
    owners = users_target(api, "Owner", {"type": "ORIGINATOR_ENTITY_OWNER_USERS"})
    tpl = template(api, "Alarm", "ALARM", ALARM_TEMPLATE)
    res = api.post("/api/notification/rule", {
        "name": "Hot", "templateId": tpl["id"], "triggerType": "ALARM",
        "triggerConfig": {"alarmTypes": ["High Temperature"], "alarmSeverities": ["CRITICAL", "MAJOR"],
                          "notifyOn": ["CREATED", "SEVERITY_CHANGED", "ACKNOWLEDGED", "CLEARED"],
                          "clearRule": {"alarmStatuses": ["CLEARED"]}},
        "recipientsConfig": {"escalationTable": {"0": [admins["id"]["id"]], "300": [owners["id"]["id"]]}}},
        format="json")
    assert res.status_code == 200, res.content
    return res.json()


def inbox(user) -> list[tuple[str, str]]:
    return [(n.subject, n.text) for n in Notification.objects.filter(recipient=user).order_by("created_time")]


def texts(user) -> set[str]:
    """The first three words of each inbox text: severity, action, status."""
    return {" ".join(text.split()[:3]) for _, text in inbox(user)}


def test_an_alarm_rule_fires_on_the_rule_engines_alarms(api, tenant_admin, customer_user, device, chain, rule,
                                                        django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        raise_(tenant_admin.tenant, device, level="MAJOR")
    alarm = Alarm.objects.get()
    assert inbox(tenant_admin) == [("High Temperature on boiler",
                                    f"MAJOR created ACTIVE_UNACK {alarm.pk} for ")]
    assert NotificationRequest.objects.filter(status="SCHEDULED").count() == 1  # the 300 s escalation
    row = Notification.objects.get(recipient=tenant_admin)
    assert row.type == "ALARM" and row.info["alarmId"] == str(alarm.pk) and row.info["type"] == "ALARM"
    with django_capture_on_commit_callbacks(execute=True):
        raise_(tenant_admin.tenant, device, level="MINOR")  # a severity the rule leaves out
    assert len(inbox(tenant_admin)) == 1
    with django_capture_on_commit_callbacks(execute=True):
        raise_(tenant_admin.tenant, device, level="CRITICAL")
    assert texts(tenant_admin) == {"MAJOR created ACTIVE_UNACK", "CRITICAL severity changed"}
    with django_capture_on_commit_callbacks(execute=True):
        raise_(tenant_admin.tenant, device, temperature=20)  # the chain clears it
    assert "CRITICAL cleared CLEARED_UNACK" in texts(tenant_admin) and len(inbox(tenant_admin)) == 3
    # the clear rule cancelled the escalation still waiting
    assert NotificationRequest.objects.filter(status="SCHEDULED").count() == 0
    assert inbox(customer_user) == []


def test_an_escalation_reaches_the_owner_users_later(api, tenant_admin, customer_user, device, chain, rule,
                                                     django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        raise_(tenant_admin.tenant, device)
    assert inbox(customer_user) == []
    scheduled = NotificationRequest.objects.get(status="SCHEDULED")
    assert sending.send_due(scheduled.send_at - 1) == 0
    assert sending.send_due(scheduled.send_at) == 1
    assert inbox(customer_user)[0][0] == "High Temperature on boiler"  # the device's customer's users


def test_acknowledging_through_the_api_fires_and_other_types_do_not(api, tenant_admin, device, chain, rule,
                                                                    django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        raise_(tenant_admin.tenant, device, kind="Low Battery")  # a type the rule leaves out
    assert inbox(tenant_admin) == []
    with django_capture_on_commit_callbacks(execute=True):
        raise_(tenant_admin.tenant, device)
    alarm = Alarm.objects.get(type="High Temperature")
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(f"/api/alarm/{alarm.pk}/ack").status_code == 200
    assert "MAJOR acknowledged ACTIVE_ACK" in texts(tenant_admin)
    with django_capture_on_commit_callbacks(execute=True):
        api.post("/api/notification/rule", {**rule, "enabled": False}, format="json")
        assert api.post(f"/api/alarm/{alarm.pk}/clear").status_code == 200
    assert len(inbox(tenant_admin)) == 2  # a disabled rule does not fire


def test_assignment_and_comment_rules(api, tenant_admin, tenant, device, django_capture_on_commit_callbacks):
    bob = User.objects.create_user("bob@example.com", "x", authority=Authority.TENANT_ADMIN, tenant=tenant,
                                   first_name="Bob")
    affected = users_target(api, "Assignee", {"type": "AFFECTED_USER"})
    assign_tpl = template(api, "Assigned", "ALARM_ASSIGNMENT", {"deliveryMethodsTemplates": {"WEB": {
        "method": "WEB", "subject": "${alarmType} ${action}", "body": "by ${userEmail} to ${assigneeFirstName}"}}})
    assert api.post("/api/notification/rule", {
        "name": "Assign", "templateId": assign_tpl["id"], "triggerType": "ALARM_ASSIGNMENT",
        "triggerConfig": {"notifyOn": ["ASSIGNED"]}, "recipientsConfig": {"targets": [affected["id"]["id"]]}},
        format="json").status_code == 200
    admins = users_target(api, "Admins", {"type": "TENANT_ADMINISTRATORS"})
    comment_tpl = template(api, "Commented", "ALARM_COMMENT", {"deliveryMethodsTemplates": {"WEB": {
        "method": "WEB", "subject": "comment ${action}", "body": "${userEmail}: ${comment}"}}})
    assert api.post("/api/notification/rule", {
        "name": "Comment", "templateId": comment_tpl["id"], "triggerType": "ALARM_COMMENT",
        "triggerConfig": {"onlyUserComments": True}, "recipientsConfig": {"targets": [admins["id"]["id"]]}},
        format="json").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        alarm = Alarm.objects.create(tenant=tenant, originator_type="DEVICE", originator_id=device.pk, type="Door")
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(f"/api/alarm/{alarm.pk}/assign/{bob.pk}").status_code == 200
    assert inbox(bob) == [("Door assigned", "by alice@example.com to Bob")]
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(f"/api/alarm/{alarm.pk}/comment", {"comment": {"text": "on it"}},
                        format="json").status_code == 200
    assert ("comment added", "alice@example.com: on it") in inbox(tenant_admin)
    assert ("comment added", "alice@example.com: on it") in inbox(bob)


def _fire(tenant, devices):
    with CaptureQueriesContext(connection) as queries:
        from notifications.rules import Event, handle

        alarms = [Alarm.objects.create(tenant=tenant, originator_type="DEVICE", originator_id=d.pk,
                                       type="High Temperature", severity="MAJOR") for d in devices]
        start = len(queries.captured_queries)
        handle([Event("ALARM", a, "CREATED") for a in alarms])
        done = queries.captured_queries[start:]
    # bulk INSERTs come in chunks (SQLite takes 999 parameters a statement); every other query is counted
    return len([q for q in done if not q["sql"].startswith("INSERT")]), len(done)


def test_many_alarms_and_recipients_make_no_query_per_recipient(api, tenant, tenant_admin, rule):
    devices = [make_device(tenant, f"d{i}") for i in range(20)]
    from notifications.rules import tenants_with_rules

    tenants_with_rules()  # the process cache of tenants with rules, loaded once per TTL
    few, few_all = _fire(tenant, devices[:10])
    for i in range(30):
        User.objects.create_user(f"admin{i}@example.com", "x", authority=Authority.TENANT_ADMIN, tenant=tenant)
    many, many_all = _fire(tenant, devices[10:])
    assert many == few and few < 12, (few, many)
    assert many_all < few_all + 10  # 310 rows in a few INSERTs, not 310
    assert Notification.objects.filter(recipient=tenant_admin).count() == 20
    assert Notification.objects.count() == 10 + 10 * 31
