"""Rule-node debug events: ThingsBoard's debug window ("all" for DEBUG_ALL_DURATION_MINUTES, then
failures only) and the per-node hourly cap."""

from django.core.cache import cache

from rulechains import engine, nodes
from rulechains.metadata import export_metadata
from rulechains.models import RuleNode
from rulechains.tests.helpers import events_of, install_root, msg, node
from tbproject.clock import now_ms
from tbproject.testing.factories import make_device

FILTER = "if (msg.t < 0) throw new Error('negative'); return msg.t > 5;"


def test_debug_all_records_everything_until_the_window_ends_then_failures_only(tenant):
    device = make_device(tenant, "d")
    chain = install_root(tenant, [node(nodes.SCRIPT_FILTER, "f", True, jsScript=FILTER)], [])
    [row] = chain.nodes.all()
    assert now_ms() + 14 * 60_000 < row.debug_all_until <= now_ms() + 15 * 60_000
    engine.process([msg(tenant, device, data={"t": 9})])
    assert sorted(e["type"] for e in events_of(row)) == ["IN", "OUT"]
    RuleNode.objects.filter(pk=row.pk).update(debug_all_until=now_ms() - 1)  # fifteen minutes later
    engine.process([msg(tenant, device, data={"t": 9}), msg(tenant, device, data={"t": -1})])
    failures = [e for e in events_of(row) if e.get("error")]
    assert [(e["type"], e["relationType"]) for e in failures] == [("OUT", "Failure")]
    assert "negative" in failures[0]["error"]
    exported = export_metadata(chain)["nodes"][0]
    assert exported["debugSettings"] == {"failuresEnabled": True, "allEnabled": False, "allEnabledUntil": 0}


def test_thingsboards_debug_settings_are_read_on_import(tenant):
    settings_only = node(nodes.SWITCH, "failures")
    settings_only.pop("debugMode")
    settings_only["debugSettings"] = {"failuresEnabled": True, "allEnabled": False, "allEnabledUntil": 0}
    later = node(nodes.SWITCH, "window")
    later["debugSettings"] = {"failuresEnabled": False, "allEnabled": False, "allEnabledUntil": now_ms() + 60_000}
    chain = install_root(tenant, [settings_only, later], [])
    failures, window = chain.nodes.order_by("index")
    assert (failures.debug_mode, failures.debug_failures, failures.debug_all_until) == (False, True, 0)
    assert window.debug_mode and window.debug_all_until <= now_ms() + 60_000


def test_debug_events_are_capped_per_node_per_hour_keeping_failures(tenant, settings):
    settings.RULE_NODE_DEBUG_EVENTS_PER_HOUR = 5
    cache.clear()
    device = make_device(tenant, "d")
    chain = install_root(tenant, [node(nodes.SCRIPT_FILTER, "busy", True, jsScript=FILTER),
                                  node(nodes.LOG, "quiet", True)], [(0, 1, "True")])
    busy, quiet = chain.nodes.order_by("index")
    engine.process([msg(tenant, device, data={"t": -1})] + [msg(tenant, device, data={"t": 1}) for _ in range(4)])
    kept = events_of(busy)
    assert len(kept) == 6 and sum("negative" in e.get("error", "") for e in kept) == 1
    [note] = [e for e in kept if "capped at 5 per hour" in e.get("error", "")]
    assert note["type"] == "OUT"
    engine.process([msg(tenant, device, data={"t": 1})])
    assert len(events_of(busy)) == 6  # nothing more this hour
    engine.process([msg(tenant, device, data={"t": 9})])
    assert len(events_of(quiet)) == 2  # another node has its own budget
