"""Alarm propagation as ThingsBoard records it: the create-alarm node walks the relations into its
originator (TO direction, level by level), and the per-entity lists and alarm data queries with
searchPropagatedAlarms answer the alarm for the entities it reached."""

import logging

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from tb_pe_client.models import PageDataAlarmInfo

from devices.models import EntityRelation
from rulechains import alarm_propagation, nodes
from rulechains.models import Alarm, EntityAlarm
from rulechains.nodes.base import NodeContext
from rulechains.tests.helpers import make_node, msg
from tbproject.testing.factories import make_asset, make_customer, make_device

FIND = "/api/alarmsQuery/find"


def relate(tenant, source, target, rel_type="Contains", group="COMMON"):
    EntityRelation.objects.create(tenant=tenant, from_type=_kind(source), from_id=source.pk, to_type=_kind(target),
                                  to_id=target.pk, type=rel_type, type_group=group)


def _kind(entity) -> str:
    return getattr(entity, "kind_for_test", None) or type(entity).__name__.upper()


def raise_on(tenant, originators, **configuration):
    """Run a create-alarm node over one message per originator (one batch); the alarms it left."""
    node = make_node(tenant, nodes.CREATE_ALARM, **{"alarmType": "Leak", "severity": "MAJOR", **configuration})
    outs = node.process_batch(NodeContext(tenant.pk, 1_000), [msg(tenant, o) for o in originators])
    assert all(out.relation in ("Created", "Updated") for [out] in outs), outs
    return [Alarm.objects.get(originator_id=o.pk) for o in originators]


def spread(alarm) -> set:
    return set(EntityAlarm.objects.filter(alarm=alarm).values_list("entity_type", "entity_id"))


@pytest.fixture
def site(tenant, customer):
    """building -Contains-> floor -Contains-> sensor; an area -Manages-> the sensor; the floor
    -Supplies-> a pump; a DASHBOARD-group relation from a dashboard-ish asset to the sensor."""
    building, floor, area = make_asset(tenant, "building"), make_asset(tenant, "floor"), make_asset(tenant, "area")
    sensor = make_device(tenant, "sensor", customer=customer)
    pump = make_device(tenant, "pump")
    relate(tenant, building, floor)
    relate(tenant, floor, sensor)
    relate(tenant, area, sensor, "Manages")
    relate(tenant, floor, pump, "Supplies")
    board = make_asset(tenant, "board")
    relate(tenant, board, sensor, "Contains", group="DASHBOARD")
    return {"building": building, "floor": floor, "area": area, "sensor": sensor, "pump": pump, "board": board}


def test_it_propagates_to_every_parent_up_the_hierarchy_by_any_relation(tenant, site):
    [alarm] = raise_on(tenant, [site["sensor"]], propagate=True, relationTypes=[])
    assert spread(alarm) == {("ASSET", site["building"].pk), ("ASSET", site["floor"].pk), ("ASSET", site["area"].pk)}
    # the pump is the floor's child, not the sensor's parent; the board's relation is not COMMON


def test_it_keeps_parents_reached_by_the_chosen_types_walking_through_the_others(tenant, site):
    [alarm] = raise_on(tenant, [site["sensor"]], propagate=True, relationTypes=["Manages"])
    assert spread(alarm) == {("ASSET", site["area"].pk)}
    # ThingsBoard walks every relation and keeps those of the types: the building's Owns relation
    # into the floor counts even though the floor reached the sensor by Contains
    relate(tenant, site["building"], site["floor"], "Owns")
    [other] = raise_on(tenant, [site["pump"]], propagate=True, relationTypes=["Owns"])
    assert spread(other) == {("ASSET", site["building"].pk)}


def test_owner_and_tenant_propagation_are_recorded_and_without_flags_nothing_is(tenant, customer, site):
    [alarm] = raise_on(tenant, [site["sensor"]], propagateToOwner=True, propagateToTenant=True)
    assert spread(alarm) == {("CUSTOMER", customer.pk), ("TENANT", tenant.pk)}
    [plain] = raise_on(tenant, [site["pump"]])
    assert spread(plain) == set()
    [unowned] = raise_on(tenant, [site["floor"]], alarmType="Dry", propagateToOwner=True)
    assert spread(unowned) == {("TENANT", tenant.pk)}


