"""The "copy to view" node, through the engine in a chain as ThingsBoard exports it."""

import json

import pytest

from devices.attributes import get_attributes, save_attributes
from devices.models import EntityView
from rulechains import engine, nodes
from rulechains.nodes.base import NodeContext
from rulechains.tests.helpers import events_of, install_root, make_node, msg, node
from tbproject.testing.factories import make_asset, make_device

COPY = "org.thingsboard.rule.engine.action.TbCopyAttributesToEntityViewNode"
NOW = 1_700_000_000_000


def make_view(tenant, target, name, cs=(), ss=(), sh=(), start=0, end=0, entity_type="DEVICE") -> EntityView:
    return EntityView.objects.create(
        tenant=tenant, name=name, type="t", entity_type=entity_type, entity_id=target.pk, start_time_ms=start,
        end_time_ms=end, keys={"timeseries": [], "attributes": {"cs": list(cs), "ss": list(ss), "sh": list(sh)}})


@pytest.fixture
def chain(tenant):
    """ThingsBoard's export of the node ("configuration": {"version": 0}), then two debug log nodes."""
    exported = {"type": COPY, "name": "copy to view", "debugMode": True, "configuration": {"version": 0},
                "additionalInfo": {"layoutX": 1, "layoutY": 2}}
    return install_root(tenant, [exported, node(nodes.LOG, "copied", True), node(nodes.LOG, "failed", True)],
                        [(0, 1, "Success"), (0, 2, "Failure")])


def outputs(chain, index: int) -> list[dict]:
    return events_of(chain.nodes.get(index=index), "IN")


def test_posted_client_attributes_reach_the_views_that_list_them(tenant, chain):
    device = make_device(tenant, "thermo")
    fw = make_view(tenant, device, "fw view", cs=["fw"])
    both = make_view(tenant, device, "both", cs=["fw", "mode"], ss=["fw"])
    make_view(tenant, device, "ended", cs=["fw"], start=NOW - 10_000, end=NOW - 1)
    make_view(tenant, device, "not yet", cs=["fw"], start=NOW + 1)
    posted = msg(tenant, device, "POST_ATTRIBUTES_REQUEST", {"fw": "2.0", "mode": "eco", "other": 1}, {"k": "v"})
    report = engine.process([posted], now=NOW)
    assert report.failures == 0
    assert [(a["key"], a["value"], a["scope"]) for a in get_attributes(fw.pk)] == [("fw", "2.0", "CLIENT_SCOPE")]
    assert [(a["key"], a["lastUpdateTs"]) for a in get_attributes(both.pk)] == [("fw", NOW), ("mode", NOW)]
    assert EntityView.objects.filter(name__in=["ended", "not yet"]).values_list("pk", flat=True).count() == 2
    copied = outputs(chain, 1)
    assert sorted(e["entityId"] for e in copied) == sorted([str(fw.pk), str(both.pk)])
    assert {e["entityType"] for e in copied} == {"ENTITY_VIEW"}
    assert json.loads(copied[0]["data"]) == {"fw": "2.0", "mode": "eco", "other": 1}
    assert json.loads(copied[0]["metadata"]) == {"k": "v"}
    assert outputs(chain, 2) == []


def test_updates_use_the_scope_metadata_and_deletes_remove_listed_keys(tenant, chain):
    asset = make_asset(tenant, "hall")
    view = make_view(tenant, asset, "hall view", ss=["setpoint"], sh=["limit"], entity_type="ASSET")
    save_attributes(view.pk, "SERVER_SCOPE", {"setpoint": 1})
    updated = msg(tenant, asset, "ATTRIBUTES_UPDATED", {"limit": 9, "setpoint": 5}, {"scope": "SHARED_SCOPE"},
                  kind="ASSET")
    engine.process([updated], now=NOW)
    assert {(a["key"], a["scope"]): a["value"] for a in get_attributes(view.pk)} == {
        ("limit", "SHARED_SCOPE"): 9, ("setpoint", "SERVER_SCOPE"): 1}
    deleted = msg(tenant, asset, "ATTRIBUTES_DELETED", {"attributes": ["setpoint", "unlisted"]},
                  {"scope": "SERVER_SCOPE"}, kind="ASSET")
    nothing = msg(tenant, asset, "ATTRIBUTES_DELETED", {"attributes": ["unlisted"]}, {"scope": "SERVER_SCOPE"},
                  kind="ASSET")
    engine.process([deleted, nothing], now=NOW)
    assert [a["key"] for a in get_attributes(view.pk)] == ["limit"]
    assert sorted(e["msgType"] for e in outputs(chain, 1)) == ["ATTRIBUTES_DELETED", "ATTRIBUTES_UPDATED"]


