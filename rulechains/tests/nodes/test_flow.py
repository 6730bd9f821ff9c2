"""Rule chain node and output node, through the engine, with chains in ThingsBoard's export JSON."""

import json

from rulechains import engine, nodes, services
from rulechains.tests.helpers import chain_json, events_of, install_root, msg, node, run_node
from tbproject.testing.factories import make_device

SWITCH_BY_T = "return msg.t > 10 ? 'hot' : ['cold'];"


def classify_chain(tenant, name="Classify"):
    """A chain that answers through two output nodes, "High" and "Low"."""
    return services.create_chain(tenant.pk, chain_json(name, [
        node(nodes.SCRIPT_SWITCH, "by t", scriptLang="JS", jsScript=SWITCH_BY_T, tbelScript=""),
        node(nodes.RULE_CHAIN_OUTPUT, "High", version=0),
        node(nodes.RULE_CHAIN_OUTPUT, "Low", version=0),
    ], [(0, 1, "hot"), (0, 2, "cold")]))


def caller(tenant, target_id, **configuration):
    return install_root(tenant, [
        node(nodes.RULE_CHAIN_INPUT, "classify", True, ruleChainId=str(target_id), **configuration),
        node(nodes.LOG, "high", True), node(nodes.LOG, "low", True), node(nodes.LOG, "failed", True),
    ], [(0, 1, "High"), (0, 2, "Low"), (0, 3, "Failure")])


def arrived(chain, index):
    return [(e["relationType"], json.loads(e["data"])) for e in events_of(chain.nodes.get(index=index), "IN")]


def test_a_called_chain_answers_through_its_output_nodes_by_their_names(tenant):
    device = make_device(tenant, "d")
    root = caller(tenant, classify_chain(tenant).pk)
    report = engine.process([msg(tenant, device, data={"t": 20}), msg(tenant, device, data={"t": 5})])
    assert report.failures == 0
    assert arrived(root, 1) == [("High", {"t": 20})] and arrived(root, 2) == [("Low", {"t": 5})]


def test_calls_nest_and_each_return_goes_to_its_own_caller(tenant):
    device = make_device(tenant, "d")
    inner = classify_chain(tenant, "Inner")
    middle = services.create_chain(tenant.pk, chain_json("Middle", [
        node(nodes.RULE_CHAIN_INPUT, "call inner", ruleChainId=str(inner.pk), forwardMsgToDefaultRuleChain=False),
        node(nodes.SCRIPT_TRANSFORM, "mark", jsScript="metadata.via = 'middle'; return {metadata: metadata};"),
        node(nodes.RULE_CHAIN_OUTPUT, "High"),
    ], [(0, 1, "High"), (1, 2, "Success")]))
    root = caller(tenant, middle.pk)
    engine.process([msg(tenant, device, data={"t": 99}), msg(tenant, device, data={"t": 1})])
    [high] = events_of(root.nodes.get(index=1), "IN")
    assert json.loads(high["metadata"])["via"] == "middle"
    assert events_of(root.nodes.get(index=2)) == []  # "Low" of the inner chain has no link in the middle one


def _profile_with_chain(tenant, chain, name="thermostat"):
    from devices.models import DeviceProfile

    return DeviceProfile.objects.create(tenant=tenant, name=name, additional_info={
        "defaultRuleChainId": {"entityType": "RULE_CHAIN", "id": str(chain.pk)}})


def test_forward_to_default_rule_chain_uses_the_originators_profile(tenant):
    profile_chain = classify_chain(tenant, "Profile chain")
    fallback = services.create_chain(tenant.pk, chain_json("Fallback", [node(nodes.RULE_CHAIN_OUTPUT, "Low")], []))
    device = make_device(tenant, "d", profile=_profile_with_chain(tenant, profile_chain))
    outs = run_node(tenant, nodes.RULE_CHAIN_INPUT, [msg(tenant, device), msg(tenant, kind="CUSTOMER"),
                                                     msg(tenant, make_device(tenant, "plain"))],
                    ruleChainId=str(fallback.pk), forwardMsgToDefaultRuleChain=True)
    assert [out.chain for [out] in outs] == [profile_chain.pk, fallback.pk, fallback.pk]


