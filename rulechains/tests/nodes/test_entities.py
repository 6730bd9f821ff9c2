"""Entity action nodes: create/delete relation, assign/unassign customer, add to/remove from group
(ThingsBoard PE), delete attributes; each through its unit and through the engine with chains in
ThingsBoard's export JSON."""

import json

import pytest

from devices.attributes import get_attributes, save_attributes
from devices.models import Asset, Device, EntityGroup, EntityRelation
from rulechains import engine, nodes
from rulechains.nodes.base import ConfigError
from rulechains.tests.helpers import events_of, install_root, make_node, msg, node, run_node
from tbproject.testing.factories import make_asset, make_customer, make_device, make_group
from tenants.models import Customer

_TB = "org.thingsboard.rule.engine."
CREATE = _TB + "action.TbCreateRelationNode"
DELETE = _TB + "action.TbDeleteRelationNode"
ASSIGN = _TB + "action.TbAssignToCustomerNode"
UNASSIGN = _TB + "action.TbUnassignFromCustomerNode"
ADD = _TB + "action.TbAddToGroupNode"
REMOVE = _TB + "action.TbRemoveFromGroupNode"
DELETE_ATTRIBUTES = _TB + "telemetry.TbMsgDeleteAttributesNode"

#: create relation as ThingsBoard 3.6+ exports it (configuration version 1)
CREATE_V1 = {"direction": "FROM", "relationType": "Contains", "entityType": "ASSET", "entityNamePattern": "${site}",
             "entityTypePattern": None, "createEntityIfNotExists": False, "removeCurrentRelations": False,
             "changeOriginatorToRelatedEntity": False}


def relation_rows(tenant):
    return sorted((r.from_type, r.from_id, r.type, r.to_type, r.to_id)
                  for r in EntityRelation.objects.filter(tenant=tenant))


def relations_of(tenant, entity):
    return [r for r in relation_rows(tenant) if entity.pk in (r[1], r[4])]


def relation_count(tenant) -> int:
    return EntityRelation.objects.filter(tenant=tenant).count()


def outcome(outs):
    """(relation, error) of each message's single output."""
    return [(out.relation, out.error) for [out] in outs]


# create relation

def test_it_relates_the_originator_to_the_named_target_once(tenant):
    device, asset = make_device(tenant, "d"), make_asset(tenant, "Building A")
    batch = [msg(tenant, device, metadata={"site": "Building A"}), msg(tenant, device, metadata={"site": "Building A"})]
    assert outcome(run_node(tenant, CREATE, batch, **CREATE_V1)) == [("Success", None)] * 2
    assert relation_rows(tenant) == [("DEVICE", device.pk, "Contains", "ASSET", asset.pk)]
    outcome(run_node(tenant, CREATE, [msg(tenant, device, metadata={"site": "Building A"})],
                     **{**CREATE_V1, "direction": "TO", "relationType": "${kind}s"}))
    assert ("ASSET", asset.pk, "${kind}s", "DEVICE", device.pk) in relation_rows(tenant)


def test_a_missing_target_fails_with_thingsboards_text_and_another_tenants_is_missing(tenant, other_tenant):
    device = make_device(tenant, "d")
    make_asset(other_tenant, "Theirs")
    outs = run_node(tenant, CREATE, [msg(tenant, device, metadata={"site": "Theirs"}),
                                     msg(tenant, device, metadata={"site": "Nowhere"})], **CREATE_V1)
    assert outcome(outs) == [("Failure", "Asset with name 'Theirs' doesn't exist!"),
                             ("Failure", "Asset with name 'Nowhere' doesn't exist!")]
    assert relation_count(tenant) == relation_count(other_tenant) == 0


