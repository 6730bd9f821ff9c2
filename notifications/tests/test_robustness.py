"""What an alarm commit costs and never waits for, what one tenant's bad rule cannot break, and what
is never left behind: rolled-back alarms, stuck or orphaned scheduled requests, foreign inbox rows."""

import json

import pytest
from django.core import mail
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from notifications import rules, sending, tasks
from notifications.models import Notification, NotificationRequest, NotificationRule, RequestStatus
from notifications.tests.helpers import send, template, users_target
from rulechains import alarms
from rulechains.models import Alarm
from tbproject.testing.factories import make_device
from tenants.choices import Authority
from tenants.models import User

pytestmark = pytest.mark.django_db

WEB = {"deliveryMethodsTemplates": {"WEB": {"method": "WEB", "subject": "${alarmType}", "body": "${alarmId}"}}}
WEB_MAIL = {"deliveryMethodsTemplates": {
    **WEB["deliveryMethodsTemplates"],
    "EMAIL": {"method": "EMAIL", "subject": "Alarm ${alarmType}",
              "body": "<p>${alarmType} on ${alarmOriginatorName}</p>"}}}


def _rule(api, configuration=WEB, table=None, **trigger):
    admins = users_target(api, "Admins", {"type": "TENANT_ADMINISTRATORS"})
    tpl = template(api, "Alarm", "ALARM", configuration)
    return api.post("/api/notification/rule", {
        "name": "Any", "templateId": tpl["id"], "triggerType": "ALARM",
        "triggerConfig": {"notifyOn": ["CREATED"], **trigger},
        "recipientsConfig": {"escalationTable": table or {"0": [admins["id"]["id"]]}}}, format="json")


def _alarm(tenant, device, kind="x"):
    return Alarm.objects.create(tenant_id=tenant.pk, originator_type="DEVICE", originator_id=device.pk, type=kind,
                                severity="MAJOR", start_ts=1, end_ts=1, created_time=1)


def test_an_alarm_commit_queues_the_emails_and_escapes_values(api, tenant, tenant_admin, monkeypatch,
                                                              django_capture_on_commit_callbacks):
    assert _rule(api, WEB_MAIL).status_code == 200
    device = make_device(tenant, "<i>boiler</i>")
    queued = []
    monkeypatch.setattr(tasks.send_mails, "delay", queued.append)  # a spy: what a worker would get
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _alarm(tenant, device, "<b>hot</b>")
    assert mail.outbox == []  # the alarm's commit never talks to the mail server
    assert Notification.objects.filter(recipient=tenant_admin, subject="<b>hot</b>").count() == 1  # WEB: at once
    [payload] = queued
    assert [row[1] for row in payload] == ["alice@example.com"]
    tasks.send_mails(payload)  # the worker
    [message] = mail.outbox
    html = message.alternatives[0][0]
    assert html == "<p>&lt;b&gt;hot&lt;/b&gt; on &lt;i&gt;boiler&lt;/i&gt;</p>"
    assert message.body == "<b>hot</b> on <i>boiler</i>" and message.subject == "Alarm <b>hot</b>"
    stats = NotificationRequest.objects.get().stats
    assert stats["sent"] == {"WEB": 1, "EMAIL": 1} and stats["totalSent"] == 2


def test_clearing_alarms_deletes_escalations_once_per_rule(api, tenant, tenant_admin,
                                                            django_capture_on_commit_callbacks):
    admins = users_target(api, "Admins2", {"type": "TENANT_ADMINISTRATORS"})
    assert _rule(api, table={"0": [admins["id"]["id"]], "60": [admins["id"]["id"]]},
                 clearRule={"alarmStatuses": ["CLEARED"]}).status_code == 200
    device = make_device(tenant, "d")
    with django_capture_on_commit_callbacks(execute=True):
        made = [_alarm(tenant, device, f"t{i}") for i in range(20)]
    assert NotificationRequest.objects.filter(status=RequestStatus.SCHEDULED).count() == 20
    with CaptureQueriesContext(connection) as queries:
        with django_capture_on_commit_callbacks(execute=True):
            with transaction.atomic():
                for alarm in made:
                    alarms.clear(alarm, None, 5)
    deletes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("DELETE")]
    assert len(deletes) <= 2, deletes  # the requests' and (Django's cascade) their inbox rows', for 20 alarms
    assert not NotificationRequest.objects.filter(status=RequestStatus.SCHEDULED).exists()


