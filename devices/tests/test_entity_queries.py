"""ThingsBoard's entity data queries (POST /api/entitiesQuery/find, /count, /find/keys) through the
Django test client; the parsing of answers by the generated client's models is checked too."""

import copy
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import ValidationError
from tb_pe_client.models import AvailableEntityKeys, EntityDataQuery, PageDataEntityData

from devices import queries
from devices.attributes import save_attributes
from devices.models import AssetProfile, DeviceProfile
from devices.relations import save as save_relation
from devices.telemetry import Point, write_points
from tbproject.testing.api import assert_error
from tbproject.testing.factories import make_asset, make_device, make_group

FIND, COUNT, KEYS = "/api/entitiesQuery/find", "/api/entitiesQuery/count", "/api/entitiesQuery/find/keys"
T0 = 1_700_000_000_000


def by_type(kind="DEVICE"):
    return {"type": "entityType", "entityType": kind}


def field(key):
    return {"type": "ENTITY_FIELD", "key": key}


def query(entity_filter, *, size=10, page=0, fields=("name",), latest=(), filters=(), sort=None, text=None, **extra):
    link = {"pageSize": size, "page": page}
    if sort:
        link["sortOrder"] = {"key": sort[0], "direction": sort[1]}
    if text is not None:
        link["textSearch"] = text
    return {"entityFilter": entity_filter, "pageLink": link, "entityFields": [field(f) for f in fields],
            "latestValues": list(latest), "keyFilters": list(filters), **extra}


def string_filter(key, op, value, ignore_case=False, key_type="ENTITY_FIELD"):
    return {"key": {"type": key_type, "key": key}, "valueType": "STRING",
            "predicate": {"type": "STRING", "operation": op, "ignoreCase": ignore_case,
                          "value": {"defaultValue": value, "dynamicValue": None}}}


def numeric(op, value, user_value=None):
    return {"type": "NUMERIC", "operation": op, "value": {"defaultValue": value, "userValue": user_value}}


def numeric_filter(key, op, value, key_type="TIME_SERIES"):
    return {"key": {"type": key_type, "key": key}, "valueType": "NUMERIC", "predicate": numeric(op, value)}


def find(client, body, status=200):
    res = client.post(FIND, body, format="json")
    assert res.status_code == status, res.content[:500]
    return res.json()


def names(page) -> list:
    return [row["latest"]["ENTITY_FIELD"]["name"]["value"] for row in page["data"]]


@pytest.fixture
def fleet(tenant, customer):
    """Three meters (two with telemetry) and a gateway; m2 belongs to the customer."""
    meter = DeviceProfile.objects.create(tenant=tenant, name="meter")
    gateway = DeviceProfile.objects.create(tenant=tenant, name="gateway")
    m1 = make_device(tenant, "m1", profile=meter, label="Kitchen")
    m2 = make_device(tenant, "m2", profile=meter, customer=customer)
    m3 = make_device(tenant, "M3", profile=meter)
    gw = make_device(tenant, "gw", profile=gateway)
    write_points([Point(m1.pk, "temp", T0, 21.5), Point(m2.pk, "temp", T0 + 1, 30),
                  Point(m1.pk, "mode", T0, "eco"), Point(m2.pk, "on", T0, True)])
    save_attributes(m1.pk, "SERVER_SCOPE", {"floor": 1, "model": "T1000"}, ts=T0)
    save_attributes(m2.pk, "SHARED_SCOPE", {"floor": 2}, ts=T0)
    save_attributes(m3.pk, "CLIENT_SCOPE", {"model": "X"}, ts=T0)
    return {"m1": m1, "m2": m2, "M3": m3, "gw": gw}


