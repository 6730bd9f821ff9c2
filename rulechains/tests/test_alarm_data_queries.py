"""ThingsBoard's alarm data queries (POST /api/alarmsQuery/find, /count) through the Django test
client; answers are parsed by the generated client's models too."""

import pytest
from tb_pe_client.models import AlarmCountQuery, AlarmDataQuery, PageDataAlarmData

from devices.models import DeviceProfile
from devices.telemetry import Point, write_points
from rulechains import alarm_propagation
from rulechains.models import Alarm
from tbproject.clock import now_ms
from tbproject.testing.api import assert_error
from tbproject.testing.factories import make_asset, make_device

FIND, COUNT = "/api/alarmsQuery/find", "/api/alarmsQuery/count"
T0 = 1_700_000_000_000
METERS = {"type": "deviceType", "deviceTypes": ["meter"], "deviceNameFilter": ""}


def key(name, kind="ALARM_FIELD"):
    return {"type": kind, "key": name}


def query(entity_filter=METERS, *, size=10, page=0, sort=None, text=None, fields=("name",), latest=(),
          alarm_fields=("createdTime", "type", "severity", "status"), filters=(), **link):
    page_link = {"pageSize": size, "page": page, "searchPropagatedAlarms": False, **link}
    if sort:
        page_link["sortOrder"] = {"key": sort[0], "direction": sort[1]}
    if text is not None:
        page_link["textSearch"] = text
    return {"entityFilter": entity_filter, "pageLink": page_link,
            "entityFields": [key(f, "ENTITY_FIELD") for f in fields], "latestValues": list(latest),
            "alarmFields": [key(f) for f in alarm_fields], "keyFilters": list(filters)}


def find(api, body) -> dict:
    res = api.post(FIND, body, format="json")
    assert res.status_code == 200, res.content
    return res.json()


def types(page) -> list:
    return [(row["originatorName"], row["type"]) for row in page["data"]]


def alarm(device, alarm_type, severity, created, **extra):
    """An alarm row as the create-alarm node leaves it, where it propagates recorded."""
    row = Alarm.objects.create(tenant_id=device.tenant_id, customer_id=device.customer_id, originator_type="DEVICE",
                               originator_id=device.pk, type=alarm_type, severity=severity, created_time=created,
                               start_ts=created, end_ts=created, **extra)
    alarm_propagation.record([row])
    return row


@pytest.fixture
def fleet(tenant, customer):
    """Meters m1 (oldest), m2 (the customer's), m3 without alarms, and a gateway, with alarms."""
    meter = DeviceProfile.objects.create(tenant=tenant, name="meter")
    gateway = DeviceProfile.objects.create(tenant=tenant, name="gateway")
    m1 = make_device(tenant, "m1", profile=meter, label="Kitchen", created_time=T0)
    m2 = make_device(tenant, "m2", profile=meter, customer=customer, created_time=T0 + 1)
    make_device(tenant, "m3", profile=meter, created_time=T0 + 2)
    gw = make_device(tenant, "gw", profile=gateway, created_time=T0 + 3)
    write_points([Point(m1.pk, "temp", T0, 21.5), Point(m2.pk, "temp", T0 + 1, 30)])
    alarm(m1, "High Temp", "MAJOR", T0 + 10)
    alarm(m1, "Low Battery", "MINOR", T0 + 20, cleared=True, clear_ts=T0 + 25)
    alarm(m2, "High Temp", "CRITICAL", T0 + 30, acknowledged=True, ack_ts=T0 + 35)
    alarm(gw, "Offline", "WARNING", T0 + 40)
    return {"m1": m1, "m2": m2, "gw": gw}