def test_a_rule_filtering_other_types_deletes_nothing(api, tenant, tenant_admin, django_capture_on_commit_callbacks):
    assert _rule(api, alarmTypes=["other"], clearRule={"alarmStatuses": ["CLEARED"]}).status_code == 200
    alarm = _alarm(tenant, make_device(tenant, "d"))
    with CaptureQueriesContext(connection) as queries:
        with django_capture_on_commit_callbacks(execute=True):
            alarms.clear(alarm, None, 5)
    assert not [q for q in queries.captured_queries if q["sql"].startswith("DELETE")]


@pytest.mark.parametrize("statuses", [[["x"]], ["NOPE"], [{"a": 1}], "CLEARED"])
def test_clear_rule_statuses_are_checked(api, tenant, statuses):
    res = _rule(api, clearRule={"alarmStatuses": statuses})
    assert res.status_code == 400, res.content


def test_one_tenants_broken_rule_does_not_stop_another_tenants(api, mallory_api, tenant, other_tenant, tenant_admin,
                                                               mallory, django_capture_on_commit_callbacks):
    assert _rule(api).status_code == 200
    assert _rule(mallory_api).status_code == 200
    # a row the API refuses now (stored before the check existed, or by hand): it fails alone
    NotificationRule.objects.filter(tenant=other_tenant).update(
        trigger_config={"notifyOn": ["CREATED"], "clearRule": {"alarmStatuses": [["x"]]}})
    mine, theirs = make_device(tenant, "d"), make_device(other_tenant, "m")
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            _alarm(other_tenant, theirs)
            _alarm(tenant, mine)
    assert Notification.objects.filter(recipient=tenant_admin).count() == 1
    assert Notification.objects.filter(recipient=mallory).count() == 0


def test_an_alarm_rolled_back_in_a_savepoint_notifies_nobody(api, tenant, tenant_admin,
                                                             django_capture_on_commit_callbacks):
    assert _rule(api).status_code == 200
    device = make_device(tenant, "d")
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            _alarm(tenant, device, "kept")
            try:
                with transaction.atomic():
                    _alarm(tenant, device, "rolledback")
                    raise RuntimeError
            except RuntimeError:
                pass
            with transaction.atomic():
                _alarm(tenant, device, "released")
    assert sorted(Notification.objects.values_list("subject", flat=True)) == ["kept", "released"]


def _scheduled(api):
    target = users_target(api, "Admins", {"type": "TENANT_ADMINISTRATORS"})
    res = send(api, [target["id"]["id"]], template(api)["id"]["id"], additionalConfig={"sendingDelayInSec": 1})
    assert res.status_code == 200, res.content
    return NotificationRequest.objects.get(pk=res.json()["id"]["id"])


def test_a_failing_scheduled_request_is_not_left_processing(api, tenant_admin, monkeypatch):
    request = _scheduled(api)

    def boom(*args, **kwargs):
        raise RuntimeError("database error")

    monkeypatch.setattr(sending, "send_batch", boom)
    assert sending.send_due(now=10**13) == 1
    request.refresh_from_db()
    assert request.status == RequestStatus.SENT and "database error" in request.stats["error"]
    assert sending.send_due(now=10**13) == 0