def test_missing_devices_assets_and_customers_are_created_when_asked(tenant, other_tenant):
    device = make_device(tenant, "d")
    make_device(other_tenant, "gw-1")  # another tenant's namesake is not ours
    config = {**CREATE_V1, "entityType": "DEVICE", "entityNamePattern": "$[gateway]",
              "entityTypePattern": "${gwType}", "createEntityIfNotExists": True}
    batch = [msg(tenant, device, data={"gateway": "gw-1"}, metadata={"gwType": "gateway"}),
             msg(tenant, device, data={"gateway": "gw-1"}, metadata={"gwType": "gateway"})]
    assert outcome(run_node(tenant, CREATE, batch, **config)) == [("Success", None)] * 2
    gateway = Device.objects.get(tenant=tenant, name="gw-1")
    assert gateway.profile.name == "gateway" and relation_rows(tenant) == [
        ("DEVICE", device.pk, "Contains", "DEVICE", gateway.pk)]

    assets = {**config, "entityType": "ASSET", "entityNamePattern": "site", "entityTypePattern": None}
    customers = {**config, "entityType": "CUSTOMER", "entityNamePattern": "ACME", "relationType": "Owns"}
    assert outcome(run_node(tenant, CREATE, [msg(tenant, device)], **assets)) == [("Success", None)]
    assert outcome(run_node(tenant, CREATE, [msg(tenant, device)], **customers)) == [("Success", None)]
    assert Asset.objects.get(tenant=tenant, name="site").profile.is_default
    assert Customer.objects.filter(tenant=tenant, title="ACME").count() == 1
    blank = outcome(run_node(tenant, CREATE, [msg(tenant, device)], **{**assets, "entityNamePattern": " "}))
    assert blank == [("Failure", "Failed to create asset with name ' ' due to: Asset name should be specified!")]


def test_the_tenant_and_users_are_targets_too(tenant, tenant_admin):
    device = make_device(tenant, "d")
    run_node(tenant, CREATE, [msg(tenant, device)], **{**CREATE_V1, "entityType": "TENANT", "direction": "TO"})
    run_node(tenant, CREATE, [msg(tenant, device)], **{**CREATE_V1, "entityType": "USER",
                                                      "entityNamePattern": tenant_admin.email, "relationType": "Uses"})
    assert relation_rows(tenant) == sorted([("TENANT", tenant.pk, "Contains", "DEVICE", device.pk),
                                            ("DEVICE", device.pk, "Uses", "USER", tenant_admin.pk)])
    views = run_node(tenant, CREATE, [msg(tenant, device)], **{**CREATE_V1, "entityType": "ENTITY_VIEW",
                                                              "entityNamePattern": "v"})
    assert outcome(views) == [("Failure", "Entity View with name 'v' doesn't exist!")]


def test_remove_current_relations_and_change_originator(tenant):
    device, old, new = make_device(tenant, "tracker"), make_asset(tenant, "Zone 1"), make_asset(tenant, "Zone 2")
    run_node(tenant, CREATE, [msg(tenant, device, metadata={"site": "Zone 1"})], **CREATE_V1)
    make_asset(tenant, "Depot")
    run_node(tenant, CREATE, [msg(tenant, device, metadata={"site": "Depot"})], **{**CREATE_V1, "relationType": "Near"})
    config = {**CREATE_V1, "removeCurrentRelations": True, "changeOriginatorToRelatedEntity": True}
    [[out]] = run_node(tenant, CREATE, [msg(tenant, device, data={"t": 1}, metadata={"site": "Zone 2"})], **config)
    assert (out.relation, out.msg.originator_type, out.msg.originator_id, out.msg.data) == (
        "Success", "ASSET", new.pk, {"t": 1})
    contains = [r for r in relation_rows(tenant) if r[2] == "Contains"]
    assert contains == [("DEVICE", device.pk, "Contains", "ASSET", new.pk)] and old.pk not in {r[4] for r in contains}
    assert relation_count(tenant) == 2  # "Near" is another relation type: kept


def test_an_export_older_than_3_6_keeps_its_meaning(tenant):
    """Before configuration version 1, FROM meant target -> originator; ThingsBoard flips it on upgrade."""
    device, asset = make_device(tenant, "d"), make_asset(tenant, "Building A")
    old = {**CREATE_V1, "entityCacheExpiration": 300}
    run_node(tenant, CREATE, [msg(tenant, device, metadata={"site": "Building A"})], **old)
    assert relation_rows(tenant) == [("ASSET", asset.pk, "Contains", "DEVICE", device.pk)]


@pytest.mark.parametrize("bad", [{"direction": "UP"}, {"entityType": "ALARM"}, {"relationType": 5},
                                 {"relationType": " "}, {"createEntityIfNotExists": "maybe"},
                                 {"entityNamePattern": ["x"]}, {"entityCacheExpiration": "soon"}])
def test_bad_relation_configurations_are_refused_by_name(bad):
    with pytest.raises(ConfigError, match=next(iter(bad)) if "entityType" not in bad else "ALARM"):
        nodes.get_node(CREATE).clean_config({**CREATE_V1, **bad})