def test_it_lists_devices_with_fields_and_latest_values(api, fleet):
    page = find(api, query(by_type(), fields=("name", "type", "label", "createdTime", "ownerType", "title"),
                           latest=[{"type": "TIME_SERIES", "key": "temp"}, {"type": "ATTRIBUTE", "key": "floor"},
                                   {"type": "SERVER_ATTRIBUTE", "key": "model"}],
                           sort=(field("name"), "ASC")))
    assert (page["totalElements"], page["totalPages"], page["hasNext"]) == (4, 1, False)
    assert sorted(names(page)) == ["M3", "gw", "m1", "m2"]  # the order of mixed case is the database's collation
    row = next(r for r in page["data"] if r["entityId"]["id"] == str(fleet["m1"].pk))
    assert row["entityId"] == {"entityType": "DEVICE", "id": str(fleet["m1"].pk)}
    fields = {k: v["value"] for k, v in row["latest"]["ENTITY_FIELD"].items()}
    assert fields == {"name": "m1", "type": "meter", "label": "Kitchen", "createdTime": str(fleet["m1"].created_time),
                      "ownerType": "TENANT", "title": "m1"}
    assert row["latest"]["TIME_SERIES"]["temp"] == {"ts": T0, "value": "21.5"}
    assert row["latest"]["ATTRIBUTE"]["floor"] == {"ts": T0, "value": "1"}
    assert row["latest"]["SERVER_ATTRIBUTE"]["model"] == {"ts": T0, "value": "T1000"}
    gw = next(r for r in page["data"] if r["entityId"]["id"] == str(fleet["gw"].pk))
    assert gw["latest"]["TIME_SERIES"]["temp"] == {"ts": 0, "value": ""}  # missing: ThingsBoard's empty value
    parsed = PageDataEntityData.from_dict(page)
    assert {d.latest["ENTITY_FIELD"]["name"].value for d in parsed.data} == {"M3", "gw", "m1", "m2"}


def test_it_renders_values_as_thingsboard_does():
    from devices.queries.values import value_text

    assert [value_text(v) for v in (True, 30, 21.5, 20.0, 1e20, 1e-5, "007", "1.50", "abc", {"a": 1})] == [
        "true", "30", "21.5", "20", "1.0E20", "1.0E-5", "7", "1.5", "abc", '{"a":1}']


@pytest.mark.parametrize("entity_filter, expected", [
    ({"type": "entityName", "entityType": "DEVICE", "entityNameFilter": "m"}, {"m1", "m2", "M3"}),
    ({"type": "deviceType", "deviceTypes": ["gateway"]}, {"gw"}),
    ({"type": "deviceType", "deviceType": "meter", "deviceNameFilter": "m1"}, {"m1"}),
    ({"type": "deviceType", "deviceTypes": ["meter", "gateway"], "deviceNameFilter": "G"}, {"gw"}),
])
def test_it_filters_by_name_prefix_and_profile(api, fleet, entity_filter, expected):
    assert set(names(find(api, query(entity_filter)))) == expected


def test_it_filters_single_entities_lists_and_groups(api, tenant, fleet):
    m1, gw = fleet["m1"], fleet["gw"]
    single = {"type": "singleEntity", "singleEntity": {"entityType": "DEVICE", "id": str(m1.pk)}}
    assert names(find(api, query(single))) == ["m1"]
    listed = {"type": "entityList", "entityType": "DEVICE", "entityList": [str(m1.pk), str(gw.pk)]}
    assert sorted(names(find(api, query(listed)))) == ["gw", "m1"]
    group = make_group(tenant, "Meters", members=[m1, fleet["m2"]])
    make_group(tenant, "Gateways", members=[gw])
    members = find(api, query({"type": "entityGroup", "groupType": "DEVICE", "entityGroup": str(group.pk)}))
    assert sorted(names(members)) == ["m1", "m2"]
    groups = find(api, query({"type": "entityGroupList", "groupType": "DEVICE", "entityGroupList": [str(group.pk)]},
                             fields=("name", "type")))
    assert groups["data"][0]["entityId"] == {"entityType": "ENTITY_GROUP", "id": str(group.pk)}
    assert groups["data"][0]["latest"]["ENTITY_FIELD"]["type"]["value"] == "DEVICE"
    named = find(api, query({"type": "entityGroupName", "groupType": "DEVICE", "entityGroupNameFilter": "gate"}))
    assert names(named) == ["Gateways"]


def test_it_filters_assets_customers_and_the_tenant(api, tenant, customer):
    building = AssetProfile.objects.create(tenant=tenant, name="building")
    make_asset(tenant, "HQ", profile=building)
    make_asset(tenant, "yard")
    assert names(find(api, query({"type": "assetType", "assetTypes": ["building"]}))) == ["HQ"]
    assert names(find(api, query({"type": "assetType", "assetType": "default", "assetNameFilter": "Y"}))) == ["yard"]
    page = find(api, query(by_type("CUSTOMER"), fields=("name", "title", "email")))
    assert names(page) == [customer.title]
    page = find(api, query(by_type("TENANT"), fields=("name",)))
    assert names(page) == [tenant.title]