def test_an_update_that_turns_propagation_on_records_it(tenant, site):
    [alarm] = raise_on(tenant, [site["sensor"]])
    assert spread(alarm) == set()
    [again] = raise_on(tenant, [site["sensor"]], propagate=True, relationTypes=["Manages"])
    assert again.pk == alarm.pk and spread(alarm) == {("ASSET", site["area"].pk)}


def test_an_update_merges_propagation_and_never_withdraws_it(tenant, customer, site):
    [alarm] = raise_on(tenant, [site["sensor"]], propagate=True, relationTypes=["Manages"], propagateToOwner=True)
    assert spread(alarm) == {("ASSET", site["area"].pk), ("CUSTOMER", customer.pk)}
    [kept] = raise_on(tenant, [site["sensor"]], severity="MINOR")  # no propagation in the later message
    assert kept.pk == alarm.pk and kept.severity == "MINOR"
    assert (kept.propagate, kept.propagate_to_owner, kept.propagate_to_tenant) == (True, True, False)
    assert kept.propagate_relation_types == ["Manages"] and len(spread(kept)) == 2
    # ThingsBoard ORs the flags and unites the relation types; the rows follow the merged settings
    [merged] = raise_on(tenant, [site["sensor"]], relationTypes=["Contains", "Manages"], propagateToTenant=True)
    assert (merged.propagate, merged.propagate_to_owner, merged.propagate_to_tenant) == (True, True, True)
    assert merged.propagate_relation_types == ["Manages", "Contains"]
    assert spread(merged) == {("ASSET", site["area"].pk), ("ASSET", site["floor"].pk),
                              ("ASSET", site["building"].pk), ("CUSTOMER", customer.pk), ("TENANT", tenant.pk)}


def test_two_messages_of_one_batch_merge_into_the_one_alarm(tenant, site):
    node_a = make_node(tenant, nodes.CREATE_ALARM, alarmType="Leak", propagate=True, relationTypes=["Manages"])
    node_a.process_batch(NodeContext(tenant.pk, 1_000), [msg(tenant, site["sensor"])])
    node_b = make_node(tenant, nodes.CREATE_ALARM, alarmType="Leak", propagateToTenant=True)
    node_b.process_batch(NodeContext(tenant.pk, 2_000), [msg(tenant, site["sensor"]), msg(tenant, site["sensor"])])
    alarm = Alarm.objects.get(originator_id=site["sensor"].pk)
    assert alarm.propagate and alarm.propagate_to_tenant and alarm.propagate_relation_types == ["Manages"]
    assert spread(alarm) == {("ASSET", site["area"].pk), ("TENANT", tenant.pk)}


def test_an_alarm_saved_again_through_the_api_keeps_its_propagation(api, tenant, site):
    body = {"originator": {"entityType": "DEVICE", "id": str(site["sensor"].pk)}, "type": "Smoke",
            "severity": "MINOR", "propagate": True, "propagateRelationTypes": ["Manages"]}
    first = api.post("/api/alarm", body, format="json").json()
    again = api.post("/api/alarm", {**body, "propagate": False, "propagateRelationTypes": []}, format="json").json()
    assert again["id"] == first["id"] and again["propagate"] is True and again["propagateRelationTypes"] == ["Manages"]
    assert spread(Alarm.objects.get(pk=first["id"]["id"])) == {("ASSET", site["area"].pk)}


def test_a_batch_walks_the_relations_with_one_query_per_level(tenant, site):
    originators = [make_device(tenant, f"d{i}") for i in range(20)]
    for device in originators:
        relate(tenant, site["floor"], device)
    pending = [Alarm.objects.create(tenant=tenant, originator_type="DEVICE", originator_id=d.pk, type="t",
                                    propagate=True) for d in originators]
    with CaptureQueriesContext(connection) as queries:
        found = alarm_propagation.targets(pending)
    assert len(queries) == 3  # devices -> floor -> building -> nothing above
    assert all({pk for _, pk in found[a.pk]} == {site["floor"].pk, site["building"].pk} for a in pending)