def test_it_finds_the_alarms_of_the_entities_with_their_latest_values(api, fleet):
    body = query(latest=[key("temp", "TIME_SERIES")])
    AlarmDataQuery.from_dict(body)  # the client's own model accepts what we send
    page = find(api, body)
    parsed = PageDataAlarmData.from_dict(page)
    assert parsed.total_elements == 3 and not parsed.has_next
    # no sort: alarms follow their entity (createdTime order), newest alarm first within one
    assert types(page) == [("m1", "Low Battery"), ("m1", "High Temp"), ("m2", "High Temp")]
    first = page["data"][1]
    assert first["entityId"] == {"entityType": "DEVICE", "id": str(fleet["m1"].pk)}
    assert first["originator"] == first["entityId"] and first["status"] == "ACTIVE_UNACK"
    assert (first["originatorLabel"], first["severity"], first["name"]) == ("Kitchen", "MAJOR", "High Temp")
    assert first["latest"]["ENTITY_FIELD"]["name"]["value"] == "m1"
    assert first["latest"]["TIME_SERIES"]["temp"] == {"ts": T0, "value": "21.5"}
    assert parsed.data[2].latest["TIME_SERIES"]["temp"].value == "30"


def test_it_filters_by_status_severity_type_and_time(api, fleet):
    assert types(find(api, query(statusList=["ACTIVE"]))) == [("m1", "High Temp"), ("m2", "High Temp")]
    assert types(find(api, query(statusList=["CLEARED"]))) == [("m1", "Low Battery")]
    # ThingsBoard reads a list as the union of its statuses
    assert types(find(api, query(statusList=["CLEARED", "ACK"]))) == [("m1", "Low Battery"), ("m2", "High Temp")]
    assert find(api, query(statusList=["ACTIVE", "ANY"]))["totalElements"] == 3
    assert types(find(api, query(severityList=["CRITICAL", "MINOR"]))) == [("m1", "Low Battery"),
                                                                            ("m2", "High Temp")]
    assert types(find(api, query(typeList=["High Temp"]))) == [("m1", "High Temp"), ("m2", "High Temp")]
    assert types(find(api, query(startTs=T0 + 15, endTs=T0 + 30))) == [("m1", "Low Battery"), ("m2", "High Temp")]
    assert find(api, query(timeWindow=60_000))["totalElements"] == 0  # all raised long ago
    alarm(fleet["m2"], "Fresh", "MAJOR", now_ms())
    assert types(find(api, query(timeWindow=60_000))) == [("m2", "Fresh")]
    assert find(api, query(assigneeId={"entityType": "USER", "id": str(fleet["m1"].pk)}))["totalElements"] == 0


def test_it_sorts_by_alarm_fields_and_by_entity_fields(api, fleet):
    asc = find(api, query(sort=(key("severity"), "ASC")))
    assert [a["severity"] for a in asc["data"]] == ["CRITICAL", "MAJOR", "MINOR"]  # the column's text order
    desc = find(api, query(sort=(key("createdTime"), "DESC")))
    assert types(desc) == [("m2", "High Temp"), ("m1", "Low Battery"), ("m1", "High Temp")]
    by_status = find(api, query(sort=(key("status"), "ASC")))
    assert [a["status"] for a in by_status["data"]] == ["ACTIVE_ACK", "ACTIVE_UNACK", "CLEARED_UNACK"]
    by_originator = find(api, query(sort=(key("originator"), "DESC")))
    assert [a["originatorName"] for a in by_originator["data"]] == ["m2", "m1", "m1"]
    by_name = find(api, query(sort=(key("name", "ENTITY_FIELD"), "DESC")))
    assert types(by_name) == [("m2", "High Temp"), ("m1", "Low Battery"), ("m1", "High Temp")]
    by_temp = find(api, query(sort=(key("temp", "TIME_SERIES"), "DESC")))
    assert [a["originatorName"] for a in by_temp["data"]] == ["m2", "m1", "m1"]