def test_it_follows_relations(api, tenant, fleet):
    hq, floor = make_asset(tenant, "hq"), make_asset(tenant, "floor-1")
    save_relation(tenant.pk, _ref(hq, "ASSET"), _ref(floor, "ASSET"), "Contains")
    save_relation(tenant.pk, _ref(floor, "ASSET"), _ref(fleet["m1"], "DEVICE"), "Contains")
    save_relation(tenant.pk, _ref(hq, "ASSET"), _ref(fleet["gw"], "DEVICE"), "Manages")
    root = {"entityType": "ASSET", "id": str(hq.pk)}

    def related(**extra):
        f = {"type": "relationsQuery", "rootEntity": root, "direction": "FROM", "maxLevel": 1, **extra}
        return sorted(names(find(api, query(f))))

    assert related() == ["floor-1", "gw"]
    assert related(maxLevel=2) == ["floor-1", "gw", "m1"]
    assert related(maxLevel=2, fetchLastLevelOnly=True) == ["m1"]
    assert related(maxLevel=2, filters=[{"relationType": "Contains", "entityTypes": ["DEVICE"]}]) == ["m1"]
    back = {"type": "relationsQuery", "rootEntity": {"entityType": "DEVICE", "id": str(fleet["m1"].pk)},
            "direction": "TO", "maxLevel": 2}
    assert sorted(names(find(api, query(back)))) == ["floor-1", "hq"]


def test_it_follows_relations_past_a_wide_level(api, tenant):
    """A level of 1,100 entities: one OR per entity nested past SQLite's expression depth (a 500)."""
    hq = _ref(make_asset(tenant, "hq"), "ASSET")
    rooms = [_ref(make_asset(tenant, f"room-{i}"), "ASSET") for i in range(1100)]
    for room in rooms:
        save_relation(tenant.pk, hq, room, "Contains")
    sensor = _ref(make_device(tenant, "sensor"), "DEVICE")
    save_relation(tenant.pk, rooms[-1], sensor, "Contains")
    last = {"type": "relationsQuery", "rootEntity": {"entityType": "ASSET", "id": str(hq.pk)}, "direction": "FROM",
            "maxLevel": 2, "fetchLastLevelOnly": True}
    assert names(find(api, query(last))) == ["sensor"]
    both = find(api, query({**last, "fetchLastLevelOnly": False}))
    assert both["totalElements"] == 1101


def _ref(entity, kind):
    entity.entity_type = kind
    return entity


def test_it_applies_key_filters_to_fields_attributes_and_telemetry(api, fleet):
    def matching(*filters, **extra):
        return sorted(names(find(api, query(by_type(), filters=filters, **extra))))

    assert matching(string_filter("name", "STARTS_WITH", "m", ignore_case=True)) == ["M3", "m1", "m2"]
    assert matching(string_filter("name", "STARTS_WITH", "m")) == ["m1", "m2"]
    assert matching(string_filter("name", "IN", "m1, 'gw'")) == ["gw", "m1"]
    assert matching(string_filter("name", "NOT_IN", "m1,gw")) == ["M3", "m2"]
    assert matching(string_filter("type", "EQUAL", "gateway")) == ["gw"]
    assert matching(string_filter("label", "CONTAINS", "itch")) == ["m1"]
    assert matching(string_filter("name", "NOT_CONTAINS", "m")) == ["M3", "gw"]
    assert matching(string_filter("name", "ENDS_WITH", "w")) == ["gw"]
    assert matching(string_filter("name", "EQUAL", "")) == ["M3", "gw", "m1", "m2"]  # an empty value: no condition
    assert matching(string_filter("ownerType", "EQUAL", "CUSTOMER")) == ["m2"]
    assert matching(numeric_filter("temp", "GREATER", 25)) == ["m2"]
    assert matching(numeric_filter("temp", "LESS_OR_EQUAL", 21.5)) == ["m1"]
    assert matching(numeric_filter("temp", "NOT_EQUAL", 30)) == ["m1"]  # no value: never matches
    assert matching(numeric_filter("floor", "GREATER_OR_EQUAL", 1, key_type="ATTRIBUTE")) == ["m1", "m2"]
    assert matching(numeric_filter("floor", "EQUAL", 2, key_type="SERVER_ATTRIBUTE")) == []
    assert matching(numeric_filter("createdTime", "GREATER", 0, key_type="ENTITY_FIELD")) == ["M3", "gw", "m1", "m2"]
    assert matching(string_filter("mode", "EQUAL", "ECO", True, key_type="TIME_SERIES")) == ["m1"]
    assert matching(string_filter("temp", "NOT_EQUAL", "x", key_type="TIME_SERIES")) == []  # numbers aren't strings
    on = {"key": {"type": "TIME_SERIES", "key": "on"}, "valueType": "BOOLEAN",
          "predicate": {"type": "BOOLEAN", "operation": "EQUAL", "value": {"defaultValue": True}}}
    assert matching(on) == ["m2"]
    either = {"key": {"type": "TIME_SERIES", "key": "temp"}, "valueType": "NUMERIC",
              "predicate": {"type": "COMPLEX", "operation": "OR",
                            "predicates": [numeric("LESS", 22), numeric("GREATER", 29)]}}
    assert matching(either) == ["m1", "m2"]
    both = {**either, "predicate": {**either["predicate"], "operation": "AND"}}
    assert matching(both) == []
    assert matching(numeric_filter("temp", "LESS", 22), string_filter("name", "EQUAL", "m2")) == []
    assert matching(numeric_filter("temp", "LESS", 22), string_filter("name", "EQUAL", "m2"),
                    keyFiltersOperation="OR") == ["m1", "m2"]
    user_value = {"key": {"type": "TIME_SERIES", "key": "temp"}, "predicate": numeric("GREATER", 100, user_value=25)}
    assert matching(user_value) == ["m2"]


