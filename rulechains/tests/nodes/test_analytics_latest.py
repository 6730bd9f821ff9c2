"""ThingsBoard PE's aggregate latest node: children's latest values per parent, on its schedule."""

import json
import re

import pytest

from devices.attributes import save_attributes
from devices.models import EntityRelation
from devices.telemetry import write_points
from rulechains import nodes
from rulechains.nodes import timers
from rulechains.nodes.base import ConfigError
from rulechains.tests.helpers import events_of, install_root, make_node, node
from tbproject.testing.factories import make_asset, make_device, make_group

pytestmark = pytest.mark.django_db

AGG = "org.thingsboard.rule.engine.analytics.latest.telemetry.TbAggLatestTelemetryNode"
START = 1_700_000_000_000
CONTAINS = {"direction": "FROM", "maxLevel": 1, "fetchLastLevelOnly": False,
            "filters": [{"relationType": "Contains", "entityTypes": ["DEVICE"]}]}
MAPPINGS = [{"source": "temperature", "latest": True, "sourceScope": "SERVER_SCOPE", "aggFunction": "AVG",
             "defaultValue": 0, "target": "avgTemperature", "latestTsKeyName": "tsOfLatest"},
            {"source": "temperature", "latest": True, "aggFunction": "COUNT", "target": "sensors"},
            {"source": "limit", "latest": False, "sourceScope": "SERVER_SCOPE", "aggFunction": "MAX",
             "target": "maxLimit"}]


def contains(tenant, parent, child, kind="ASSET"):
    EntityRelation.objects.create(tenant=tenant, from_type=kind, from_id=parent.pk, to_type="DEVICE",
                                  to_id=child.pk, type="Contains")


def chain_with(tenant, query):
    """[aggregate latest] -Success-> [log, debug on], as ThingsBoard exports it."""
    return install_root(tenant, [node(AGG, "agg", periodValue=1, periodTimeUnit="MINUTES", outMsgType=None,
                                      parentEntitiesQuery=query, aggMappings=MAPPINGS),
                                 node(nodes.LOG, "after", True)], [(0, 1, "Success")])


def results(chain) -> dict:
    return {e["entityId"]: json.loads(e["data"]) for e in events_of(chain.nodes.get(index=1), "IN")}


def test_it_aggregates_each_parents_children_once_a_period(tenant, other_tenant):
    building, root = make_asset(tenant, "building"), make_asset(tenant, "site")
    a, b, silent = make_device(tenant, "a"), make_device(tenant, "b"), make_device(tenant, "silent")
    foreign = make_device(other_tenant, "foreign")
    EntityRelation.objects.create(tenant=tenant, from_type="ASSET", from_id=root.pk, to_type="ASSET",
                                  to_id=building.pk, type="Contains")
    for child in (a, b, silent):
        contains(tenant, building, child)
    contains(other_tenant, building, foreign)  # another tenant's relation is never followed
    write_points([(a.pk, "temperature", START, 20), (b.pk, "temperature", START + 5, 30),
                  (foreign.pk, "temperature", START, 1000)])
    save_attributes(a.pk, "SERVER_SCOPE", {"limit": 7})
    query = {"type": "relationsQuery", "rootEntityId": {"entityType": "ASSET", "id": str(root.pk)},
             "relationsQuery": {"direction": "FROM", "maxLevel": 1, "filters": [{"relationType": "Contains",
                                                                                 "entityTypes": ["ASSET"]}]},
             "childRelationsQuery": CONTAINS}
    chain = chain_with(tenant, query)
    assert timers.run_generators(START) == 0  # first seen: the first run is one period later
    assert timers.run_generators(START + 59_999) == 0
    assert timers.run_generators(START + 60_000) == 1
    # silent counts with its default value 0 in the average; COUNT (no default) counts those with a value
    assert results(chain) == {str(building.pk): {"avgTemperature": 50 / 3, "tsOfLatest": START + 5, "sensors": 2,
                                                 "maxLimit": 7}}
    assert timers.run_generators(START + 60_500) == 0  # the next run is a period later


