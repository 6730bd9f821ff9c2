"""ThingsBoard's entity data queries (POST /api/entitiesQuery/find, /count, /find/keys) through the
Django test client: what they answer (filters, fields, values, sorting, scoping); the parsing of
answers by the generated client's models is checked too. Bad input and limits:
test_entity_queries_bad_input.py."""


import pytest
from tb_pe_client.models import AvailableEntityKeys, PageDataEntityData

from devices.attributes import save_attributes
from devices.models import AssetProfile
from devices.relations import save as save_relation
from devices.tests.entity_queries_support import (
    COUNT,
    KEYS,
    T0,
    by_type,
    field,
    find,
    names,
    numeric,
    numeric_filter,
    query,
    ref,
    string_filter,
)
from tbproject.testing.api import assert_error
from tbproject.testing.factories import make_asset, make_device, make_group


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
    save_relation(tenant.pk, ref(hq, "ASSET"), ref(floor, "ASSET"), "Contains")
    save_relation(tenant.pk, ref(floor, "ASSET"), ref(fleet["m1"], "DEVICE"), "Contains")
    save_relation(tenant.pk, ref(hq, "ASSET"), ref(fleet["gw"], "DEVICE"), "Manages")
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
    hq = ref(make_asset(tenant, "hq"), "ASSET")
    rooms = [ref(make_asset(tenant, f"room-{i}"), "ASSET") for i in range(1100)]
    for room in rooms:
        save_relation(tenant.pk, hq, room, "Contains")
    sensor = ref(make_device(tenant, "sensor"), "DEVICE")
    save_relation(tenant.pk, rooms[-1], sensor, "Contains")
    last = {"type": "relationsQuery", "rootEntity": {"entityType": "ASSET", "id": str(hq.pk)}, "direction": "FROM",
            "maxLevel": 2, "fetchLastLevelOnly": True}
    assert names(find(api, query(last))) == ["sensor"]
    both = find(api, query({**last, "fetchLastLevelOnly": False}))
    assert both["totalElements"] == 1101


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


def test_text_search_reads_the_selected_latest_values_as_the_answer_renders_them(api, fleet):
    temp, mode = {"type": "TIME_SERIES", "key": "temp"}, {"type": "TIME_SERIES", "key": "mode"}
    model = {"type": "ATTRIBUTE", "key": "model"}
    assert names(find(api, query(by_type(), text="ECO", latest=[temp, mode]))) == ["m1"]
    assert sorted(names(find(api, query(by_type(), text="t1", latest=[model])))) == ["m1"]
    assert names(find(api, query(by_type(), text="30", latest=[temp]))) == ["m2"]  # 30, not "30.0"
    assert sorted(names(find(api, query(by_type(), text="m", latest=[temp])))) == ["M3", "m1", "m2"]
    assert find(api, query(by_type(), text="eco"))["data"] == []  # a value not selected is not searched
    searched = find(api, query(by_type(), text="x", latest=[model], size=1, sort=(field("name"), "ASC")))
    assert (searched["totalElements"], names(searched)) == (1, ["M3"])


def test_text_search_past_the_python_limit_reads_names_and_fields_in_the_database(api, fleet, monkeypatch):
    from devices.queries import engine
    monkeypatch.setattr(engine, "MAX_CANDIDATES", 2)
    mode = {"type": "TIME_SERIES", "key": "mode"}
    assert find(api, query(by_type(), text="eco", latest=[mode]))["data"] == []
    assert sorted(names(find(api, query(by_type(), text="m", latest=[mode])))) == ["M3", "m1", "m2"]


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
    save_relation(other_tenant.pk, ref(theirs, "DEVICE"), ref(their_asset, "ASSET"), "Contains")
    save_relation(tenant.pk, ref(theirs, "DEVICE"), ref(fleet["m1"], "DEVICE"), "Contains")
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