def test_it_reads_dynamic_values_from_the_tenants_attribute(api, tenant, fleet):
    save_attributes(tenant.pk, "SERVER_SCOPE", {"limit": 25})
    dynamic = {"key": {"type": "TIME_SERIES", "key": "temp"}, "valueType": "NUMERIC",
               "predicate": {"type": "NUMERIC", "operation": "GREATER", "value": {
                   "defaultValue": 0, "dynamicValue": {"sourceType": "CURRENT_TENANT", "sourceAttribute": "limit"}}}}
    assert names(find(api, query(by_type(), filters=[dynamic]))) == ["m2"]


def test_it_sorts_pages_and_searches(api, fleet):
    temp = {"type": "TIME_SERIES", "key": "temp"}
    first = find(api, query(by_type(), size=2, sort=(temp, "DESC")))
    second = find(api, query(by_type(), size=2, page=1, sort=(temp, "DESC")))
    assert (first["totalElements"], first["totalPages"], first["hasNext"], second["hasNext"]) == (4, 2, True, False)
    assert sorted(names(first)) == ["M3", "gw"]  # no value: first in DESC, as the database puts NULLs
    assert names(second) == ["m2", "m1"]
    ascending = find(api, query(by_type(), size=10, sort=(temp, "ASC")))
    assert names(ascending)[:2] == ["m1", "m2"]
    by_created = find(api, query(by_type(), size=3, sort=(field("createdTime"), "DESC")))
    assert by_created["hasNext"] is True and len(by_created["data"]) == 3
    by_owner = find(api, query(by_type(), sort=(field("ownerType"), "ASC")))
    assert names(by_owner)[0] == "m2"
    searched = find(api, query(by_type(), text="m", sort=(field("name"), "DESC"),
                               filters=[string_filter("name", "STARTS_WITH", "m")]))
    assert names(searched) == ["m2", "m1"]
    assert sorted(names(find(api, query(by_type(), text="M")))) == ["M3", "m1", "m2"]  # case-insensitive
    assert names(find(api, query(by_type(), text="itch", fields=("name", "label")))) == ["m1"]
    beyond = find(api, query(by_type(), size=2, page=5))
    assert beyond["data"] == [] and beyond["totalElements"] == 4


def test_it_counts(api, fleet):
    def count(body):
        res = api.post(COUNT, body, format="json")
        assert res.status_code == 200, res.content
        return res.json()

    assert count({"entityFilter": by_type()}) == 4
    assert count({"entityFilter": by_type(), "keyFilters": [numeric_filter("temp", "GREATER", 0)]}) == 2
    assert count({"entityFilter": {"type": "deviceType", "deviceTypes": ["meter"]},
                  "keyFilters": [string_filter("name", "STARTS_WITH", "m")]}) == 2