def test_a_cycle_ends_and_a_chain_past_the_depth_is_cut_with_a_log_line(tenant, caplog, monkeypatch):
    a, b, c = make_asset(tenant, "a"), make_asset(tenant, "b"), make_device(tenant, "c")
    relate(tenant, a, b)
    relate(tenant, b, a)
    relate(tenant, b, c)
    [alarm] = raise_on(tenant, [c], propagate=True)
    assert spread(alarm) == {("ASSET", a.pk), ("ASSET", b.pk)}  # each entity once; the walk ends by itself

    chain = [make_asset(tenant, f"level-{i}") for i in range(6)]
    for parent, child in zip(chain[1:], chain, strict=False):
        relate(tenant, parent, child)
    monkeypatch.setattr(alarm_propagation, "MAX_LEVEL", 3)
    with caplog.at_level(logging.WARNING, logger="rulechains.alarm_propagation"):
        [deep] = raise_on(tenant, [chain[0]], propagate=True)
    assert spread(deep) == {("ASSET", chain[i].pk) for i in (1, 2, 3)}
    assert "propagation cut at more than 3 levels" in caplog.text and str(deep.pk) in caplog.text


def test_a_huge_fan_in_is_cut_at_the_entity_limit(tenant, caplog, monkeypatch):
    device = make_device(tenant, "hub")
    for i in range(8):
        relate(tenant, make_asset(tenant, f"p{i}"), device)
    monkeypatch.setattr(alarm_propagation, "MAX_ENTITIES", 4)
    with caplog.at_level(logging.WARNING, logger="rulechains.alarm_propagation"):
        [alarm] = raise_on(tenant, [device], propagate=True)
    assert len(spread(alarm)) <= 5 and "more than 4 entities" in caplog.text


def test_another_tenants_relations_are_not_walked(tenant, other_tenant):
    device = make_device(tenant, "ours")
    theirs = make_asset(other_tenant, "theirs")
    EntityRelation.objects.create(tenant=other_tenant, from_type="ASSET", from_id=theirs.pk, to_type="DEVICE",
                                  to_id=device.pk, type="Contains")
    [alarm] = raise_on(tenant, [device], propagate=True)
    assert spread(alarm) == set()


# --- what the API answers -----------------------------------------------------------------------

def test_the_per_entity_lists_answer_propagated_alarms(api, tenant, site):
    [alarm] = raise_on(tenant, [site["sensor"]], propagate=True, propagateToTenant=True)
    building = site["building"].pk
    page = api.get(f"/api/alarm/ASSET/{building}?pageSize=10&page=0").json()
    PageDataAlarmInfo.from_dict(page)
    assert [a["id"]["id"] for a in page["data"]] == [str(alarm.pk)]
    assert page["data"][0]["originator"] == {"entityType": "DEVICE", "id": str(site["sensor"].pk)}
    assert api.get(f"/api/v2/alarm/ASSET/{building}?pageSize=10&page=0").json()["totalElements"] == 1
    assert api.get(f"/api/alarm/highestSeverity/ASSET/{building}").json() == "MAJOR"
    assert api.get(f"/api/alarm/TENANT/{tenant.pk}?pageSize=10&page=0").json()["totalElements"] == 1
    assert api.get(f"/api/alarm/DEVICE/{site['pump'].pk}?pageSize=10&page=0").json()["totalElements"] == 0
    own = api.get(f"/api/alarm/DEVICE/{site['sensor'].pk}?pageSize=10&page=0").json()
    assert own["totalElements"] == 1  # its own alarm, once