def test_a_profiles_default_rule_chain_takes_its_devices_messages_instead_of_the_root(tenant):
    root = install_root(tenant, [node(nodes.LOG, "root log", True)], [])
    profile_chain = services.create_chain(tenant.pk, chain_json("Thermostats", [node(nodes.LOG, "their log", True)],
                                                                []))
    thermostat = make_device(tenant, "t-1", profile=_profile_with_chain(tenant, profile_chain))
    other = make_device(tenant, "other")
    engine.process([msg(tenant, thermostat, data={"t": 1}), msg(tenant, other, data={"t": 2})])
    assert [json.loads(e["data"]) for e in events_of(profile_chain.nodes.get(), "IN")] == [{"t": 1}]
    assert [json.loads(e["data"]) for e in events_of(root.nodes.get(), "IN")] == [{"t": 2}]


def test_a_default_rule_chain_named_after_a_batch_ran_takes_the_next_batch(tenant):
    root = install_root(tenant, [node(nodes.LOG, "root log", True)], [])
    profile_chain = services.create_chain(tenant.pk, chain_json("Thermostats", [node(nodes.LOG, "their log", True)],
                                                                []))
    profile = _profile_with_chain(tenant, profile_chain)
    profile.additional_info = {}
    profile.save()
    device = make_device(tenant, "t-1", profile=profile)
    engine.process([msg(tenant, device, data={"t": 1})])  # the tenant's profiles are cached: none has a chain
    profile.additional_info = {"defaultRuleChainId": {"entityType": "RULE_CHAIN", "id": str(profile_chain.pk)}}
    profile.save()
    engine.process([msg(tenant, device, data={"t": 2})])
    assert [json.loads(e["data"]) for e in events_of(root.nodes.get(), "IN")] == [{"t": 1}]
    assert [json.loads(e["data"]) for e in events_of(profile_chain.nodes.get(), "IN")] == [{"t": 2}]


def test_stored_uplinks_of_a_profile_with_a_default_chain_are_not_left_out(tenant, monkeypatch):
    from integrations import handoff
    from rulechains import shortcut, tasks

    calls = []
    monkeypatch.setattr(tasks.process_messages, "delay", lambda payload: calls.append(payload))
    device = make_device(tenant, "t-1")
    handoff.dispatch([msg(tenant, device, stored=True)])  # the default root chain only stores: left out
    _profile_with_chain(tenant, classify_chain(tenant))
    shortcut.forget()
    handoff.dispatch([msg(tenant, device, stored=True)])
    assert len(calls) == 1


def test_another_tenants_chain_is_not_found(tenant, other_tenant):
    theirs = classify_chain(other_tenant)
    root = caller(tenant, theirs.pk)
    engine.process([msg(tenant, make_device(tenant, "d"), data={"t": 20})])
    [(relation, _)] = arrived(root, 3)
    [failure] = [e for e in events_of(root.nodes.get(index=0), "OUT")]
    assert relation == "Failure" and "not found" in failure["error"] and events_of(theirs.nodes.get(index=0)) == []


def test_an_output_node_in_a_chain_nobody_called_ends_the_message(tenant):
    install_root(tenant, [node(nodes.RULE_CHAIN_OUTPUT, "High", True)], [])
    report = engine.process([msg(tenant, make_device(tenant, "d"))])
    assert report.node_runs == 1 and report.failures == 0


def test_a_chain_calling_itself_is_stopped_by_the_hop_budget(tenant, settings):
    settings.RULE_ENGINE_MAX_HOPS = 10
    root = install_root(tenant, [node(nodes.SWITCH, "start")], [])
    looping = services.create_chain(
        tenant.pk, chain_json("Loop", [node(nodes.RULE_CHAIN_INPUT, "me", ruleChainId=str(root.pk))], []))
    looping.nodes.update(configuration={"ruleChainId": str(looping.pk)})
    root_input = root.nodes.get()
    root_input.type, root_input.configuration = nodes.RULE_CHAIN_INPUT, {"ruleChainId": str(looping.pk)}
    root_input.save()
    report = engine.process([msg(tenant, make_device(tenant, "d"))])
    assert report.node_runs == 10 and report.hop_limited == 1
