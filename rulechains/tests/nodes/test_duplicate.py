"""ThingsBoard PE's duplicate to group / duplicate to related nodes: one copy per entity."""

import pytest

from devices.models import EntityRelation
from rulechains import engine, nodes
from rulechains.nodes.base import ConfigError
from rulechains.tests.helpers import events_of, install_root, msg, node, run_node
from tbproject.testing.factories import make_asset, make_device, make_group

pytestmark = pytest.mark.django_db

TO_GROUP = "org.thingsboard.rule.engine.transform.TbDuplicateMsgToGroupNode"
TO_RELATED = "org.thingsboard.rule.engine.transform.TbDuplicateMsgToRelatedNode"


def test_one_copy_per_group_member_through_the_engine(tenant):
    a, b, sender = make_device(tenant, "a"), make_device(tenant, "b"), make_device(tenant, "sender")
    group = make_group(tenant, "thermostats", members=[a, b])
    chain = install_root(tenant, [node(TO_GROUP, "dup", entityGroupId=str(group.pk),
                                       entityGroupIsMessageOriginator=False), node(nodes.LOG, "copies", True)],
                         [(0, 1, "Success")])
    engine.process([msg(tenant, sender, "RPC_CALL_FROM_SERVER_TO_DEVICE", data={"method": "reboot"})])
    copies = events_of(chain.nodes.get(index=1), "IN")
    assert sorted(e["entityId"] for e in copies) == sorted([str(a.pk), str(b.pk)])
    assert {e["msgType"] for e in copies} == {"RPC_CALL_FROM_SERVER_TO_DEVICE"}


def test_the_group_as_originator_and_another_tenants_group(tenant, other_tenant):
    a = make_device(tenant, "a")
    mine = make_group(tenant, "mine", members=[a])
    theirs = make_group(other_tenant, "theirs", members=[make_device(other_tenant, "x")])
    outs = run_node(tenant, TO_GROUP, [msg(tenant, mine, kind="ENTITY_GROUP"), msg(tenant, a)],
                    entityGroupIsMessageOriginator=True)
    assert [(o.msg.originator_type, o.msg.originator_id) for o in outs[0]] == [("DEVICE", a.pk)]
    assert outs[1][0].error == "Unsupported originator type: DEVICE! Only 'ENTITY_GROUP' type is allowed."
    [[out]] = run_node(tenant, TO_GROUP, [msg(tenant, a)], entityGroupId=str(theirs.pk))
    assert out.relation == "Failure" and "is not found" in out.error


def test_one_copy_per_related_entity_of_this_tenant(tenant, other_tenant):
    building, a, b = make_asset(tenant, "building"), make_device(tenant, "a"), make_device(tenant, "b")
    for child in (a, b):
        EntityRelation.objects.create(tenant=tenant, from_type="ASSET", from_id=building.pk, to_type="DEVICE",
                                      to_id=child.pk, type="Contains")
    EntityRelation.objects.create(tenant=other_tenant, from_type="ASSET", from_id=building.pk, to_type="DEVICE",
                                  to_id=make_device(other_tenant, "x").pk, type="Contains")
    query = {"direction": "FROM", "maxLevel": 1, "fetchLastLevelOnly": False,
             "filters": [{"relationType": "Contains", "entityTypes": ["DEVICE"]}]}
    [outs, lonely] = run_node(tenant, TO_RELATED, [msg(tenant, building, kind="ASSET"), msg(tenant, a)],
                              relationsQuery=query)
    assert sorted(o.msg.originator_id for o in outs) == sorted([a.pk, b.pk])
    assert lonely[0].relation == "Failure"


@pytest.mark.parametrize("kind, configuration", [
    (TO_GROUP, {"entityGroupId": "not-a-uuid"}),
    (TO_GROUP, {"entityGroupIsMessageOriginator": "maybe"}),
    (TO_RELATED, {"relationsQuery": {"direction": "UP"}}),
])
def test_bad_configurations_are_refused(kind, configuration):
    with pytest.raises(ConfigError):
        nodes.get_node(kind).clean_config(configuration)


def test_by_name_from_a_pattern_never_another_tenants_group(tenant, other_tenant):
    a = make_device(tenant, "a")
    make_group(tenant, "floor-1", members=[a])
    make_group(other_tenant, "floor-2", members=[make_device(other_tenant, "x")])
    by_name = "org.thingsboard.rule.engine.transform.TbDuplicateMsgToGroupByNameNode"
    [found, missing] = run_node(tenant, by_name, [msg(tenant, a, metadata={"floor": "1"}),
                                                  msg(tenant, a, metadata={"floor": "2"})],
                                groupType="DEVICE", groupName="floor-${floor}")
    assert [o.msg.originator_id for o in found] == [a.pk]
    assert missing[0].error == "Entity group with name 'floor-2' and type 'DEVICE' doesn't exist!"


