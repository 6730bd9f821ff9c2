"""Create and clear alarm nodes through the engine (ThingsBoard's export JSON), and /api/alarm."""

import json

import pytest

from rulechains import engine, nodes
from rulechains.models import Alarm
from rulechains.nodes.base import ConfigError
from rulechains.tests.helpers import events_of, install_root, make_node, msg, node
from tbproject.testing.factories import make_device

DETAILS_JS = ("var details = {};\nif (metadata.prevAlarmDetails) {\n"
              "    details = JSON.parse(metadata.prevAlarmDetails);\n    delete metadata.prevAlarmDetails;\n}\n"
              "details.count = (details.count || 0) + 1;\n"
              "details.temperature = msg.temperature;\nreturn details;")
DETAILS_TBEL = "var details = {};\ndetails.cleared_at = msg.temperature;\nreturn details;"


@pytest.fixture
def device(tenant, customer):
    return make_device(tenant, "boiler", label="Boiler room", customer=customer)


@pytest.fixture
def chain(tenant):
    """ThingsBoard's "create alarm if too hot, clear it otherwise" chain."""
    return install_root(tenant, [
        node(nodes.SWITCH, "switch", True),
        node(nodes.SCRIPT_FILTER, "too hot?", scriptLang="JS", jsScript="return msg.temperature > 50;"),
        node(nodes.CREATE_ALARM, "raise", True, scriptLang="JS", alarmDetailsBuildJs=DETAILS_JS,
             alarmDetailsBuildTbel="", alarmType="High Temperature", severity="${level}", propagate=False,
             propagateToOwner=False, propagateToTenant=False, useMessageAlarmData=False,
             overwriteAlarmDetails=False, dynamicSeverity=True, relationTypes=[]),
        node(nodes.CLEAR_ALARM, "clear", True, scriptLang="TBEL", alarmDetailsBuildJs="",
             alarmDetailsBuildTbel=DETAILS_TBEL, alarmType="High Temperature"),
    ], [(0, 1, "Post telemetry"), (1, 2, "True"), (1, 3, "False")])


def outs(chain, index):
    """(relation, type, data, metadata) of the node's OUT events, by relation name."""
    return sorted(((e["relationType"], e["msgType"], json.loads(e["data"]), json.loads(e["metadata"]))
                   for e in events_of(chain.nodes.get(index=index), "OUT")), key=lambda out: out[0])


def test_an_alarm_is_created_updated_and_cleared_by_the_chain(tenant, device, chain):
    engine.process([msg(tenant, device, data={"temperature": 60}, metadata={"level": "MAJOR", "ts": "1000"})])
    engine.process([msg(tenant, device, data={"temperature": 70}, metadata={"level": "CRITICAL"})])
    [alarm] = Alarm.objects.all()
    assert (alarm.type, alarm.severity, alarm.status, alarm.start_ts) == ("High Temperature", "CRITICAL",
                                                                         "ACTIVE_UNACK", 1000)
    assert alarm.details == {"count": 2, "temperature": 70} and alarm.customer_id == device.customer_id
    (created, kind, data, meta), (updated, _, _, meta2) = outs(chain, 2)
    assert (created, kind, meta["isNewAlarm"], updated, meta2["isExistingAlarm"]) == (
        "Created", "ALARM", "true", "Updated", "true")
    assert data["originator"] == {"entityType": "DEVICE", "id": str(device.pk)} and data["status"] == "ACTIVE_UNACK"

    engine.process([msg(tenant, device, data={"temperature": 20})])
    engine.process([msg(tenant, device, data={"temperature": 10})])  # nothing left to clear
    alarm.refresh_from_db()
    assert alarm.cleared and alarm.details == {"cleared_at": 20} and alarm.clear_ts > 0
    [(cleared, _, data, meta), (nothing, kind, plain, _)] = outs(chain, 3)
    assert (cleared, data["status"], meta["isClearedAlarm"]) == ("Cleared", "CLEARED_UNACK", "true")
    assert (nothing, kind, plain) == ("False", "POST_TELEMETRY_REQUEST", {"temperature": 10})

    engine.process([msg(tenant, device, data={"temperature": 90}, metadata={"level": "MINOR"})])
    assert Alarm.objects.filter(cleared=False).get().details == {"count": 1, "temperature": 90}  # a new alarm


def test_a_wrong_severity_or_a_failing_script_fails_the_message(tenant, device, chain):
    engine.process([msg(tenant, device, data={"temperature": 60}, metadata={"level": "HUGE"})])
    [(relation, _, _, _)] = outs(chain, 2)
    assert relation == "Failure" and not Alarm.objects.exists()
    [[out]] = make_node(tenant, nodes.CREATE_ALARM, alarmDetailsBuildJs="throw new Error('no details');",
                        severity="WARNING").process_batch(_ctx(tenant), [msg(tenant, device)])
    assert out.relation == "Failure" and "no details" in out.error


def test_alarm_data_can_come_from_the_message(tenant, device):
    node_ = make_node(tenant, nodes.CREATE_ALARM, useMessageAlarmData=True, overwriteAlarmDetails=False)
    [[out]] = node_.process_batch(_ctx(tenant), [msg(tenant, device, data={"type": "Door", "severity": "MINOR",
                                                                         "details": {"open": True}})])
    assert out.relation == "Created" and out.msg.data["details"] == {"open": True} and out.msg.data["type"] == "Door"


