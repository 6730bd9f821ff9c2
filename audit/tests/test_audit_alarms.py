"""Alarm actions in the audit log (ALARM_ACK, ALARM_CLEAR, ALARM_ASSIGNED, ALARM_UNASSIGNED,
ALARM_DELETE) through the API: who acted, filed under the alarm's originator as ThingsBoard files
them, none for another tenant, none when no user acted."""

import pytest
from tb_pe_client.models import PageDataAuditLog

from audit.models import AuditLog
from rulechains import alarms
from rulechains.models import Alarm
from tbproject.testing.api import assert_error
from tbproject.testing.factories import make_device


def logs(api, path="/api/audit/logs", **params):
    res = api.get(path, {"pageSize": 100, "page": 0, **params})
    assert res.status_code == 200, res.content
    return res.json()


@pytest.fixture
def alarm(tenant, customer):
    device = make_device(tenant, "boiler", customer=customer)
    return Alarm.objects.create(tenant=tenant, customer=customer, originator_type="DEVICE", originator_id=device.pk,
                                type="Overheat", severity="MAJOR", start_ts=1, end_ts=1)


def test_every_alarm_action_is_logged_with_the_acting_user(api, tenant_admin, alarm):
    base = f"/api/alarm/{alarm.pk}"
    assert api.post(f"{base}/ack").status_code == 200
    assert api.post(f"{base}/assign/{tenant_admin.pk}").status_code == 200
    assert api.delete(f"{base}/assign").status_code == 200
    assert api.post(f"{base}/clear").status_code == 200
    assert api.delete(base).status_code == 200

    page = logs(api, actionTypes="ALARM_ACK,ALARM_CLEAR,ALARM_ASSIGNED,ALARM_UNASSIGNED,ALARM_DELETE",
                sortProperty="createdTime", sortOrder="ASC")
    assert [r["actionType"] for r in page["data"]] == ["ALARM_ACK", "ALARM_ASSIGNED", "ALARM_UNASSIGNED",
                                                       "ALARM_CLEAR", "ALARM_DELETE"]
    for row in page["data"]:
        assert row["userId"] == {"entityType": "USER", "id": str(tenant_admin.pk)}
        assert row["userName"] == tenant_admin.email and row["actionStatus"] == "SUCCESS"
        assert row["entityId"] == {"entityType": "DEVICE", "id": str(alarm.originator_id)}
        assert row["entityName"] == "Overheat"
        assert row["actionData"]["entity"]["id"] == {"entityType": "ALARM", "id": str(alarm.pk)}
    ack, assigned, _, cleared, deleted = (r["actionData"]["entity"] for r in page["data"])
    assert ack["acknowledged"] is True and assigned["assigneeId"]["id"] == str(tenant_admin.pk)
    assert cleared["status"] == "CLEARED_ACK" and deleted["status"] == "CLEARED_ACK"
    assert PageDataAuditLog.from_dict(page).total_elements == 5
    # the originator's own log lists them
    device_log = logs(api, f"/api/audit/logs/entity/DEVICE/{alarm.originator_id}")
    assert {r["actionType"] for r in device_log["data"]} >= {"ALARM_ACK", "ALARM_DELETE"}


def test_a_customer_users_actions_name_that_user(api, customer_api, customer_user, alarm):
    assert customer_api.post(f"/api/alarm/{alarm.pk}/ack").status_code == 200
    [row] = logs(api, actionTypes="ALARM_ACK")["data"]
    assert row["userName"] == customer_user.email
    assert row["customerId"]["id"] == str(customer_user.customer_id)


def test_refused_and_repeated_actions_log_nothing(api, customer_api, alarm):
    assert api.post(f"/api/alarm/{alarm.pk}/ack").status_code == 200
    assert api.post(f"/api/alarm/{alarm.pk}/ack").status_code == 400  # already acknowledged
    assert customer_api.delete(f"/api/alarm/{alarm.pk}").status_code == 403
    # the acknowledgement and its SYSTEM comment ("Alarm was acknowledged by user ..."), as ThingsBoard logs them
    assert sorted(AuditLog.objects.values_list("action_type", flat=True)) == ["ADDED_COMMENT", "ALARM_ACK"]


def test_another_tenant_sees_none_and_cannot_act(api, mallory_api, alarm):
    assert api.post(f"/api/alarm/{alarm.pk}/clear").status_code == 200
    assert_error(mallory_api.post(f"/api/alarm/{alarm.pk}/ack"), 404)
    assert_error(mallory_api.delete(f"/api/alarm/{alarm.pk}"), 404)
    assert logs(mallory_api)["totalElements"] == 0
    assert_error(mallory_api.get(f"/api/audit/logs/entity/DEVICE/{alarm.originator_id}",
                                 {"pageSize": 10, "page": 0}), 404)
    assert AuditLog.objects.filter(action_type="ALARM_CLEAR").count() == 1


def test_actions_no_user_made_are_not_logged(alarm):
    assert alarms.clear(alarm, None, 5)
    alarms.announce(alarm, "ALARM_CLEAR")  # the rule engine's clear: no user acted
    alarm.delete()
    assert not AuditLog.objects.exists()