def test_it_pages_and_searches_the_selected_alarm_fields(api, fleet):
    sort = (key("createdTime"), "ASC")
    first, last = find(api, query(size=2, sort=sort)), find(api, query(size=2, page=1, sort=sort))
    assert (first["totalPages"], first["totalElements"], first["hasNext"]) == (2, 3, True)
    assert types(first) + types(last) == [("m1", "High Temp"), ("m1", "Low Battery"), ("m2", "High Temp")]
    assert not last["hasNext"] and find(api, query(size=2, page=5, sort=sort))["data"] == []
    assert types(find(api, query(text="batt"))) == [("m1", "Low Battery")]
    assert types(find(api, query(text="cleared"))) == [("m1", "Low Battery")]  # the status text
    assert find(api, query(text="crit"))["totalElements"] == 1
    assert find(api, query(text="batt", alarm_fields=("severity",)))["totalElements"] == 0
    assert find(api, query(text="batt", alarm_fields=()))["totalElements"] == 3  # nothing to search in
    assert types(find(api, query(text="M2", alarm_fields=("originator",)))) == [("m2", "High Temp")]
    assert types(find(api, query(text="kitch", alarm_fields=("originatorLabel",)))) == [
        ("m1", "Low Battery"), ("m1", "High Temp")]
    assert types(find(api, query(text="020", alarm_fields=("createdTime", "details")))) == [("m1", "Low Battery")]


def test_it_applies_every_entity_filter_and_key_filter(api, fleet, tenant):
    single = {"type": "singleEntity", "singleEntity": {"entityType": "DEVICE", "id": str(fleet["gw"].pk)}}
    assert types(find(api, query(single))) == [("gw", "Offline")]
    by_name = {"type": "entityName", "entityType": "DEVICE", "entityNameFilter": "m2"}
    assert types(find(api, query(by_name))) == [("m2", "High Temp")]
    hot = {"key": key("temp", "TIME_SERIES"), "valueType": "NUMERIC",
           "predicate": {"type": "NUMERIC", "operation": "GREATER", "value": {"defaultValue": 25}}}
    assert types(find(api, query(filters=[hot]))) == [("m2", "High Temp")]
    assets = {"type": "entityType", "entityType": "ASSET"}
    make_asset(tenant, "a1")
    assert find(api, query(assets))["totalElements"] == 0


def test_oversized_or_out_of_range_key_filters_are_400s_and_long_lists_run(api, fleet):
    """The entity query's limits hold here too: a number past a double, too many filters, IN items
    or multiRoot ids are a 400 that names them (10**400 and a 1,500-item IN were 500s)."""
    def name_filter(op, value):
        return {"key": key("name", "ENTITY_FIELD"), "valueType": "STRING",
                "predicate": {"type": "STRING", "operation": op, "value": {"defaultValue": value}}}

    huge = {"key": key("createdTime", "ENTITY_FIELD"), "valueType": "NUMERIC",
            "predicate": {"type": "NUMERIC", "operation": "GREATER", "value": {"defaultValue": 10**400}}}
    roots = {"type": "relationsQuery", "multiRoot": True, "multiRootEntitiesType": "DEVICE",
             "multiRootEntityIds": [str(fleet["m1"].pk)] * 1001}
    for filters, entity_filter, message in (
        ([huge], METERS, "keyFilters[0].predicate.value' must be a finite number"),
        ([name_filter("IN", ",".join(f"x{i}" for i in range(1500)))], METERS, "1500 IN / NOT_IN values"),
        ([name_filter("EQUAL", f"x{i}") for i in range(1200)], METERS, "1200 filters"),
        ([], roots, "multiRootEntityIds"),
    ):
        assert_error(api.post(FIND, query(entity_filter, filters=filters), format="json"), 400, message)
        assert_error(api.post(COUNT, {"entityFilter": entity_filter, "keyFilters": filters}, format="json"), 400,
                     message)
    many = ",".join([f"x{i}" for i in range(998)] + ["m1", "gw"])
    assert types(find(api, query({"type": "entityType", "entityType": "DEVICE"},
                                 filters=[name_filter("NOT_IN", many)]))) == [("m2", "High Temp")]
    either = [name_filter("EQUAL", f"x{i}") for i in range(99)] + [name_filter("EQUAL", "gw")]
    body = {**query({"type": "entityType", "entityType": "DEVICE"}, filters=either), "keyFiltersOperation": "OR"}
    assert types(find(api, body)) == [("gw", "Offline")]