@pytest.mark.parametrize("configuration, message", [
    ({"severity": "LOUD"}, "Incorrect Alarm Severity"),
    ({"scriptLang": "LUA"}, "scriptLang"),
])
def test_it_refuses_configurations_it_cannot_run(tenant, configuration, message):
    with pytest.raises(ConfigError, match=message):
        make_node(tenant, nodes.CREATE_ALARM, **configuration)
    with pytest.raises(ConfigError, match="does not compile"):
        nodes.get_node(nodes.CLEAR_ALARM).check({"alarmDetailsBuildJs": "return (;"})


def _ctx(tenant):
    from rulechains.nodes.base import NodeContext
    from tbproject.clock import now_ms

    return NodeContext(tenant.pk, now_ms())


# --- the API ------------------------------------------------------------------------------------

def _raise(tenant, device, temperature=60, level="MAJOR"):
    engine.process([msg(tenant, device, data={"temperature": temperature}, metadata={"level": level})])


def test_alarms_of_an_entity_page_by_status_as_thingsboard(api, tenant, device, chain):
    _raise(tenant, device)
    _raise(tenant, device, temperature=20)  # cleared
    _raise(tenant, device)  # a second, active
    url = f"/api/alarm/DEVICE/{device.pk}?pageSize=1&page=0"
    res = api.get(url)
    assert res.status_code == 200, res.content
    page = res.json()
    assert (page["totalElements"], page["totalPages"], page["hasNext"]) == (2, 2, True)
    newest = page["data"][0]
    assert newest["status"] == "ACTIVE_UNACK" and newest["originatorName"] == "boiler"
    assert newest["originatorLabel"] == "Boiler room" and newest["name"] == "High Temperature"
    assert api.get(url + "&searchStatus=CLEARED").json()["data"][0]["status"] == "CLEARED_UNACK"
    assert api.get(url + "&status=ACTIVE_UNACK").json()["totalElements"] == 1
    assert api.get(url + "&textSearch=high").json()["totalElements"] == 2
    assert api.get(url + "&searchStatus=NOPE").status_code == 400
    assert api.get("/api/alarms?pageSize=10&page=0&searchStatus=ACTIVE").json()["totalElements"] == 1


def test_an_alarm_is_read_acknowledged_cleared_and_deleted(api, tenant, device, chain):
    _raise(tenant, device)
    alarm = Alarm.objects.get()
    assert api.get(f"/api/alarm/{alarm.pk}").json()["severity"] == "MAJOR"
    info = api.get(f"/api/alarm/info/{alarm.pk}").json()
    assert info["originatorName"] == "boiler" and info["id"] == {"entityType": "ALARM", "id": str(alarm.pk)}
    acked = api.post(f"/api/alarm/{alarm.pk}/ack")
    assert acked.status_code == 200 and acked.json()["status"] == "ACTIVE_ACK" and acked.json()["ackTs"] > 0
    assert api.post(f"/api/alarm/{alarm.pk}/ack").status_code == 400
    cleared = api.post(f"/api/alarm/{alarm.pk}/clear").json()
    assert cleared["status"] == "CLEARED_ACK" and cleared["clearTs"] > 0
    assert "already cleared" in api.post(f"/api/alarm/{alarm.pk}/clear").json()["message"]
    announced = [json.loads(e["data"])["status"] for e in events_of(chain.nodes.get(index=0), "IN")
                 if e["msgType"].startswith("ALARM_")]  # the root chain heard of both, as ThingsBoard's
    assert sorted(announced) == ["ACTIVE_ACK", "CLEARED_ACK"]
    assert api.delete(f"/api/alarm/{alarm.pk}").json() is True and not Alarm.objects.exists()


def test_another_tenants_alarms_and_entities_are_not_found(mallory_api, tenant, device, chain):
    _raise(tenant, device)
    alarm = Alarm.objects.get()
    for url in (f"/api/alarm/{alarm.pk}", f"/api/alarm/info/{alarm.pk}"):
        assert mallory_api.get(url).status_code == 404
    assert mallory_api.post(f"/api/alarm/{alarm.pk}/ack").status_code == 404
    assert mallory_api.get(f"/api/alarm/DEVICE/{device.pk}?pageSize=10&page=0").status_code == 404
    assert mallory_api.get("/api/alarms?pageSize=10&page=0").json()["totalElements"] == 0
    alarm.refresh_from_db()
    assert not alarm.acknowledged


def test_a_customer_user_sees_and_acknowledges_its_customers_alarms_only(customer_api, tenant, device, chain):
    _raise(tenant, device)
    other = make_device(tenant, "not theirs")
    _raise(tenant, other)
    mine, theirs = Alarm.objects.get(originator_id=device.pk), Alarm.objects.get(originator_id=other.pk)
    assert customer_api.get("/api/alarms?pageSize=10&page=0").json()["totalElements"] == 1
    assert customer_api.post(f"/api/alarm/{mine.pk}/ack").status_code == 200
    assert customer_api.get(f"/api/alarm/{theirs.pk}").status_code == 404
    assert customer_api.delete(f"/api/alarm/{mine.pk}").status_code == 403