def test_by_name_finds_the_tenants_group_never_a_customers_of_the_same_name(tenant, customer):
    a, b = make_device(tenant, "a"), make_device(tenant, "b", customer=customer)
    customers = make_group(tenant, "floor-1", members=[b])
    customers.customer = customer
    customers.save()
    make_group(tenant, "floor-1", members=[a])
    customers.pk = None
    customers._state.adding = True
    customers.name = "floor-2"
    customers.save()
    customers.devices.add(b)
    by_name = "org.thingsboard.rule.engine.transform.TbDuplicateMsgToGroupByNameNode"
    for _ in range(3):  # whichever row the database answers first
        [found, missing] = run_node(tenant, by_name, [msg(tenant, a, metadata={"floor": "1"}),
                                                      msg(tenant, a, metadata={"floor": "2"})],
                                    groupType="DEVICE", groupName="floor-${floor}")
        assert [o.msg.originator_id for o in found] == [a.pk]
        assert missing[0].error == "Entity group with name 'floor-2' and type 'DEVICE' doesn't exist!"


def _group_chain(tenant, size: int, *before):
    members = [make_device(tenant, f"m{i}") for i in range(size)]
    group = make_group(tenant, "big", members=members)
    nodes_ = [*(node(nodes.LOG, f"before{i}") for i in range(before[0] if before else 0)),
              node(TO_GROUP, "dup", entityGroupId=str(group.pk)), node(nodes.LOG, "copies", True)]
    links = [(i, i + 1, "Success") for i in range(len(nodes_) - 1)]
    return install_root(tenant, nodes_, links), members


def test_each_copy_has_its_own_hop_budget_from_its_parents_hop_count(tenant, other_tenant, settings):
    chain, members = _group_chain(tenant, 150)
    report = engine.process([msg(tenant, make_device(tenant, "sender"))])
    copies = events_of(chain.nodes.get(index=1), "IN")
    assert len(copies) == 150 and not any(e.get("error") for e in copies) and report.hop_limited == 0
    # two nodes before the duplicate node: a copy's first node is its 4th hop
    chain, _ = _group_chain(other_tenant, 3, 2)
    settings.RULE_ENGINE_MAX_HOPS = 3
    report = engine.process([msg(chain.tenant, make_device(chain.tenant, "s"))])
    assert report.hop_limited == 3
    settings.RULE_ENGINE_MAX_HOPS = 4
    assert engine.process([msg(chain.tenant, make_device(chain.tenant, "s2"))]).hop_limited == 0


def test_copies_are_capped_per_message_and_members_read_by_pages(tenant, settings, monkeypatch):
    from rulechains.nodes import analytics

    monkeypatch.setattr(analytics, "MEMBER_PAGE", 7)
    members = [make_device(tenant, f"m{i}") for i in range(30)]
    group = make_group(tenant, "g", members=members)
    assert len(analytics.group_members(tenant.pk, [group.pk])[group.pk]) == 30
    assert len(analytics.group_members(tenant.pk, [group.pk], 10)[group.pk]) == 11
    settings.RULE_ENGINE_MAX_DUPLICATES = 29
    [[out]] = run_node(tenant, TO_GROUP, [msg(tenant, members[0])], entityGroupId=str(group.pk))
    assert out.relation == "Failure" and "more than 29 (RULE_ENGINE_MAX_DUPLICATES)" in out.error
    settings.RULE_ENGINE_MAX_DUPLICATES = 30
    [outs] = run_node(tenant, TO_GROUP, [msg(tenant, members[0])], entityGroupId=str(group.pk))
    assert len(outs) == 30 and all(o.fork for o in outs)


def test_a_chain_duplicating_in_a_loop_stops_at_the_copies_limit(tenant, settings):
    settings.RULE_ENGINE_MAX_DUPLICATES = 50
    group = make_group(tenant, "pair", members=[make_device(tenant, "a"), make_device(tenant, "b")])
    chain = install_root(tenant, [node(TO_GROUP, "dup", True, entityGroupId=str(group.pk))], [(0, 0, "Success")])
    report = engine.process([msg(tenant, make_device(tenant, "sender"))])
    assert report.node_runs == 1 + 50 and report.hop_limited > 0
    assert chain.nodes.get(index=0)