def test_it_finds_the_keys_of_the_entities_found(api, fleet):
    body = query({"type": "deviceType", "deviceTypes": ["meter"]})
    res = api.post(KEYS + "?timeseries=true&attributes=true", body, format="json")
    assert res.status_code == 200, res.content
    keys = AvailableEntityKeys.from_dict(res.json())
    assert (keys.entity_types, keys.timeseries, keys.attribute) == (["DEVICE"], ["mode", "on", "temp"],
                                                                    ["floor", "model"])
    res = api.post(KEYS + "?timeseries=false&attributes=true&scope=SHARED_SCOPE", body, format="json")
    assert res.json() == {"entityTypes": ["DEVICE"], "timeseries": [], "attribute": ["floor"]}
    assert_error(api.post(KEYS + "?attributes=true", body, format="json"), 400, "timeseries")
    assert_error(api.post(KEYS + "?timeseries=true&attributes=true&scope=NOPE", body, format="json"), 400, "scope")


def test_a_customer_user_sees_only_its_customers_entities(customer_api, customer, fleet):
    page = find(customer_api, query(by_type(), latest=[{"type": "TIME_SERIES", "key": "temp"}]))
    assert names(page) == ["m2"]
    m1 = {"type": "singleEntity", "singleEntity": {"entityType": "DEVICE", "id": str(fleet["m1"].pk)}}
    assert find(customer_api, query(m1))["data"] == []
    assert names(find(customer_api, query(by_type("CUSTOMER")))) == [customer.title]
    assert find(customer_api, query(by_type("TENANT")))["data"] == []
    assert customer_api.post(COUNT, {"entityFilter": by_type()}, format="json").json() == 1


def test_another_tenants_ids_find_nothing(api, mallory_api, tenant, other_tenant, fleet):
    theirs, their_asset = make_device(other_tenant, "theirs"), make_asset(other_tenant, "their-site")
    # their group has members and their root relations, so only entities.py's visibility checks keep
    # these out: stray rows tying them to our m1 too (a member, a relation kept under our tenant)
    group = make_group(other_tenant, "theirs", members=[theirs, fleet["m1"]])
    save_relation(other_tenant.pk, _ref(theirs, "DEVICE"), _ref(their_asset, "ASSET"), "Contains")
    save_relation(tenant.pk, _ref(theirs, "DEVICE"), _ref(fleet["m1"], "DEVICE"), "Contains")
    for entity_filter in (
        {"type": "singleEntity", "singleEntity": {"entityType": "DEVICE", "id": str(theirs.pk)}},
        {"type": "entityList", "entityType": "DEVICE", "entityList": [str(theirs.pk)]},
        {"type": "entityGroup", "groupType": "DEVICE", "entityGroup": str(group.pk)},
        {"type": "entityGroupList", "groupType": "DEVICE", "entityGroupList": [str(group.pk)]},
        {"type": "relationsQuery", "rootEntity": {"entityType": "DEVICE", "id": str(theirs.pk)}, "direction": "FROM"},
        {"type": "relationsQuery", "multiRoot": True, "multiRootEntitiesType": "DEVICE",
         "multiRootEntityIds": [str(theirs.pk)], "direction": "FROM"},
    ):
        page = find(api, query(entity_filter))
        assert page == {"data": [], "totalPages": 0, "totalElements": 0, "hasNext": False}
    assert names(find(mallory_api, query(by_type()))) == ["theirs"]
    mine = {"type": "relationsQuery", "rootEntity": {"entityType": "DEVICE", "id": str(theirs.pk)}}
    assert names(find(mallory_api, query(mine))) == ["their-site"]  # their relation is there to be found
    assert find(mallory_api, query({"type": "singleEntity", "singleEntity": {
        "entityType": "DEVICE", "id": str(fleet["m1"].pk)}}))["data"] == []


@pytest.mark.parametrize("body, message", [
    ([], "query"),
    ({"pageLink": {"pageSize": 10}}, "entityFilter"),
    (query({"type": "apiUsageState"}), "apiUsageState"),
    (query({"type": "entitiesByGroupName", "groupType": "DEVICE"}), "entitiesByGroupName"),
    (query(by_type("USER")), "USER"),
    (query(by_type(), size=0), "pageSize"),
    (query(by_type(), size=10001), "pageSize"),
    (query(by_type(), page=-1), "page"),
    ({"entityFilter": by_type()}, "pageLink"),
    (query({"type": "singleEntity", "singleEntity": {"entityType": "DEVICE", "id": "not-a-uuid"}}), "UUID"),
    (query({"type": "entityList", "entityType": "DEVICE", "entityList": ["x"]}), "UUID"),
    (query(by_type(), latest=[{"type": "ALARM_FIELD", "key": "x"}]), "ALARM_FIELD"),
    (query(by_type(), fields=()) | {"entityFields": [{"type": "NOPE", "key": "x"}]}, "NOPE"),
    (query(by_type(), filters=[{"key": field("name"), "predicate": {"type": "NO_DATA"}}]), "NO_DATA"),
    (query(by_type(), filters=[numeric_filter("t", "LIKE", 1)]), "LIKE"),
    (query(by_type(), filters=[numeric_filter("t", "GREATER", "high")]), "numeric"),
    (query(by_type(), sort=(field("name"), "UP")), "direction"),
    (query(by_type(), keyFiltersOperation="XOR"), "XOR"),
])
def test_bad_input_is_a_400(api, body, message):
    assert_error(api.post(FIND, body, format="json"), 400, message)