def test_a_group_is_the_parent_of_its_members_and_another_tenants_group_is_not_read(tenant, other_tenant):
    a, b = make_device(tenant, "a"), make_device(tenant, "b")
    group = make_group(tenant, "sensors", members=[a, b])
    write_points([(a.pk, "temperature", START, 10), (b.pk, "temperature", START, 20)])
    chain = chain_with(tenant, {"type": "group", "entityGroupId": str(group.pk)})
    timers.run_generators(START)
    assert timers.run_generators(START + 60_000) == 1
    assert results(chain)[str(group.pk)]["avgTemperature"] == 15
    stranger = make_group(other_tenant, "theirs", members=[make_device(other_tenant, "x")])
    mine = chain_with(tenant, {"type": "group", "entityGroupId": str(stranger.pk)})
    timers.run_generators(START)
    assert timers.run_generators(START + 60_000) == 0 and results(mine) == {}


def test_a_single_entity_parent(tenant):
    parent, child = make_asset(tenant, "p"), make_device(tenant, "c")
    contains(tenant, parent, child)
    write_points([(child.pk, "temperature", START, 4)])
    instance = make_node(tenant, AGG, parentEntitiesQuery={"type": "single", "childRelationsQuery": CONTAINS,
                                                           "entityId": {"entityType": "ASSET", "id": str(parent.pk)}},
                         aggMappings=[{"source": "temperature", "aggFunction": "SUM", "target": "total"}])
    [out] = instance.results(tenant.pk, START)
    assert (out.originator_type, out.originator_id, out.data) == ("ASSET", parent.pk, {"total": 4})
    assert out.msg_type == "POST_TELEMETRY_REQUEST"


@pytest.mark.parametrize("configuration, error", [
    ({"aggMappings": []}, "aggMappings"),
    ({"aggMappings": [{"source": "t", "target": "x", "aggFunction": "MEDIAN"}]}, "aggFunction"),
    ({"aggMappings": [{"source": "t", "target": "x", "filter": {"jsScript": "return true;"}}]}, "filter"),
    ({"aggMappings": [{"source": "t", "target": "x"}], "parentEntitiesQuery": {"type": "nope"}}, "type"),
    ({"aggMappings": [{"source": "t", "target": "x"}], "periodTimeUnit": "WEEKS"}, "periodTimeUnit"),
])
def test_bad_configurations_are_refused(configuration, error):
    with pytest.raises(ConfigError, match=error):
        nodes.get_node(AGG).clean_config(configuration)


def test_parents_and_children_are_capped_and_read_in_chunks(tenant, monkeypatch, caplog):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from rulechains.nodes import analytics, related

    monkeypatch.setattr(analytics, "MAX_PARENTS", 3)
    monkeypatch.setattr(analytics, "MAX_CHILDREN", 5)
    monkeypatch.setattr(analytics, "IN_CHUNK", 2)
    monkeypatch.setattr(related, "IN_CHUNK", 2)
    root = make_asset(tenant, "site")
    parents = [make_asset(tenant, f"p{i}") for i in range(4)]
    for i, parent in enumerate(parents):
        EntityRelation.objects.create(tenant=tenant, from_type="ASSET", from_id=root.pk, to_type="ASSET",
                                      to_id=parent.pk, type="Contains")
        for j in range(2):
            child = make_device(tenant, f"c{i}{j}")
            contains(tenant, parent, child)
            write_points([(child.pk, "temperature", START, 1)])
    query = {"type": "relationsQuery", "rootEntityId": {"entityType": "ASSET", "id": str(root.pk)},
             "relationsQuery": {"direction": "FROM", "maxLevel": 1, "filters": [{"relationType": "Contains",
                                                                                 "entityTypes": ["ASSET"]}]},
             "childRelationsQuery": CONTAINS}
    instance = make_node(tenant, AGG, parentEntitiesQuery=query,
                         aggMappings=[{"source": "temperature", "aggFunction": "COUNT", "target": "n"}])
    with CaptureQueriesContext(connection) as queries:
        outs = instance.results(tenant.pk, START)
    assert len(outs) == 3 and sum(o.data["n"] for o in outs) == 5  # 3 parents of 4, 5 children of 6
    assert "MAX_PARENTS" in caplog.text and "MAX_CHILDREN" in caplog.text
    lists = [m.count(",") + 1 for q in queries for m in re.findall(r" IN \(([^()]*)\)", q["sql"])]
    assert lists and max(lists) <= 2  # no IN list longer than a chunk
    group = make_group(tenant, "g", members=[make_device(tenant, f"m{i}") for i in range(7)])
    tree = analytics.parent_query({"type": "group", "entityGroupId": str(group.pk)}).resolve(tenant.pk)
    assert len(tree[("ENTITY_GROUP", group.pk)]) == 5