def test_per_entity_lists_stay_in_the_tenant_and_the_customer(mallory_api, customer_api, api, tenant, customer,
                                                              other_tenant, site):
    raise_on(tenant, [site["sensor"]], propagate=True)
    assert mallory_api.get(f"/api/alarm/ASSET/{site['building'].pk}?pageSize=10&page=0").status_code == 404
    assert mallory_api.get(f"/api/alarm/TENANT/{tenant.pk}?pageSize=10&page=0").status_code == 404
    assert customer_api.get(f"/api/alarm/TENANT/{tenant.pk}?pageSize=10&page=0").status_code == 404
    assert api.get(f"/api/alarm/TENANT/{other_tenant.pk}?pageSize=10&page=0").status_code == 404
    # the customer's asset above another customer's device: its alarm is not the customer's to see
    mine = make_asset(tenant, "mine", customer=customer)
    elsewhere = make_device(tenant, "elsewhere", customer=make_customer(tenant))
    relate(tenant, mine, elsewhere)
    raise_on(tenant, [elsewhere], propagate=True)
    assert api.get(f"/api/alarm/ASSET/{mine.pk}?pageSize=10&page=0").json()["totalElements"] == 1
    assert customer_api.get(f"/api/alarm/ASSET/{mine.pk}?pageSize=10&page=0").json()["totalElements"] == 0
    single = {"type": "singleEntity", "singleEntity": {"entityType": "ASSET", "id": str(mine.pk)}}
    body = {"entityFilter": single, "pageLink": {"pageSize": 10, "page": 0, "searchPropagatedAlarms": True}}
    assert api.post(FIND, body, format="json").json()["totalElements"] == 1
    assert customer_api.post(FIND, body, format="json").json()["totalElements"] == 0


def test_alarms_query_finds_propagated_alarms_only_when_asked(api, tenant, site):
    [alarm] = raise_on(tenant, [site["sensor"]], propagate=True, relationTypes=["Contains"])
    assets = {"type": "entityType", "entityType": "ASSET"}
    body = {"entityFilter": assets, "pageLink": {"pageSize": 10, "page": 0},
            "entityFields": [{"type": "ENTITY_FIELD", "key": "name"}],
            "alarmFields": [{"type": "ALARM_FIELD", "key": "type"}]}
    assert api.post(FIND, body, format="json").json()["totalElements"] == 0  # searchPropagatedAlarms: false
    body["pageLink"]["searchPropagatedAlarms"] = True
    page = api.post(FIND, body, format="json").json()
    listed = sorted(a["latest"]["ENTITY_FIELD"]["name"]["value"] for a in page["data"])
    assert listed == ["building", "floor"] and {a["id"]["id"] for a in page["data"]} == {str(alarm.pk)}
    assert all(a["entityId"]["entityType"] == "ASSET" for a in page["data"])
    count = {"entityFilter": assets, "searchPropagatedAlarms": True}
    assert api.post("/api/alarmsQuery/count", count, format="json").json() == 2


def test_an_alarm_saved_through_the_api_propagates_as_it_says(api, tenant, site):
    body = {"originator": {"entityType": "DEVICE", "id": str(site["sensor"].pk)}, "type": "Smoke",
            "severity": "MINOR", "propagate": True, "propagateRelationTypes": ["Manages"]}
    saved = api.post("/api/alarm", body, format="json").json()
    assert saved["propagate"] is True and saved["propagateRelationTypes"] == ["Manages"]
    assert spread(Alarm.objects.get(pk=saved["id"]["id"])) == {("ASSET", site["area"].pk)}
    for bad, message in (({"propagate": "yes"}, "propagate"), ({"propagateRelationTypes": "Manages"},
                                                               "propagateRelationTypes")):
        res = api.post("/api/alarm", {**body, **bad}, format="json")
        assert res.status_code == 400 and message in res.json()["message"]


def test_the_migration_records_owner_and_tenant_propagation_of_older_alarms(tenant, customer):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("rulechains.migrations.0005_alarm_assignee_propagation")
    owned, unowned = make_device(tenant, "owned", customer=customer), make_device(tenant, "unowned")
    rows = [Alarm.objects.create(tenant=tenant, customer=device.customer, originator_type="DEVICE",
                                 originator_id=device.pk, type="old", **flags)
            for device, flags in ((owned, {"propagate_to_owner": True}), (unowned, {"propagate_to_owner": True}),
                                  (owned, {"propagate_to_tenant": True}), (unowned, {}))]
    migration.owners_and_tenants(apps, None)
    migration.owners_and_tenants(apps, None)  # again: nothing doubles
    assert [spread(a) for a in rows] == [{("CUSTOMER", customer.pk)}, {("TENANT", tenant.pk)},
                                         {("TENANT", tenant.pk)}, set()]
