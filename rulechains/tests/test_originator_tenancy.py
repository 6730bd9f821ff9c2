"""A message whose originator is not an entity of its tenant runs no node (rulechains/originators.py):
checked where messages enter the engine (engine.process: API requests through the outbox and its
task, uplinks through the hand-off; engine.resume: delay, generator, deduplication) and where a node
hands a message on with another originator. The test run's own check is in nodes/test_hostile_input.py."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from devices.attributes import get_attributes
from devices.models import AssetProfile, DeviceProfile, EntityRelation, EntityView
from devices.telemetry import history
from integrations import handoff
from integrations.tests.factories import make_integration
from rulechains import engine, nodes, originators, outbox, tasks
from rulechains.messages import encode
from rulechains.models import Alarm
from rulechains.nodes import timers
from rulechains.tests.helpers import events_of, install_root, msg, node
from tbproject.process_cache import ProcessCache
from tbproject.testing.factories import make_asset, make_customer, make_device, make_group
from tenants.models import User

CHANGE_ORIGINATOR = "org.thingsboard.rule.engine.transform.TbChangeOriginatorNode"
DROPPED = "{} with id [{}] is not found: the message is dropped, its originator is not an entity of this tenant"
ENTITIES = {"DEVICE": ("Device", make_device), "ASSET": ("Asset", make_asset), "CUSTOMER": ("Customer", make_customer)}


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch):
    """Each test starts with nothing confirmed in this process."""
    monkeypatch.setattr(originators, "CONFIRMED", ProcessCache(originators.CACHE_SIZE))


def saving_chain(tenant):
    """switch (debug on) -> save time series / save server attributes: nodes that write by the originator."""
    return install_root(tenant, [node(nodes.SWITCH, "switch", True), node(nodes.SAVE_TIMESERIES, "ts", defaultTTL=0),
                                 node(nodes.SAVE_ATTRIBUTES, "attrs", scope="SERVER_SCOPE")],
                        [(0, 1, "Post telemetry"), (0, 2, "Post attributes")])


def nothing_stored(*entities) -> bool:
    return all(history(e.pk, ["t", "a"], 0, 1 << 62) == {} and get_attributes(e.pk, "SERVER_SCOPE") == []
               for e in entities)


def dropped_at(row) -> dict:
    """{entity id: error} of the IN events of ``row`` (the node the messages would have entered)."""
    return {e["entityId"]: e.get("error") for e in events_of(row, "IN")}


@pytest.mark.parametrize("kind", list(ENTITIES))
def test_process_drops_another_tenants_originator_and_writes_nothing(tenant, other_tenant, kind, caplog):
    name, make = ENTITIES[kind]
    theirs, mine = make(other_tenant, "victim"), make_device(tenant, "mine")
    chain = saving_chain(tenant)
    report = engine.process([msg(tenant, theirs, kind=kind, data={"t": 1}),
                             msg(tenant, theirs, "POST_ATTRIBUTES_REQUEST", kind=kind, data={"a": 1}),
                             msg(tenant, mine, data={"t": 2})])
    assert report.refused == 2 and report.node_runs == 2  # the switch and the save of the tenant's own device
    assert nothing_stored(theirs)  # not under their tenant, nor anything under ours by their id
    assert history(mine.pk, ["t"], 0, 1 << 62)["t"][0][1] == 2
    errors = dropped_at(chain.nodes.get(index=0))
    assert errors == {str(theirs.pk): DROPPED.format(name, theirs.pk), str(mine.pk): None}
    assert DROPPED.format(name, theirs.pk) in caplog.text


def test_an_id_of_no_entity_or_of_another_type_is_dropped_too(tenant):
    mine = make_device(tenant, "mine")
    saving_chain(tenant)
    report = engine.process([msg(tenant, None), msg(tenant, mine, kind="ASSET"), msg(tenant, mine, kind="DASHBOARD")])
    assert report.refused == 3 and report.node_runs == 0 and nothing_stored(mine)


def test_the_outbox_task_and_the_uplink_hand_off_drop_it(tenant, other_tenant):
    theirs = make_device(other_tenant, "victim")
    chain = saving_chain(tenant)
    outbox.queue([encode(msg(tenant, theirs, data={"t": 1}))])  # eager here: the task runs engine.process
    tasks.process_messages.delay([encode(msg(tenant, theirs, "POST_ATTRIBUTES_REQUEST", data={"a": 1}))])
    handoff.dispatch([msg(tenant, theirs, data={"t": 3}, stored=True)])  # the switch's debug: the chain acts on it
    assert nothing_stored(theirs)
    switch = chain.nodes.get(index=0)
    assert [e["error"] for e in events_of(switch, "IN")] == [DROPPED.format("Device", theirs.pk)] * 3
    assert events_of(switch, "OUT") == []


def test_resume_drops_a_delayed_message_of_another_tenants_device(tenant, other_tenant):
    theirs, mine = make_device(other_tenant, "victim"), make_device(tenant, "mine")
    chain = install_root(tenant, [node(nodes.DELAY, "wait", True, periodInSeconds=1, maxPendingMsgs=10),
                                  node(nodes.SAVE_TIMESERIES, "ts", True, defaultTTL=0)], [(0, 1, "Success")])
    wait = chain.nodes.get(index=0)
    for device in (theirs, mine):
        timers.resume_delayed({"node": str(wait.pk), "chain": str(chain.pk), "tenant": str(tenant.pk), "stack": [],
                               "msg": encode(msg(tenant, device, data={"t": 5}))})
    assert nothing_stored(theirs) and history(mine.pk, ["t"], 0, 1 << 62)["t"][0][1] == 5
    [dropped] = [e for e in events_of(wait, "OUT") if e.get("error")]
    assert dropped["entityId"] == str(theirs.pk) and dropped["error"] == DROPPED.format("Device", theirs.pk)
    assert [e["entityId"] for e in events_of(chain.nodes.get(index=1), "IN")] == [str(mine.pk)]


def test_a_new_originator_of_another_tenant_fails_the_node_with_the_message_it_got(tenant, other_tenant):
    """Change originator to the first related entity, where a relation row of this tenant names
    another tenant's device (made before create relation refused foreign originators): the message
    leaves by Failure with its own originator; nothing is saved as their device."""
    theirs, asset = make_device(other_tenant, "victim"), make_asset(tenant, "site")
    EntityRelation.objects.create(tenant=tenant, from_type="ASSET", from_id=asset.pk, to_type="DEVICE",
                                  to_id=theirs.pk, type="Contains")
    chain = install_root(tenant, [
        node(CHANGE_ORIGINATOR, "change", True, originatorSource="RELATED",
             relationsQuery={"direction": "FROM", "maxLevel": 1, "filters": []}),
        node(nodes.SAVE_TIMESERIES, "ts", defaultTTL=0), node(nodes.SWITCH, "failed", True),
    ], [(0, 1, "Success"), (0, 2, "Failure")])
    report = engine.process([msg(tenant, asset, kind="ASSET", data={"t": 1})])
    assert report.refused == 0 and report.failures == 1
    assert nothing_stored(theirs, asset)
    [out] = events_of(chain.nodes.get(index=0), "OUT")
    assert out["relationType"] == "Failure" and out["error"] == f"Device with id [{theirs.pk}] is not found"
    [failed] = events_of(chain.nodes.get(index=2), "IN")
    assert (failed["entityType"], failed["entityId"]) == ("ASSET", str(asset.pk))


def test_a_new_originator_of_the_tenant_goes_on(tenant):
    mine, asset = make_device(tenant, "mine"), make_asset(tenant, "site")
    EntityRelation.objects.create(tenant=tenant, from_type="ASSET", from_id=asset.pk, to_type="DEVICE",
                                  to_id=mine.pk, type="Contains")
    install_root(tenant, [
        node(CHANGE_ORIGINATOR, "change", originatorSource="RELATED",
             relationsQuery={"direction": "FROM", "maxLevel": 1, "filters": []}),
        node(nodes.SAVE_TIMESERIES, "ts", defaultTTL=0)], [(0, 1, "Success")])
    report = engine.process([msg(tenant, asset, kind="ASSET", data={"t": 7})])
    assert report.failures == 0 and history(mine.pk, ["t"], 0, 1 << 62)["t"][0][1] == 7


def test_every_kind_of_entity_of_the_tenant_flows(tenant, tenant_admin):
    chain = install_root(tenant, [node(nodes.SWITCH, "switch", True)], [])
    row = chain.nodes.get(index=0)
    device, integration = make_device(tenant, "d"), make_integration(tenant)
    mine = {"DEVICE": device, "ASSET": make_asset(tenant, "a"),
            "CUSTOMER": make_customer(tenant, "c"), "USER": User.objects.get(pk=tenant_admin.pk),
            "ENTITY_GROUP": make_group(tenant, "g"), "RULE_NODE": row, "RULE_CHAIN": chain, "TENANT": tenant,
            "ENTITY_VIEW": EntityView.objects.create(tenant=tenant, name="v", type="t", entity_type="DEVICE",
                                                     entity_id=device.pk),
            "ALARM": Alarm.objects.create(tenant=tenant, originator_type="DEVICE", originator_id=device.pk, type="Hot"),
            "INTEGRATION": integration, "CONVERTER": integration.default_converter,
            "DEVICE_PROFILE": DeviceProfile.objects.create(tenant=tenant, name="meter"),
            "ASSET_PROFILE": AssetProfile.objects.create(tenant=tenant, name="site")}
    assert set(mine) == {*originators.MODELS, "TENANT"}
    report = engine.process([msg(tenant, entity, kind=kind) for kind, entity in mine.items()])
    assert report.refused == 0 and report.node_runs == len(mine)
    assert set(dropped_at(row).values()) == {None}


def test_the_check_is_one_query_per_entity_type_for_a_batch_of_tenants(tenant, other_tenant,
                                                                        django_assert_num_queries):
    batch = [msg(t, make_device(t, f"d{i}")) for t in (tenant, other_tenant) for i in range(3)]
    batch += [msg(t, make_asset(t, "a"), kind="ASSET") for t in (tenant, other_tenant)]
    batch += [msg(tenant, tenant, kind="TENANT"), msg(other_tenant, make_customer(other_tenant), kind="CUSTOMER")]
    with django_assert_num_queries(3):  # devices, assets, customers (counted per tenant); the tenant needs none
        assert originators.foreign(batch) == set()
    batch += [msg(tenant, other_tenant, kind="TENANT"), msg(tenant, make_device(other_tenant, "x"))]
    originators.CONFIRMED.forget()  # as a process that has confirmed none of them
    with django_assert_num_queries(4):  # and which devices are missing, as some are
        assert originators.foreign(batch) == {len(batch) - 2, len(batch) - 1}


def test_a_batch_beyond_one_statement_is_checked_in_parts(tenant, other_tenant, monkeypatch):
    monkeypatch.setattr(originators, "_CHUNK", 2)
    mine = [make_device(tenant, f"d{i}") for i in range(5)]
    theirs = make_device(other_tenant, "x")
    batch = [msg(tenant, d) for d in mine]
    batch += [msg(tenant, theirs), msg(other_tenant, theirs), msg(other_tenant, mine[0])]
    assert originators.foreign(batch) == {5, 7}


def originator_checks(queries) -> list[str]:
    """The originator counts among ``queries`` (originators._counts: one per type and batch)."""
    return [q["sql"] for q in queries if "COUNT(*)" in q["sql"] and 'GROUP BY "tenant_id"' in q["sql"]]


def test_a_second_batch_with_the_same_originators_makes_no_originator_query(tenant):
    devices = [make_device(tenant, f"d{i}") for i in range(5)]
    install_root(tenant, [node(nodes.SWITCH, "switch")], [])
    batch = [msg(tenant, d, data={"t": i}) for i, d in enumerate(devices)]
    batch.append(msg(tenant, make_asset(tenant, "a"), kind="ASSET"))
    with CaptureQueriesContext(connection) as first:
        assert engine.process(batch).refused == 0
    assert len(originator_checks(first.captured_queries)) == 2  # devices, assets
    with CaptureQueriesContext(connection) as second:
        assert engine.process(batch).refused == 0
        assert originators.foreign(batch) == set()
    assert originator_checks(second.captured_queries) == []


def test_a_foreign_originator_is_still_refused_once_the_tenants_own_ids_are_cached(tenant, other_tenant):
    mine, theirs = make_device(tenant, "mine"), make_device(other_tenant, "victim")
    assert originators.foreign([msg(tenant, mine), msg(other_tenant, theirs)]) == set()  # both confirmed
    assert originators.foreign([msg(tenant, mine), msg(tenant, theirs), msg(other_tenant, mine)]) == {1, 2}
    assert originators.foreign([msg(tenant, theirs)]) == {0}  # a refusal is not remembered either way
    assert originators.foreign([msg(other_tenant, theirs)], tenant.pk) == {0}


def test_the_cache_forgets_after_its_ttl(monkeypatch, tenant):
    device = make_device(tenant, "d")
    assert originators.foreign([msg(tenant, device)]) == set()
    ref = (tenant.pk, "DEVICE", device.pk)
    assert originators.known([ref]) == {ref}
    now = originators.time.monotonic()
    monkeypatch.setattr(originators.time, "monotonic", lambda: now + originators.CACHE_TTL + 1)
    assert originators.known([ref]) == set()


def test_a_deleted_originator_is_refused_at_once_in_the_process_that_deleted_it(tenant):
    device, kept = make_device(tenant, "gone"), make_device(tenant, "kept")
    assert originators.foreign([msg(tenant, device), msg(tenant, kept)]) == set()  # both confirmed and cached
    device_msg = msg(tenant, device)
    device.delete()
    assert originators.foreign([device_msg, msg(tenant, kept)]) == {0}
