"""ThingsBoard's own generated client (tb-pe-client) on alarms (save, types, highest severity, the v2
lists, ack/clear, the alarm data queries) and on customer infos, short info and title.

Reuses the server and client fixtures of tests/test_tb_client.py (a fresh server for this module).
"""

import json

import pytest
from tb_pe_client.exceptions import ApiException
from tb_pe_client.models import Alarm, AlarmCountQuery, AlarmDataQuery, Customer, Device

from tests.test_tb_client import client, server_url  # noqa: F401  (fixtures)

pytestmark = pytest.mark.server


def test_it_saves_lists_and_settles_alarms(client):  # noqa: F811
    device = client.save_device(Device(name="client-alarmed", type="meter"))
    device_id = str(device.id.id)
    assert client.get_highest_alarm_severity("DEVICE", device_id) is None
    saved = client.save_alarm(Alarm(originator=device.id, type="Overheat", severity="MAJOR", acknowledged=False,
                                    cleared=False, name="Overheat", status="ACTIVE_UNACK", details={"t": 90}))
    assert saved is not None and saved.status == "ACTIVE_UNACK" and saved.details == {"t": 90}
    client.save_alarm(Alarm(originator=device.id, type="Low battery", severity="MINOR", acknowledged=False,
                            cleared=False, name="Low battery", status="ACTIVE_UNACK"))
    types = client.get_alarm_types(page_size=10, page=0)
    assert [t.type for t in types.data] == ["Low battery", "Overheat"]
    assert client.get_highest_alarm_severity("DEVICE", device_id) == "MAJOR"
    page = client.get_alarms_v2("DEVICE", device_id, page_size=10, page=0, severity_list=["MINOR"])
    assert [a.type for a in page.data] == ["Low battery"]
    assert client.ack_alarm(str(saved.id.id)).status == "ACTIVE_ACK"
    assert client.clear_alarm(str(saved.id.id)).status == "CLEARED_ACK"
    active = client.get_all_alarms_v2(page_size=10, page=0, status_list=["ACTIVE"])
    assert [a.type for a in active.data] == ["Low battery"]
    assert client.get_highest_alarm_severity("DEVICE", device_id, search_status="ACTIVE") == "MINOR"


def test_it_runs_alarm_data_queries(client):  # noqa: F811
    for name, temperature in (("client-hot", 31), ("client-cold", 12)):
        device = client.save_device(Device(name=name, type="client-alarm-meter"))
        body = json.dumps({"ts": 1_700_000_000_000, "values": {"temperature": temperature}})
        assert client.save_entity_telemetry("DEVICE", str(device.id.id), "ANY", body) == ""
        for alarm_type, severity in (("Temperature", "MAJOR"), ("Offline", "CRITICAL")):
            client.save_alarm(Alarm(originator=device.id, type=alarm_type, severity=severity, acknowledged=False,
                                    cleared=False, name=alarm_type, status="ACTIVE_UNACK"))
    entity_filter = {"type": "deviceType", "resolveMultiple": True, "deviceTypes": ["client-alarm-meter"],
                     "deviceNameFilter": ""}
    warm = {"key": {"type": "TIME_SERIES", "key": "temperature"}, "valueType": "NUMERIC",
            "predicate": {"type": "NUMERIC", "operation": "GREATER", "value": {"defaultValue": 20}}}
    query = AlarmDataQuery.from_dict({
        "entityFilter": entity_filter,
        "pageLink": {"page": 0, "pageSize": 10, "textSearch": None, "searchPropagatedAlarms": False,
                     "statusList": ["ACTIVE"], "severityList": ["CRITICAL", "MAJOR"], "typeList": [],
                     "sortOrder": {"key": {"key": "severity", "type": "ALARM_FIELD"}, "direction": "ASC"}},
        "alarmFields": [{"type": "ALARM_FIELD", "key": k} for k in ("createdTime", "type", "severity", "status")],
        "entityFields": [{"type": "ENTITY_FIELD", "key": "name"}],
        "latestValues": [{"type": "TIME_SERIES", "key": "temperature"}],
    })
    page = client.find_alarm_data_by_query(query)
    assert page.total_elements == 4 and page.has_next is False
    assert [a.severity for a in page.data] == ["CRITICAL", "CRITICAL", "MAJOR", "MAJOR"]
    hot = client.find_alarm_data_by_query(AlarmDataQuery.from_dict({**query.to_dict(), "keyFilters": [warm]}))
    assert {(a.originator_name, a.type) for a in hot.data} == {("client-hot", "Temperature"), ("client-hot", "Offline")}
    assert hot.data[0].latest["TIME_SERIES"]["temperature"].value == "31"
    assert hot.data[0].entity_id.id == hot.data[0].originator.id
    count = AlarmCountQuery.from_dict({"entityFilter": entity_filter, "severityList": ["MAJOR"],
                                       "statusList": ["ACTIVE"]})
    assert client.count_alarms_by_query(count) == 2
    with pytest.raises(ApiException) as caught:
        client.count_alarms_by_query(AlarmCountQuery.from_dict({"entityFilter": entity_filter,
                                                                "timeWindow": -1}))
    assert caught.value.status == 400 and "timeWindow" in json.loads(caught.value.body)["message"]


def test_it_reads_customer_infos_and_titles(client):  # noqa: F811
    customer = client.save_customer(Customer(title="Info Customer"))
    customer_id = str(customer.id.id)
    info = client.get_customer_info_by_id(customer_id)
    assert info.title == "Info Customer" and info.owner_name == "Client Test"
    assert [c.title for c in client.get_all_customer_infos(page_size=10, page=0, text_search="info").data] == [
        "Info Customer"]
    assert client.get_customer_title_by_id(customer_id) == "Info Customer"
    assert client.get_short_customer_info_by_id(customer_id) == {"title": "Info Customer", "isPublic": False}
    assert client.is_tbel_enabled() is True
    root = client.get_rule_chains(page_size=10, page=0).data[0]
    assert client.get_rule_chain_output_labels(str(root.id.id)) == []