def test_a_numeric_value_past_a_double_is_a_400_naming_it(api, tenant_admin, fleet):
    for key_type, key in (("ENTITY_FIELD", "createdTime"), ("TIME_SERIES", "temp")):
        for value in (10**400, -(10**400)):
            body = query(by_type(), filters=[numeric_filter(key, "GREATER", value, key_type=key_type)])
            body_text = assert_error(api.post(FIND, body, format="json"), 400, "keyFilters[0].predicate.value")
            assert "finite number" in body_text["message"] and "(401 digits)" in body_text["message"]
            assert_error(api.post(COUNT, {"entityFilter": by_type(), "keyFilters": body["keyFilters"]},
                                  format="json"), 400, "1000000000")
    for value in (float("inf"), float("-inf"), float("nan"), 10**5000):  # JSON can't carry these: Python callers
        with pytest.raises(ValidationError, match="finite number"):
            queries.find(tenant_admin, query(by_type(), filters=[numeric_filter("temp", "LESS", value)]))
    near = query(by_type(), filters=[numeric_filter("temp", "LESS", 10**308)])
    assert sorted(names(find(api, near))) == ["m1", "m2"]  # still a double: compared as one


def test_a_dynamic_value_past_a_double_falls_back_to_the_default(api, tenant, fleet):
    save_attributes(tenant.pk, "SERVER_SCOPE", {"limit": "1e999"})
    dynamic = {"key": {"type": "TIME_SERIES", "key": "temp"}, "valueType": "NUMERIC",
               "predicate": {"type": "NUMERIC", "operation": "GREATER", "value": {
                   "defaultValue": 25, "dynamicValue": {"sourceType": "CURRENT_TENANT", "sourceAttribute": "limit"}}}}
    assert names(find(api, query(by_type(), filters=[dynamic]))) == ["m2"]


def _values(count, *extra):
    return ",".join([f"x{i}" for i in range(count - len(extra))] + list(extra))


def test_long_in_lists_and_many_filters_run_in_the_database(api, fleet):
    """On SQLite too: an OR per IN item or per filter nested past its expression depth (1000)."""
    def matching(*filters, **extra):
        return sorted(names(find(api, query(by_type(), filters=filters, **extra))))

    many = queries.MAX_IN_ITEMS
    assert many == 1000
    assert matching(string_filter("name", "IN", _values(many, "m1", "gw"))) == ["gw", "m1"]
    assert matching(string_filter("name", "NOT_IN", _values(many, "m1", "gw"))) == ["M3", "m2"]
    assert matching(string_filter("name", "IN", _values(many, "M1", "m3"), ignore_case=True)) == ["M3", "m1"]
    assert matching(string_filter("name", "NOT_IN", _values(many, "M1", "m3"), ignore_case=True)) == ["gw", "m2"]
    assert matching(string_filter("label", "NOT_IN", "kitchen", ignore_case=True)) == ["M3", "gw", "m2"]
    assert matching(string_filter("label", "NOT_IN", "Kitchen")) == ["M3", "gw", "m2"]
    assert matching(string_filter("type", "IN", "GATEWAY", ignore_case=True)) == ["gw"]
    equal = [string_filter("name", "EQUAL", f"x{i}") for i in range(queries.MAX_KEY_FILTERS - 1)]
    assert matching(*equal, string_filter("name", "EQUAL", "m2"), keyFiltersOperation="OR") == ["m2"]
    assert matching(*equal[:-1], string_filter("name", "NOT_IN", _values(many, "m1")),
                    keyFiltersOperation="OR") == ["M3", "gw", "m2"]
    leaves = [{"type": "STRING", "operation": "NOT_EQUAL", "ignoreCase": True, "value": {"defaultValue": f"x{i}"}}
              for i in range(4)]
    tree = {"key": field("name"), "valueType": "STRING", "predicate": {"type": "COMPLEX", "operation": "AND",
                                                                       "predicates": leaves}}
    # 100 trees of 5: the most predicates a query may hold, all SQL on name
    assert matching(*[tree] * 100, keyFiltersOperation="OR") == ["M3", "gw", "m1", "m2"]
    assert matching(*[tree] * 100) == ["M3", "gw", "m1", "m2"]