def test_a_dead_runners_claim_is_taken_again_after_the_timeout(api, tenant_admin):
    request = _scheduled(api)
    now = 10**13
    NotificationRequest.objects.filter(pk=request.pk).update(status=RequestStatus.PROCESSING, claimed_at=now - 1000)
    assert sending.send_due(now=now) == 0  # a runner may still be at it
    assert sending.send_due(now=now + sending.CLAIM_TIMEOUT_MS) == 1
    request.refresh_from_db()
    assert request.status == RequestStatus.SENT and Notification.objects.filter(recipient=tenant_admin).count() == 1


@pytest.mark.parametrize("how", ["delete", "disable"])
def test_a_deleted_or_disabled_rules_escalations_are_dropped(api, tenant, tenant_admin, how,
                                                             django_capture_on_commit_callbacks):
    admins = users_target(api, "Later", {"type": "TENANT_ADMINISTRATORS"})
    rule = _rule(api, table={"60": [admins["id"]["id"]]}).json()
    with django_capture_on_commit_callbacks(execute=True):
        _alarm(tenant, make_device(tenant, "d"))
    assert NotificationRequest.objects.filter(status=RequestStatus.SCHEDULED).count() == 1
    if how == "delete":
        assert api.delete(f"/api/notification/rule/{rule['id']['id']}").status_code == 200
    else:
        assert api.post("/api/notification/rule", {**rule, "enabled": False}, format="json").status_code == 200
    assert not NotificationRequest.objects.filter(status=RequestStatus.SCHEDULED).exists()
    assert sending.send_due(now=10**13) == 0 and not Notification.objects.exists()


def test_digits_other_than_ascii_are_a_400(api, tenant):
    assert _rule(api, table={"\u00b2": []}).status_code == 400
    target = users_target(api, "Admins2", {"type": "TENANT_ADMINISTRATORS"})
    res = api.post("/api/notification/request/preview?recipientsPreviewSize=%C2%B2",
                   json.dumps({"targets": [target["id"]["id"]], "templateId": {"id": template(api)["id"]["id"]}}),
                   content_type="application/json")
    assert res.status_code == 400, res.content


def test_an_alarm_of_a_tenant_without_rules_queries_no_rule(api, tenant, other_tenant, mallory_api, mallory,
                                                            django_capture_on_commit_callbacks,
                                                            django_assert_num_queries):
    assert _rule(mallory_api).status_code == 200  # another tenant has rules
    device = make_device(tenant, "d")
    rules.tenants_with_rules()
    with django_assert_num_queries(1):  # the alarm's INSERT
        with django_capture_on_commit_callbacks(execute=True):
            _alarm(tenant, device)
    assert rules.handle([rules.Event("ALARM", Alarm.objects.get(), "CREATED")]) == 0


def test_a_rule_saved_is_seen_at_once(api, tenant, tenant_admin, django_capture_on_commit_callbacks):
    assert rules.tenants_with_rules() == frozenset()
    assert _rule(api).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        _alarm(tenant, make_device(tenant, "d"))
    assert Notification.objects.filter(recipient=tenant_admin).count() == 1


def test_the_admin_shows_only_ones_own_inbox(api, tenant, tenant_admin):
    bob = User.objects.create_user("bob@example.com", "x", authority=Authority.TENANT_ADMIN, tenant=tenant)
    target = users_target(api, "Both", {"type": "USER_LIST", "usersIds": [str(tenant_admin.pk), str(bob.pk)]})
    tpl = template(api, "mine", configuration={"deliveryMethodsTemplates": {
        "WEB": {"method": "WEB", "subject": "For ${recipientEmail}", "body": "b"}}})
    assert send(api, [target["id"]["id"]], tpl["id"]["id"]).status_code == 200
    client = Client()
    client.force_login(tenant_admin)
    listing = client.get("/admin/notifications/notification/").content.decode()
    assert "For alice@example.com" in listing and "For bob@example.com" not in listing
    theirs = Notification.objects.get(recipient=bob)
    assert client.get(f"/admin/notifications/notification/{theirs.pk}/change/").status_code in (302, 403, 404)