def test_it_counts(api, fleet):
    body = {"entityFilter": METERS, "statusList": ["ACTIVE"], "severityList": ["MAJOR", "CRITICAL"]}
    AlarmCountQuery.from_dict(body)
    assert api.post(COUNT, body, format="json").json() == 2
    assert api.post(COUNT, {"entityFilter": {"type": "entityType", "entityType": "DEVICE"}}, format="json").json() == 4
    assert api.post(COUNT, {"entityFilter": METERS, "typeList": ["Offline"]}, format="json").json() == 0


def test_it_is_scoped_to_the_tenant_and_the_customer(api, customer_api, mallory_api, fleet, other_tenant):
    devices = {"type": "entityType", "entityType": "DEVICE"}
    assert types(find(customer_api, query(devices))) == [("m2", "High Temp")]
    assert customer_api.post(COUNT, {"entityFilter": devices}, format="json").json() == 1
    single = {"type": "singleEntity", "singleEntity": {"entityType": "DEVICE", "id": str(fleet["m1"].pk)}}
    assert find(customer_api, query(single))["data"] == []
    assert find(mallory_api, query(single))["totalElements"] == 0
    assert mallory_api.post(COUNT, {"entityFilter": devices}, format="json").json() == 0
    theirs = make_device(other_tenant, "theirs")
    alarm(theirs, "Secret", "CRITICAL", T0)
    listed = {"type": "entityList", "entityType": "DEVICE", "entityList": [str(theirs.pk), str(fleet["gw"].pk)]}
    assert types(find(api, query(listed))) == [("gw", "Offline")]


@pytest.mark.parametrize("change, message", [
    ({"pageLink": {"pageSize": 0}}, "pageSize"),
    ({"pageLink": None}, "pageLink"),
    ({"entityFilter": None}, "entityFilter"),
    ({"entityFilter": {"type": "apiUsageState"}}, "entity filter"),
    ({"alarmFields": [key("type", "TIME_SERIES")]}, "alarmFields"),
    ({"entityFields": "name"}, "entityFields"),
    ({"pageLink": {"pageSize": 10, "severityList": ["HUGE"]}}, "severityList"),
    ({"pageLink": {"pageSize": 10, "statusList": ["OPEN"]}}, "statusList"),
    ({"pageLink": {"pageSize": 10, "typeList": "High Temp"}}, "typeList"),
    ({"pageLink": {"pageSize": 10, "typeList": ["t"] * 101}}, "typeList"),
    ({"pageLink": {"pageSize": 10, "timeWindow": -1}}, "timeWindow"),
    ({"pageLink": {"pageSize": 10, "startTs": "yesterday"}}, "startTs"),
    ({"pageLink": {"pageSize": 10, "searchPropagatedAlarms": "yes"}}, "searchPropagatedAlarms"),
    ({"pageLink": {"pageSize": 10, "assigneeId": {"id": "nope"}}}, "nope"),
    ({"pageLink": {"pageSize": 10, "sortOrder": {"key": key("color"), "direction": "ASC"}}}, "color"),
    ({"pageLink": {"pageSize": 10, "sortOrder": {"key": key("type"), "direction": "UP"}}}, "direction"),
    ({"pageLink": {"pageSize": 10, "sortOrder": {"key": key("x", "OTHER")}}}, "key type"),
])
def test_bad_input_is_a_400_that_names_it(api, fleet, change, message):
    assert_error(api.post(FIND, {**query(), **change}, format="json"), 400, message)