def test_a_node_dragged_in_without_a_target_type_fails_its_messages(tenant):
    outs = run_node(tenant, CREATE, [msg(tenant, make_device(tenant, "d"))], **{**CREATE_V1, "entityType": None})
    assert outcome(outs)[0][1].startswith("Unsupported entity type 'null'! Only TENANT ,CUSTOMER ,USER")


# delete relation

def test_delete_relation_with_one_entity_or_all_of_a_type(tenant, other_tenant):
    device, a1, a2 = make_device(tenant, "d"), make_asset(tenant, "A1"), make_asset(tenant, "A2")
    for site in ("A1", "A2"):
        run_node(tenant, CREATE, [msg(tenant, device, metadata={"site": site})], **CREATE_V1)
    run_node(tenant, CREATE, [msg(tenant, device, metadata={"site": "A1"})], **{**CREATE_V1, "direction": "TO"})
    single = {"deleteForSingleEntity": True, "direction": "FROM", "relationType": "Contains", "entityType": "ASSET",
              "entityNamePattern": "${site}"}
    outs = run_node(tenant, DELETE, [msg(tenant, device, metadata={"site": "A1"}),
                                     msg(tenant, device, metadata={"site": "A1"}),
                                     msg(tenant, device, metadata={"site": "gone"})], **single)
    assert outcome(outs) == [("Success", None), ("Success", None), ("Failure", "Asset with name 'gone' doesn't exist!")]
    assert relation_rows(tenant) == sorted([("DEVICE", device.pk, "Contains", "ASSET", a2.pk),
                                            ("ASSET", a1.pk, "Contains", "DEVICE", device.pk)])
    theirs = make_device(other_tenant, "x")
    EntityRelation.objects.create(tenant=other_tenant, from_type="DEVICE", from_id=device.pk, to_type="DEVICE",
                                  to_id=theirs.pk, type="Contains")
    everything = {"deleteForSingleEntity": False, "direction": "FROM", "relationType": "Contains"}
    assert outcome(run_node(tenant, DELETE, [msg(tenant, device)], **everything)) == [("Success", None)]
    assert relation_rows(tenant) == [("ASSET", a1.pk, "Contains", "DEVICE", device.pk)]
    assert relation_count(other_tenant) == 1  # another tenant's rows are never touched


# customers

def test_assign_and_unassign_the_originator(tenant, other_tenant):
    device, asset = make_device(tenant, "d"), make_asset(tenant, "a")
    make_customer(tenant, "ACME")
    theirs = make_device(other_tenant, "x")
    config = {"customerNamePattern": "${owner}", "createCustomerIfNotExists": False}
    outs = run_node(tenant, ASSIGN, [msg(tenant, device, metadata={"owner": "ACME"}),
                                     msg(tenant, asset, kind="ASSET", metadata={"owner": "ACME"}),
                                     msg(tenant, device, metadata={"owner": "Nobody"}),
                                     msg(tenant, theirs, metadata={"owner": "ACME"}),
                                     msg(tenant, kind="TENANT", metadata={"owner": "ACME"})], **config)
    assert outcome(outs) == [
        ("Success", None), ("Success", None), ("Failure", "Customer with title 'Nobody' doesn't exist!"),
        ("Failure", f"Device with id [{theirs.pk}] is not found"),
        ("Failure", "Unsupported originator type 'TENANT'! Only DASHBOARD, ASSET, DEVICE, ENTITY_VIEW, EDGE types "
                    "are allowed.")]
    device.refresh_from_db(), asset.refresh_from_db(), theirs.refresh_from_db()
    assert device.customer.title == asset.customer.title == "ACME" and theirs.customer_id is None

    created = run_node(tenant, ASSIGN, [msg(tenant, device, metadata={"owner": "New Co"})],
                       **{**config, "createCustomerIfNotExists": True, "customerCacheExpiration": 300})
    device.refresh_from_db()
    assert outcome(created) == [("Success", None)] and device.customer.title == "New Co"

    batch = [msg(tenant, device), msg(tenant, device)]  # the second finds it unassigned already
    assert outcome(run_node(tenant, UNASSIGN, batch, customerNamePattern="")) == [("Success", None)] * 2
    device.refresh_from_db()
    assert device.customer_id is None and Customer.objects.filter(tenant=tenant).count() == 2


