"""Alarm types, highest severity and the v2 alarm lists at ThingsBoard's paths."""

from tb_pe_client.models import PageDataAlarmInfo, PageDataEntitySubtype

from rulechains.models import Alarm
from tbproject.testing.api import assert_error
from tbproject.testing.factories import make_device


def raise_alarm(tenant, device, alarm_type, severity, **extra):
    return Alarm.objects.create(tenant=tenant, originator_type="DEVICE", originator_id=device.pk, type=alarm_type,
                                severity=severity, **extra)


def test_it_lists_alarm_types(api, tenant, other_tenant):
    device = make_device(tenant, "alarmed")
    for alarm_type in ("High Temp", "Low Battery", "High Temp"):
        raise_alarm(tenant, device, alarm_type, "MAJOR")
    raise_alarm(other_tenant, make_device(other_tenant, "theirs"), "Secret Type", "MAJOR")
    page = PageDataEntitySubtype.from_dict(api.get("/api/alarm/types", {"pageSize": 1, "page": 0}).json())
    assert [t.type for t in page.data] == ["High Temp"] and page.total_elements == 2 and page.has_next
    found = api.get("/api/alarm/types", {"pageSize": 10, "page": 0, "textSearch": "batt"}).json()
    assert [t["type"] for t in found["data"]] == ["Low Battery"] and found["data"][0]["entityType"] == "ALARM"


def test_it_answers_the_highest_severity_or_nothing(api, tenant, other_tenant):
    device = make_device(tenant, "sev")
    url = f"/api/alarm/highestSeverity/DEVICE/{device.pk}"
    res = api.get(url)
    assert res.status_code == 200 and res.json() is None
    raise_alarm(tenant, device, "a", "MINOR")
    raise_alarm(tenant, device, "b", "CRITICAL", cleared=True)
    assert api.get(url).json() == "CRITICAL"
    assert api.get(url, {"searchStatus": "ACTIVE"}).json() == "MINOR"
    assert_error(api.get(f"/api/alarm/highestSeverity/DEVICE/{make_device(other_tenant, 'x').pk}"), 404)


def test_the_v2_lists_filter_by_status_severity_and_type(api, tenant, other_tenant):
    device = make_device(tenant, "v2")
    raise_alarm(tenant, device, "a", "MINOR")
    raise_alarm(tenant, device, "b", "CRITICAL", cleared=True)
    raise_alarm(tenant, device, "c", "MAJOR", acknowledged=True)
    base = {"pageSize": 10, "page": 0, "sortProperty": "type", "sortOrder": "ASC"}
    page = PageDataAlarmInfo.from_dict(api.get(f"/api/v2/alarm/DEVICE/{device.pk}", base).json())
    assert [a.type for a in page.data] == ["a", "b", "c"]
    active = api.get("/api/v2/alarms", {**base, "statusList": "ACTIVE"}).json()
    assert [a["type"] for a in active["data"]] == ["a", "c"]
    unack = api.get("/api/v2/alarms", {**base, "statusList": "ACTIVE,UNACK"}).json()
    assert [a["type"] for a in unack["data"]] == ["a"]
    by_sev = api.get("/api/v2/alarms", {**base, "severityList": "CRITICAL,MAJOR", "typeList": "b"}).json()
    assert [a["type"] for a in by_sev["data"]] == ["b"]
    assert_error(api.get("/api/v2/alarms", {**base, "severityList": "HUGE"}), 400, "severityList")
    assert_error(api.get(f"/api/v2/alarm/DEVICE/{make_device(other_tenant, 'y').pk}", base), 404)


def test_it_saves_alarms_like_the_create_node_and_updates_by_id(api, tenant, other_tenant):
    device = make_device(tenant, "saved")
    body = {"originator": {"entityType": "DEVICE", "id": str(device.pk)}, "type": "Overheat", "severity": "MAJOR",
            "acknowledged": False, "cleared": False, "details": {"t": 90}}
    first = api.post("/api/alarm", body, format="json")
    assert first.status_code == 200, first.content
    assert (first.json()["status"], first.json()["severity"], first.json()["details"]) == ("ACTIVE_UNACK", "MAJOR",
                                                                                           {"t": 90})
    again = api.post("/api/alarm", {**body, "severity": "CRITICAL"}, format="json").json()
    assert again["id"] == first.json()["id"] and Alarm.objects.get().severity == "CRITICAL"
    updated = api.post("/api/alarm", {**again, "severity": "MINOR", "details": None}, format="json").json()
    assert (updated["severity"], updated["details"]) == ("MINOR", None)
    assert_error(api.post("/api/alarm", {**again, "type": "Other"}, format="json"), 400, "type")
    assert_error(api.post("/api/alarm", {**body, "severity": "HUGE"}, format="json"), 400, "severity")
    assert_error(api.post("/api/alarm", {**body, "type": ""}, format="json"), 400, "type")
    theirs = make_device(other_tenant, "theirs")
    assert_error(api.post("/api/alarm", {**body, "originator": {"entityType": "DEVICE", "id": str(theirs.pk)}},
                          format="json"), 404)
    assert_error(api.get("/api/alarm"), 405)
    assert Alarm.objects.count() == 1