def test_bad_count_input_and_bodies_are_400s(api, fleet):
    assert_error(api.post(COUNT, {"entityFilter": METERS, "statusList": ["OPEN"]}, format="json"), 400, "statusList")
    assert_error(api.post(COUNT, {"statusList": ["ACTIVE"]}, format="json"), 400, "entityFilter")
    for path in (FIND, COUNT):
        assert_error(api.post(path, [1, 2], format="json"), 400, "query")


def test_it_reads_alarms_of_the_first_entities_only(api, fleet, monkeypatch):
    from rulechains import alarm_data

    monkeypatch.setattr(alarm_data, "MAX_ENTITIES", 1)  # ThingsBoard caps the entities of an alarm query too
    assert types(find(api, query(sort=(key("createdTime"), "DESC")))) == [("m1", "Low Battery"), ("m1", "High Temp")]
    assert api.post(COUNT, {"entityFilter": METERS}, format="json").json() == 2


def test_it_searches_alarms_propagated_to_the_owner_and_the_tenant(api, fleet, tenant, customer):
    from devices.relations import save as save_relation

    alarm(fleet["m2"], "Leak", "CRITICAL", T0 + 50, propagate_to_owner=True)  # -> the customer
    alarm(fleet["m1"], "Fire", "MAJOR", T0 + 60, propagate_to_tenant=True)
    alarm(fleet["gw"], "Smoke", "MINOR", T0 + 70, propagate_to_owner=True)  # unowned: -> the tenant
    own = {"type": "singleEntity", "singleEntity": {"entityType": "CUSTOMER", "id": str(customer.pk)}}
    assert find(api, query(own, alarm_fields=()))["totalElements"] == 0
    page = find(api, query(own, searchPropagatedAlarms=True, fields=("title",)))
    assert types(page) == [("m2", "Leak")]
    assert page["data"][0]["entityId"] == {"entityType": "CUSTOMER", "id": str(customer.pk)}
    assert page["data"][0]["latest"]["ENTITY_FIELD"]["title"]["value"] == "Customer A"
    mine = {"type": "singleEntity", "singleEntity": {"entityType": "TENANT", "id": str(tenant.pk)}}
    assert types(find(api, query(mine, searchPropagatedAlarms=True))) == [("gw", "Smoke"), ("m1", "Fire")]
    assert api.post(COUNT, {"entityFilter": mine, "searchPropagatedAlarms": True}, format="json").json() == 2
    # the customer and its device both found: the alarm is listed once for each, sorted together
    for target, kind in ((customer, "CUSTOMER"), (fleet["m2"], "DEVICE")):
        save_relation(tenant.pk, _ref(tenant, "TENANT"), _ref(target, kind), "Contains")
    related = {"type": "relationsQuery", "rootEntity": {"entityType": "TENANT", "id": str(tenant.pk)},
               "direction": "FROM", "maxLevel": 1}
    body = query(related, searchPropagatedAlarms=True, sort=(key("severity"), "ASC"), fields=("name",))
    page = find(api, body)
    listed = [(a["type"], a["entityId"]["entityType"]) for a in page["data"]]  # all CRITICAL: then createdTime
    assert listed[0] == ("High Temp", "DEVICE") and sorted(listed[1:]) == [("Leak", "CUSTOMER"), ("Leak", "DEVICE")]
    second = find(api, {**body, "pageLink": {**body["pageLink"], "pageSize": 1, "page": 2}})
    assert second["totalElements"] == 3 and len(second["data"]) == 1 and not second["hasNext"]
    by_entity = find(api, query(related, searchPropagatedAlarms=True, text="leak"))
    assert [a["entityId"]["entityType"] for a in by_entity["data"]] == ["DEVICE", "CUSTOMER"]  # relation order
    assert api.post(COUNT, {"entityFilter": related, "searchPropagatedAlarms": True}, format="json").json() == 3


def _ref(entity, kind):
    entity.entity_type = kind
    return entity