def test_bad_customer_configurations_are_refused():
    with pytest.raises(ConfigError, match="createCustomerIfNotExists"):
        nodes.get_node(ASSIGN).clean_config({"customerNamePattern": "x", "createCustomerIfNotExists": 1})
    with pytest.raises(ConfigError, match="customerNamePattern"):
        nodes.get_node(UNASSIGN).clean_config({"customerNamePattern": {"a": 1}})


# groups (ThingsBoard PE)

def test_add_to_and_remove_from_groups(tenant, other_tenant):
    device = make_device(tenant, "d")
    old = make_group(tenant, "Old", members=[device])
    warehouse = make_group(tenant, "Warehouse devices")
    make_group(other_tenant, "Theirs")
    config = {"groupNamePattern": "$[location] devices", "createGroupIfNotExists": False,
              "removeFromCurrentGroups": False, "groupCacheExpiration": 300}
    outs = run_node(tenant, ADD, [msg(tenant, device, data={"location": "Warehouse"}),
                                  msg(tenant, device, data={"location": "Theirs"}),
                                  msg(tenant, kind="CUSTOMER", data={"location": "Warehouse"})], **config)
    assert outcome(outs) == [("Success", None),
                             ("Failure", "Entity group with name 'Theirs devices' and type 'DEVICE' doesn't exist!"),
                             ("Failure", "Unsupported originator type 'CUSTOMER'! Only DEVICE, ASSET types are "
                                         "allowed.")]
    everything = EntityGroup.objects.get(tenant=tenant, customer=None, type="DEVICE", group_all=True)
    assert set(device.groups.all()) == {everything, old, warehouse}  # its owner's "All" (devices/all_groups.py)

    moved = run_node(tenant, ADD, [msg(tenant, device, data={"location": "Yard"})],
                     **{**config, "createGroupIfNotExists": True, "removeFromCurrentGroups": True})
    yard = EntityGroup.objects.get(tenant=tenant, name="Yard devices", type="DEVICE")
    # out of every group but its owner's "All", as ThingsBoard's "remove from current groups"
    assert outcome(moved) == [("Success", None)] and set(device.groups.all()) == {everything, yard}

    outs = run_node(tenant, REMOVE, [msg(tenant, device, data={"location": "Yard"}),
                                     msg(tenant, device, data={"location": "Yard"}),
                                     msg(tenant, device, data={"location": "Nowhere"})],
                    groupNamePattern="$[location] devices", groupCacheExpiration=300)
    assert outcome(outs)[:2] == [("Success", None)] * 2 and outcome(outs)[2][0] == "Failure"
    assert list(device.groups.all()) == [everything]


def test_bad_group_configurations_are_refused():
    with pytest.raises(ConfigError, match="groupNamePattern"):
        nodes.get_node(ADD).clean_config({"groupNamePattern": 3})
    with pytest.raises(ConfigError, match="groupCacheExpiration"):
        nodes.get_node(REMOVE).clean_config({"groupNamePattern": "g", "groupCacheExpiration": [1]})


# delete attributes

def test_it_deletes_the_keys_its_patterns_name(tenant, other_tenant):
    device, theirs = make_device(tenant, "d"), make_device(other_tenant, "x")
    save_attributes(device.pk, "SERVER_SCOPE", {"a": 1, "b": 2, "c": 3})
    save_attributes(device.pk, "SHARED_SCOPE", {"a": 1})
    save_attributes(theirs.pk, "SERVER_SCOPE", {"a": 1})
    config = {"scope": "SERVER_SCOPE", "keys": ["a", "${which}", "$[key]", "${unset}x"],
              "sendAttributesDeletedNotification": False, "notifyDevice": False}
    outs = run_node(tenant, DELETE_ATTRIBUTES, [msg(tenant, device, data={"key": "c"}, metadata={"which": "b"}),
                                                msg(tenant, theirs), msg(tenant, device, metadata={"scope": "BAD"})],
                    **config)
    assert outcome(outs) == [("Success", None), ("Failure", f"Device with id [{theirs.pk}] is not found"),
                             ("Failure", "No enum constant org.thingsboard.server.common.data.AttributeScope.BAD")]
    assert get_attributes(device.pk, "SERVER_SCOPE") == [] and len(get_attributes(theirs.pk)) == 1
    shared = run_node(tenant, DELETE_ATTRIBUTES, [msg(tenant, device, metadata={"scope": "SHARED_SCOPE"})], **config)
    assert outcome(shared) == [("Success", None)] and get_attributes(device.pk) == []
    nothing = run_node(tenant, DELETE_ATTRIBUTES, [msg(tenant, theirs, metadata={"blank": ""})],
                       **{**config, "keys": ["${blank}", " "]})
    assert outcome(nothing) == [("Success", None)]  # no key left: nothing to do, as ThingsBoard