@pytest.mark.parametrize("msg_type, data, metadata, error", [
    ("POST_TELEMETRY_REQUEST", {"t": 1}, {"k": "v"}, "Unsupported msg type [POST_TELEMETRY_REQUEST]"),
    ("ATTRIBUTES_UPDATED", {"fw": 1}, {}, "Message metadata is empty"),
    ("ATTRIBUTES_UPDATED", {"fw": 1}, {"scope": "EVERYWHERE"}, "Unsupported attribute scope [EVERYWHERE]"),
    ("ATTRIBUTES_UPDATED", [1, 2], {"scope": "CLIENT_SCOPE"}, "JSON object"),
    ("ATTRIBUTES_DELETED", {"keys": []}, {"scope": "CLIENT_SCOPE"}, "attributes"),
])
def test_other_messages_leave_by_failure(tenant, chain, msg_type, data, metadata, error):
    device = make_device(tenant, "thermo")
    view = make_view(tenant, device, "v", cs=["fw"])
    engine.process([msg(tenant, device, msg_type, data, metadata)], now=NOW)
    [failed] = outputs(chain, 2)
    assert failed["entityId"] == str(device.pk)
    [out] = events_of(chain.nodes.get(index=0), "OUT")
    assert out["relationType"] == "Failure" and error in out["error"]
    assert outputs(chain, 1) == [] and get_attributes(view.pk) == []


def test_another_tenants_views_are_never_written(tenant, other_tenant):
    theirs = make_device(other_tenant, "m-dev")
    view = make_view(other_tenant, theirs, "m-view", cs=["fw"])
    copy = make_node(tenant, COPY)
    posted = msg(tenant, theirs, "POST_ATTRIBUTES_REQUEST", {"fw": "evil"}, {"k": "v"})
    assert copy.process_batch(NodeContext(tenant.pk, NOW), [posted]) == [[]]
    assert get_attributes(view.pk) == []


def test_the_node_has_no_configuration_and_is_an_action(tenant):
    cls = nodes.get_node(COPY)
    assert cls.defaults == {} and cls.clean_config({}) == {} and cls.side_effects and cls.group == "ACTION"


def test_a_batch_loads_its_views_in_one_query_and_writes_them_together(tenant, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from calculated import index

    monkeypatch.setattr(index, "TTL_SECONDS", 600.0)  # the warm-up's cache entries outlast a loaded machine's pauses
    index.clear()  # none loaded earlier with the short TTL
    index.tenants_with_fields()

    devices = [make_device(tenant, f"d{i}") for i in range(5)]
    views = {d.pk: [make_view(tenant, d, f"{d.name}-{j}", cs=["fw"]) for j in range(2)] for d in devices}
    batch = [msg(tenant, d, "POST_ATTRIBUTES_REQUEST", {"fw": f"{d.name}.{n}"}, {"k": "v"}) for n in range(2)
             for d in devices]
    copy = make_node(tenant, COPY)
    warm = make_device(tenant, "warm")  # per-process caches (calculated fields, TTL-bound) loaded before counting
    make_view(tenant, warm, "warm-v", cs=["fw"])
    copy.process_batch(NodeContext(tenant.pk, NOW), [msg(tenant, warm, "POST_ATTRIBUTES_REQUEST", {"fw": "0"}, {})])
    with CaptureQueriesContext(connection) as ctx:
        outs = copy.process_batch(NodeContext(tenant.pk, NOW), batch)
    sql = [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(sql) == 2, sql  # the views of the five originators, one upsert of the twenty copies
    assert [len(out) for out in outs] == [2] * 10
    for device in devices:
        for view in views[device.pk]:
            assert [a["value"] for a in get_attributes(view.pk)] == [f"{device.name}.1"]  # the later message wins


def test_a_message_that_cannot_be_copied_fails_alone(tenant):
    device = make_device(tenant, "thermo")
    view = make_view(tenant, device, "v", cs=["fw"], ss=["fw"])
    batch = [msg(tenant, device, "POST_ATTRIBUTES_REQUEST", {"fw": "bad\u0000"}, {"k": "v"}),
             msg(tenant, device, "ATTRIBUTES_UPDATED", {"fw": "1"}, {"scope": "SERVER_SCOPE"}),
             msg(tenant, device, "ATTRIBUTES_DELETED", {"attributes": ["fw"]}, {"scope": "SERVER_SCOPE"}),
             msg(tenant, device, "POST_ATTRIBUTES_REQUEST", {"fw": "ok"}, {"k": "v"})]
    outs = make_node(tenant, COPY).process_batch(NodeContext(tenant.pk, NOW), batch)
    assert [[o.relation for o in out] for out in outs] == [["Failure"], ["Success"], ["Success"], ["Success"]]
    assert "NUL" in outs[0][0].error
    # the update was written before the delete that followed it
    assert [(a["scope"], a["value"]) for a in get_attributes(view.pk)] == [("CLIENT_SCOPE", "ok")]


def test_a_view_of_another_tenants_entity_is_never_written(tenant, other_tenant):
    theirs = make_device(other_tenant, "m-dev")
    planted = make_view(tenant, theirs, "planted", cs=["fw"])  # written around the API's and the admin's checks
    posted = msg(tenant, theirs, "POST_ATTRIBUTES_REQUEST", {"fw": "x"}, {"k": "v"})
    assert make_node(tenant, COPY).process_batch(NodeContext(tenant.pk, NOW), [posted]) == [[]]
    assert get_attributes(planted.pk) == []