@pytest.mark.parametrize("filters, message", [
    ([string_filter("name", "EQUAL", "a")] * 101, "more than the 100 accepted"),
    ([string_filter("name", "IN", _values(1001))], "1001 IN / NOT_IN values, more than the 1000"),
    ([string_filter("name", "IN", _values(600)), string_filter("name", "NOT_IN", _values(401), True)], "1001 IN"),
    ([{"key": field("name"), "predicate": {"type": "COMPLEX", "operation": "OR", "predicates": [
        {"type": "STRING", "operation": "EQUAL", "value": {"defaultValue": "a"}}] * 501}}],
     "keyFilters[0].predicate.predicates' holds 501 predicates"),
    ([{"key": field("name"), "predicate": {"type": "COMPLEX", "operation": "OR", "predicates": [
        {"type": "COMPLEX", "operation": "AND", "predicates": [
            {"type": "STRING", "operation": "EQUAL", "value": {"defaultValue": "a"}}] * 9}] * 50}}],
     "hold 501 predicates"),
])
def test_oversized_key_filters_are_a_400(api, fleet, filters, message):
    for operation in ("AND", "OR"):
        body = query(by_type(), filters=filters, keyFiltersOperation=operation)
        assert_error(api.post(FIND, body, format="json"), 400, message)
        assert_error(api.post(COUNT, {"entityFilter": by_type(), "keyFilters": filters,
                                      "keyFiltersOperation": operation}, format="json"), 400, message)


def test_multi_root_relations_queries_take_at_most_1000_roots(api, tenant, fleet):
    hq = make_asset(tenant, "hq")
    save_relation(tenant.pk, _ref(hq, "ASSET"), _ref(fleet["m1"], "DEVICE"), "Contains")

    def roots(count):
        ids = [str(hq.pk)] + [str(uuid.uuid4()) for _ in range(count - 1)]
        return query({"type": "relationsQuery", "multiRoot": True, "multiRootEntitiesType": "ASSET",
                      "multiRootEntityIds": ids, "direction": "FROM", "maxLevel": 1})

    assert queries.MAX_ROOTS == 1000
    assert names(find(api, roots(1000))) == ["m1"]
    assert_error(api.post(FIND, roots(1001), format="json"), 400, "'multiRootEntityIds' has 1001 ids, more than the "
                                                                      "1000 accepted")
    assert_error(api.post(COUNT, {"entityFilter": roots(1001)["entityFilter"]}, format="json"), 400,
                 "multiRootEntityIds")


def test_malformed_json_is_a_400(api):
    res = api.generic("POST", FIND, "{not json", content_type="application/json")
    assert_error(res, 400)
    assert_error(api.post(COUNT, {"entityFilter": {"type": "bogus"}}, format="json"), 400, "bogus")


def test_python_filtering_refuses_past_its_bound(api, fleet, monkeypatch):
    monkeypatch.setattr("devices.queries.engine.MAX_CANDIDATES", 3)
    body = query(by_type(), filters=[numeric_filter("temp", "GREATER", 0)])
    assert_error(api.post(FIND, body, format="json"), 400, "narrow the entityFilter")
    assert find(api, query(by_type()))["totalElements"] == 4  # paged in the database: no bound
    assert queries.MAX_CANDIDATES == 10000


def test_it_reads_a_page_in_one_query_per_key_family(api, fleet, django_assert_max_num_queries):
    body = query(by_type(), size=10, fields=("name", "type", "ownerName"), sort=(field("name"), "ASC"),
                 latest=[{"type": "TIME_SERIES", "key": "temp"}, {"type": "ATTRIBUTE", "key": "floor"},
                         {"type": "SHARED_ATTRIBUTE", "key": "floor"}])
    find(api, body)  # warm the key dictionary cache
    with django_assert_max_num_queries(5):  # user, count, page, time series, attributes
        assert len(find(api, body)["data"]) == 4


