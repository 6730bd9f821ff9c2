"""Uplinks still store their data exactly as before with the default root chain in place."""

from devices.attributes import get_attributes
from devices.models import Device
from devices.telemetry import history
from integrations import pipeline
from integrations.tests.uplinks import integration, json_uplink, values
from rulechains import nodes
from rulechains.models import RuleChain
from rulechains.nodes import actions
from rulechains.tests.helpers import events_of, install_root, node

T0 = 1_760_000_000_000


def test_uplinks_reach_the_root_chain_stored_once(tenant, monkeypatch):
    writes = []
    real = actions.write_points
    monkeypatch.setattr(actions, "write_points", lambda rows: writes.append(rows) or real(rows))
    root = RuleChain.objects.get(tenant=tenant, root=True)
    save_ts = root.nodes.get(type=nodes.SAVE_TIMESERIES)
    save_ts.debug_mode = True
    save_ts.save()
    integ = integration(tenant)
    [outcome] = pipeline.process([json_uplink(integ, {"name": "m-1", "telemetry": {"t": 21.5},
                                                      "attributes": {"fw": "1.0"}}, ts=T0)])
    assert outcome.status == pipeline.OK
    device = Device.objects.get(tenant=tenant, name="m-1")
    assert values(device) == {"t": 21.5} and history(device.pk, ["t"], T0, T0 + 1) == {"t": [(T0, 21.5)]}
    assert [(a["scope"], a["key"], a["value"]) for a in get_attributes(device.pk)] == [("SERVER_SCOPE", "fw", "1.0")]
    [arrived] = events_of(save_ts, "IN")
    assert arrived["relationType"] == "Post telemetry" and arrived["entityId"] == str(device.pk)
    assert [e["relationType"] for e in events_of(save_ts, "OUT")] == ["Success"]
    assert writes == []  # the pipeline stored it: the save node did not write again


def test_data_keeps_flowing_when_the_root_chain_has_no_save_nodes(tenant):
    install_root(tenant, [node(nodes.SWITCH)], [])
    integ = integration(tenant)
    pipeline.process([json_uplink(integ, {"name": "m-2", "telemetry": {"t": 1}}, ts=T0)])
    assert values(Device.objects.get(tenant=tenant, name="m-2")) == {"t": 1}


def test_a_transform_before_the_save_node_stores_what_it_made(tenant):
    script = "return {msg: msg.map(function (e) { return {ts: e.ts, values: {f: e.values.t * 2}}; })};"
    install_root(tenant, [node(nodes.SWITCH), node(nodes.SCRIPT_TRANSFORM, jsScript=script),
                          node(nodes.SAVE_TIMESERIES)], [(0, 1, "Post telemetry"), (1, 2, "Success")])
    integ = integration(tenant)
    pipeline.process([json_uplink(integ, {"name": "m-3", "telemetry": {"t": 4}}, ts=T0)])
    device = Device.objects.get(tenant=tenant, name="m-3")
    assert values(device) == {"t": 4, "f": 8}
