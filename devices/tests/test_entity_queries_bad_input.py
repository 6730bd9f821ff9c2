"""Entity data queries on bad and hostile input: every malformed part, values past a double, long
lists and the limits are a 400 in ThingsBoard's error shape, never a 500."""

import copy
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import ValidationError
from tb_pe_client.models import EntityDataQuery, PageDataEntityData

from devices import queries
from devices.attributes import save_attributes
from devices.relations import save as save_relation
from devices.tests.entity_queries_support import (
    COUNT,
    FIND,
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
from tbproject.testing.factories import make_asset


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
    save_relation(tenant.pk, ref(hq, "ASSET"), ref(fleet["m1"], "DEVICE"), "Contains")

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