@pytest.mark.parametrize("bad", [{"scope": "ANY"}, {"keys": "a,b"}, {"keys": [1]}, {"notifyDevice": "yes"}])
def test_bad_delete_attributes_configurations_are_refused(bad):
    with pytest.raises(ConfigError, match=next(iter(bad))):
        nodes.get_node(DELETE_ATTRIBUTES).clean_config(bad)


# through the engine, chains as ThingsBoard exports them

def test_a_thingsboard_chain_relates_assigns_and_groups_devices(tenant):
    make_customer(tenant, "ACME")
    device = make_device(tenant, "tracker-1")
    chain = install_root(tenant, [
        node(nodes.SWITCH, "Message Type Switch", version=0),
        {**node(CREATE, "Relate to site", True, direction="TO", relationType="Contains", entityType="ASSET",
                entityNamePattern="$[site]", entityTypePattern="site", entityCacheExpiration=300,
                createEntityIfNotExists=True, removeCurrentRelations=False, changeOriginatorToRelatedEntity=False),
         "configurationVersion": 0},
        node(ASSIGN, "Assign", customerNamePattern="${owner}", createCustomerIfNotExists=False,
             customerCacheExpiration=300),
        node(ADD, "Group", groupNamePattern="Trackers", createGroupIfNotExists=True, removeFromCurrentGroups=False,
             groupCacheExpiration=300),
        node(nodes.LOG, "done", True),
    ], [(0, 1, "Post telemetry"), (1, 2, "Success"), (2, 3, "Success"), (3, 4, "Success")])
    report = engine.process([msg(tenant, device, data={"site": "North"}, metadata={"owner": "ACME"})])
    assert report.failures == 0
    north = Asset.objects.get(tenant=tenant, name="North")
    # version 0, direction TO: originator -> target once upgraded, as ThingsBoard runs it
    assert relation_rows(tenant) == [("DEVICE", device.pk, "Contains", "ASSET", north.pk)]
    device.refresh_from_db()
    assert device.customer.title == "ACME" and [g.name for g in device.groups.filter(group_all=False)] == ["Trackers"]
    assert [json.loads(e["data"]) for e in events_of(chain.nodes.get(index=4), "IN")] == [{"site": "North"}]


def test_a_thingsboard_chain_deletes_attributes_and_announces_it(tenant, django_capture_on_commit_callbacks):
    device = make_device(tenant, "d")
    save_attributes(device.pk, "SERVER_SCOPE", {"alarmFlag": True, "keep": 1})
    chain = install_root(tenant, [
        node(nodes.SWITCH, "Message Type Switch", version=0),
        node(DELETE_ATTRIBUTES, "Delete flag", scope="SERVER_SCOPE", keys=["${flagKey}"],
             sendAttributesDeletedNotification=True, notifyDevice=False),
        node(nodes.LOG, "deleted", True),
    ], [(0, 1, "Post telemetry"), (0, 2, "Attributes Deleted")])
    with django_capture_on_commit_callbacks(execute=True):
        report = engine.process([msg(tenant, device, data={"t": 1}, metadata={"flagKey": "alarmFlag"})])
    assert report.failures == 0
    assert [a["key"] for a in get_attributes(device.pk)] == ["keep"]
    [event] = events_of(chain.nodes.get(index=2), "IN")
    assert (event["msgType"], json.loads(event["data"]), json.loads(event["metadata"])["scope"]) == (
        "ATTRIBUTES_DELETED", {"attributes": ["alarmFlag"]}, "SERVER_SCOPE")


def test_a_thingsboard_chain_deletes_relations(tenant):
    device, asset = make_device(tenant, "d"), make_asset(tenant, "Zone")
    EntityRelation.objects.create(tenant=tenant, from_type="ASSET", from_id=asset.pk, to_type="DEVICE",
                                  to_id=device.pk, type="Contains")
    install_root(tenant, [
        node(DELETE, "Leave zone", deleteForSingleEntity=True, direction="TO", relationType="Contains",
             entityType="ASSET", entityNamePattern="${zone}"),
        node(UNASSIGN, "Unassign", customerNamePattern=""),
        node(REMOVE, "Ungroup", groupNamePattern="Zone", groupCacheExpiration=300),
    ], [(0, 1, "Success"), (1, 2, "Success")])
    zone_group = make_group(tenant, "Zone", members=[device])
    engine.process([msg(tenant, device, metadata={"zone": "Zone"})])
    assert relation_count(tenant) == 0 and list(zone_group.members.all()) == []