def test_the_generated_clients_models_build_and_parse_queries(api, fleet):
    built = EntityDataQuery.from_dict({
        "entityFilter": {"type": "deviceType", "deviceTypes": ["meter"], "deviceNameFilter": ""},
        "pageLink": {"pageSize": 2, "page": 0, "sortOrder": {"key": {"type": "ENTITY_FIELD", "key": "name"},
                                                             "direction": "ASC"}},
        "entityFields": [{"type": "ENTITY_FIELD", "key": "name"}],
        "latestValues": [{"type": "TIME_SERIES", "key": "temp"}],
        "keyFilters": [{"key": {"type": "TIME_SERIES", "key": "temp"}, "valueType": "NUMERIC",
                        "predicate": {"type": "NUMERIC", "operation": "GREATER", "value": {"defaultValue": 0}}}],
    })
    parsed = PageDataEntityData.from_dict(find(api, built.to_dict()))
    assert parsed.total_elements == 2 and parsed.has_next is False
    assert [d.latest["TIME_SERIES"]["temp"].value for d in parsed.data] == ["21.5", "30"]
    assert parsed.data[0].entity_id.entity_type == "DEVICE"


# integers of any size JSON carries (10**400 overflows a double), floats with NaN and the infinities
SCALARS = (st.none() | st.booleans() | st.integers() | st.integers(-(10**400), 10**400)
           | st.sampled_from([10**400, -(10**400), 2**1024]) | st.floats() | st.text(max_size=6))
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.sampled_from(["type", "key", "id", "entityType", "value", "defaultValue", "operation", "predicates"]) |
    st.text(max_size=4), inner, max_size=4), max_leaves=12)
VALID = query({"type": "relationsQuery", "rootEntity": {"entityType": "ASSET", "id": str(uuid.uuid4())},
               "filters": [{"relationType": "Contains", "entityTypes": ["DEVICE"]}]},
              latest=[{"type": "TIME_SERIES", "key": "t"}], sort=(field("name"), "ASC"),
              filters=[string_filter("name", "IN", "a,b"), numeric_filter("t", "GREATER", 1)])


def _paths(node, prefix=()):
    yield prefix
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for k, child in children:
        yield from _paths(child, (*prefix, k))


COMPLEX = {"key": {"type": "ATTRIBUTE", "key": "floor"}, "valueType": "NUMERIC", "predicate": {
    "type": "COMPLEX", "operation": "OR", "predicates": [numeric("LESS", 2), numeric("GREATER", 5)]}}
ON_DEVICES = query(by_type(), fields=("name", "ownerName"), sort=({"type": "ATTRIBUTE", "key": "floor"}, "DESC"),
                   filters=[COMPLEX, string_filter("ownerType", "NOT_IN", "X", True)], keyFiltersOperation="OR")
CASES = [(body, path) for body in (VALID, ON_DEVICES) for path in _paths(body)]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(CASES), JSON)
def test_any_malformed_part_is_a_400_never_a_crash(tenant_admin, fleet, case, replacement):
    body, path = copy.deepcopy(case[0]), case[1]
    if not path:
        body = replacement
    else:
        parent = body
        for part in path[:-1]:
            parent = parent[part]
        parent[path[-1]] = replacement
    for run in (queries.find, queries.count):
        try:
            run(tenant_admin, body)
        except ValidationError as e:
            assert str(e.detail)


PREDICATE_VALUES = [(kind, value_key, key) for kind, key in (
    ("NUMERIC", field("createdTime")), ("NUMERIC", {"type": "TIME_SERIES", "key": "temp"}),
    ("STRING", field("name")), ("BOOLEAN", {"type": "ATTRIBUTE", "key": "on"}),
) for value_key in ("defaultValue", "userValue")]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(PREDICATE_VALUES), SCALARS, st.sampled_from(["EQUAL", "NOT_EQUAL"]))
def test_any_predicate_value_is_a_400_or_an_answer(tenant_admin, fleet, case, value, operation):
    """Every scalar JSON carries (and NaN, the infinities) as a predicate's value: 10**400 was a 500."""
    kind, value_key, key = case
    predicate = {"type": kind, "operation": operation, "value": {value_key: value}}
    body = query(by_type(), filters=[{"key": key, "valueType": kind, "predicate": predicate}])
    for run in (queries.find, queries.count):
        try:
            run(tenant_admin, body)
        except ValidationError as e:
            assert str(e.detail)
