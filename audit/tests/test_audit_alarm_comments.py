"""Alarm comments in the audit log (ADDED_COMMENT, UPDATED_COMMENT, DELETED_COMMENT), filed under
the alarm as ThingsBoard files them; the SYSTEM comment of a user's action is logged as added too."""

import pytest
from tb_pe_client.models import PageDataAuditLog

from audit.models import AuditLog
from rulechains import alarms
from rulechains.models import Alarm
from tbproject.testing.factories import make_device


@pytest.fixture
def alarm(tenant, customer):
    device = make_device(tenant, "boiler", customer=customer)
    return Alarm.objects.create(tenant=tenant, customer=customer, originator_type="DEVICE", originator_id=device.pk,
                                type="Overheat", severity="MAJOR", start_ts=1, end_ts=1)


def test_comment_actions_are_logged_under_the_alarm(api, tenant_admin, alarm):
    url = f"/api/alarm/{alarm.pk}/comment"
    saved = api.post(url, {"comment": {"text": "hot"}}, format="json").json()
    assert api.post(url, {"id": saved["id"], "comment": {"text": "very hot"}}, format="json").status_code == 200
    assert api.delete(f"{url}/{saved['id']['id']}").status_code == 200
    assert api.post(f"/api/alarm/{alarm.pk}/ack").status_code == 200
    res = api.get("/api/audit/logs", {"pageSize": 100, "page": 0, "sortProperty": "createdTime", "sortOrder": "ASC",
                                      "actionTypes": "ADDED_COMMENT,UPDATED_COMMENT,DELETED_COMMENT"})
    assert res.status_code == 200, res.content
    page = res.json()
    PageDataAuditLog.from_dict(page)
    rows = page["data"]
    assert [r["actionType"] for r in rows] == ["ADDED_COMMENT", "UPDATED_COMMENT", "DELETED_COMMENT", "ADDED_COMMENT"]
    assert [r["actionData"]["comment"]["comment"]["text"] for r in rows] == [
        "hot", "very hot", "Comment was deleted by user alice@example.com",
        "Alarm was acknowledged by user alice@example.com"]
    for row in rows:
        assert row["entityId"] == {"entityType": "ALARM", "id": str(alarm.pk)} and row["entityName"] == "Overheat"
        assert row["userName"] == tenant_admin.email and row["actionData"]["entity"]["type"] == "Overheat"


def test_comments_no_user_wrote_are_not_logged(tenant, alarm):
    alarms.raise_alarm(tenant.pk, "DEVICE", alarm.originator_id, "Overheat", "CRITICAL", None, 5)  # severity: SYSTEM
    assert alarm.comments.count() == 1
    assert not AuditLog.objects.filter(action_type="ADDED_COMMENT").exists()