def test_these_nodes_do_not_run_in_a_test_run(tenant):
    assert all(make_node(tenant, kind, **config).side_effects for kind, config in [
        (CREATE, CREATE_V1), (DELETE, {}), (ASSIGN, {}), (UNASSIGN, {}), (ADD, {}), (REMOVE, {}),
        (DELETE_ATTRIBUTES, {})])


# --- another tenant's originator (a generator or a test run can name one) --------------------------

def test_relation_nodes_never_act_on_an_originator_that_is_not_the_tenants(tenant, other_tenant):
    """The engine drops a message naming another tenant's (or no) entity where it enters: no
    relation is made to or from it, none of its relations deleted."""
    theirs, mine = make_device(other_tenant, "victim"), make_device(tenant, "mine")
    make_asset(tenant, "building")
    relate = {"direction": "TO", "relationType": "Contains", "entityType": "ASSET", "entityNamePattern": "building"}
    chain = install_root(tenant, [node(CREATE, "create", True, **relate)], [])
    report = engine.process([msg(tenant, theirs), msg(tenant, mine), msg(tenant, None, kind="ASSET")])
    assert report.refused == 2
    assert [e["relationType"] for e in events_of(chain.nodes.get(index=0), "OUT")] == ["Success"]
    assert not EntityRelation.objects.filter(to_id=theirs.pk).exists()
    assert EntityRelation.objects.filter(to_id=mine.pk).count() == 1
    EntityRelation.objects.create(tenant=other_tenant, from_type="ASSET", from_id=make_asset(other_tenant, "b").pk,
                                  to_type="DEVICE", to_id=theirs.pk, type="Contains")
    for single in (False, True):
        install_root(tenant, [node(DELETE, "delete", True, deleteForSingleEntity=single, **relate)], [])
        assert engine.process([msg(tenant, theirs)]).refused == 1
    assert EntityRelation.objects.filter(to_id=theirs.pk).count() == 1  # theirs is untouched


@pytest.mark.parametrize("value", ["\u00b2", "9" * 5000, "1e999"])
def test_a_cache_expiration_that_is_not_a_number_is_a_config_error(tenant, value):
    with pytest.raises(ConfigError, match="customerCacheExpiration must be an integer from -2147483648 to 2147483647"):
        make_node(tenant, ASSIGN, customerNamePattern="x", customerCacheExpiration=value)


def test_group_nodes_tell_devices_the_groups_ota_package(api, tenant):
    from devices.tests.ota_support import make_package, shared
    from tbproject.testing.factories import default_profile

    info = make_package(api, default_profile(tenant))
    group = make_group(tenant, "Fleet")
    stale = EntityGroup.objects.get(pk=group.pk)  # read before the assignment, as a node's group cache may be
    body = {"groupId": {"entityType": "ENTITY_GROUP", "id": str(group.pk)}, "otaPackageType": "FIRMWARE",
            "otaPackageId": {"entityType": "OTA_PACKAGE", "id": info["id"]["id"]}}
    assert api.post("/api/deviceGroupOtaPackage", body, format="json").status_code == 200
    device, other = make_device(tenant, "d"), make_device(tenant, "e")
    old = make_group(tenant, "Old", members=[device])
    outs = run_node(tenant, ADD, [msg(tenant, device)], groupNamePattern="Fleet", createGroupIfNotExists=False,
                    removeFromCurrentGroups=True, groupCacheExpiration=300)
    assert outcome(outs) == [("Success", None)] and list(device.groups.filter(group_all=False)) == [group]
    assert shared(device)["fw_title"] == "fw" and not old.devices.exists()
    make_node(tenant, ADD, groupNamePattern="Fleet", removeFromCurrentGroups=False).apply(other, stale)
    assert shared(other)["fw_title"] == "fw"
    outs = run_node(tenant, REMOVE, [msg(tenant, device)], groupNamePattern="Fleet", groupCacheExpiration=300)
    assert outcome(outs) == [("Success", None)] and "fw_title" not in shared(device)
