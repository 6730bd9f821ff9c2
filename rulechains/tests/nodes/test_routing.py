"""Filter, switch and flow nodes of rulechains/nodes/routing.py and flow.py: type and originator
filters and switches, fields presence, relation presence, alarm status, acknowledge, checkpoint."""

import json

import pytest

from devices.models import AssetProfile, DeviceProfile, EntityRelation
from devices.telemetry import latest
from rulechains import alarms, engine, nodes
from rulechains.nodes.base import ConfigError, NodeContext, normal_name
from rulechains.tests.helpers import events_of, install_root, make_node, msg, node, run_node
from tbproject.testing.factories import make_asset, make_customer, make_device

_TB = "org.thingsboard.rule.engine."
MSG_TYPE_FILTER = _TB + "filter.TbMsgTypeFilterNode"
ORIGINATOR_TYPE_FILTER = _TB + "filter.TbOriginatorTypeFilterNode"
ORIGINATOR_TYPE_SWITCH = _TB + "filter.TbOriginatorTypeSwitchNode"
CHECK_MESSAGE = _TB + "filter.TbCheckMessageNode"
CHECK_RELATION = _TB + "filter.TbCheckRelationNode"
CHECK_ALARM_STATUS = _TB + "filter.TbCheckAlarmStatusNode"
DEVICE_TYPE_SWITCH = _TB + "filter.TbDeviceTypeSwitchNode"
ASSET_TYPE_SWITCH = _TB + "filter.TbAssetTypeSwitchNode"
ACK = _TB + "flow.TbAckNode"
CHECKPOINT = _TB + "flow.TbCheckpointNode"


def relations(outs):
    return [[o.relation for o in out] for out in outs]


@pytest.fixture
def device(tenant):
    return make_device(tenant, "thermo-1")


def relate(tenant, source, target, kind="Contains"):
    """``source`` -[kind]-> ``target`` (Device, Asset or Customer rows)."""
    return EntityRelation.objects.create(tenant=tenant, from_type=type(source).__name__.upper(), from_id=source.pk,
                                         to_type=type(target).__name__.upper(), to_id=target.pk, type=kind)


# --- message type filter and entity type filter / switch --------------------------------------

def test_the_message_type_filter_routes_its_types_true_and_others_false(tenant):
    defaults = nodes.get_node(MSG_TYPE_FILTER).defaults
    batch = [msg(tenant, msg_type=t) for t in ("POST_TELEMETRY_REQUEST", "ATTRIBUTES_UPDATED", "TO_SERVER_RPC_REQUEST")]
    assert relations(run_node(tenant, MSG_TYPE_FILTER, batch, **defaults)) == [["True"], ["False"], ["True"]]
    [[custom]] = run_node(tenant, MSG_TYPE_FILTER, [msg(tenant, msg_type="MY_TYPE")], messageTypes=["MY_TYPE"])
    assert custom.relation == "True" and custom.error is None


@pytest.mark.parametrize("configuration", [{}, {"messageTypes": "POST_TELEMETRY_REQUEST"}, {"messageTypes": [1]}])
def test_the_message_type_filter_needs_a_list_of_types(tenant, configuration):
    with pytest.raises(ConfigError, match="messageTypes"):
        make_node(tenant, MSG_TYPE_FILTER, **configuration)


def test_the_entity_type_filter_compares_the_originators_entity_type(tenant, device):
    batch = [msg(tenant, device), msg(tenant, make_asset(tenant), kind="ASSET"), msg(tenant, kind="CUSTOMER")]
    outs = run_node(tenant, ORIGINATOR_TYPE_FILTER, batch, originatorTypes=["DEVICE", "CUSTOMER"])
    assert relations(outs) == [["True"], ["False"], ["True"]]
    assert relations(run_node(tenant, ORIGINATOR_TYPE_FILTER, batch, originatorTypes=[])) == [["False"]] * 3
    with pytest.raises(ConfigError, match="originatorTypes"):
        make_node(tenant, ORIGINATOR_TYPE_FILTER, originatorTypes=["device"])


@pytest.mark.parametrize("kind, relation", [
    ("DEVICE", "Device"), ("ASSET", "Asset"), ("CUSTOMER", "Customer"), ("TENANT", "Tenant"), ("USER", "User"),
    ("ENTITY_VIEW", "Entity View"), ("RULE_CHAIN", "Rule chain"), ("ALARM", "Alarm"), ("EDGE", "Edge"),
    ("DEVICE_PROFILE", "Device profile"), ("API_USAGE_STATE", "Api usage state"),
])
def test_the_entity_type_switch_uses_thingsboards_relation_names(tenant, kind, relation):
    [[out]] = run_node(tenant, ORIGINATOR_TYPE_SWITCH, [msg(tenant, kind=kind)], version=0)
    assert out.relation == relation and out.error is None
    assert relation in nodes.get_node(ORIGINATOR_TYPE_SWITCH).relations


def test_normal_names_drop_the_tb_prefix_and_keep_their_historic_spellings():
    assert [normal_name(t) for t in ("TB_RESOURCE", "AI_MODEL", "OTA_PACKAGE")] == ["Resource", "AI model",
                                                                                   "Ota package"]


# --- device and asset profile switches ----------------------------------------------------------

def test_the_device_profile_switch_routes_by_profile_name_in_one_query(tenant, django_assert_max_num_queries):
    thermostat = DeviceProfile.objects.create(tenant=tenant, name="Thermostat")
    batch = [msg(tenant, make_device(tenant, "t", profile=thermostat)), msg(tenant, make_device(tenant, "d")),
             msg(tenant, make_asset(tenant), kind="ASSET")]
    instance = make_node(tenant, DEVICE_TYPE_SWITCH, version=0)
    with django_assert_max_num_queries(1):
        outs = instance.process_batch(NodeContext(tenant.pk, 0), batch)
    assert relations(outs) == [["Thermostat"], ["default"], ["Failure"]]
    assert outs[2][0].error == "Unsupported originator type: Asset! Only Device type is allowed."


def test_the_asset_profile_switch_fails_other_tenants_assets_and_devices(tenant, other_tenant, device):
    building = AssetProfile.objects.create(tenant=tenant, name="Building")
    theirs = make_asset(other_tenant, "theirs")
    batch = [msg(tenant, make_asset(tenant, "hq", profile=building), kind="ASSET"), msg(tenant, theirs, kind="ASSET"),
             msg(tenant, device)]
    outs = run_node(tenant, ASSET_TYPE_SWITCH, batch)
    assert relations(outs) == [["Building"], ["Failure"], ["Failure"]]
    assert outs[1][0].error == f"Asset profile for entity id: {theirs.pk} wasn't found!"
    assert "Only Asset type is allowed" in outs[2][0].error


# --- check fields presence ------------------------------------------------------------------------

def test_check_fields_presence_with_all_or_any_keys(tenant):
    batch = [msg(tenant, data={"t": 1}, metadata={"deviceName": "a", "ts": "1"}),
             msg(tenant, data={"t": 1}, metadata={"deviceName": "a"}), msg(tenant, data={"h": 2})]
    every = run_node(tenant, CHECK_MESSAGE, batch, messageNames=["t"], metadataNames=["deviceName", "ts"],
                     checkAllKeys=True)
    assert relations(every) == [["True"], ["False"], ["False"]]
    anyone = run_node(tenant, CHECK_MESSAGE, batch, messageNames=["t", "x"], metadataNames=["ts"], checkAllKeys=False)
    assert relations(anyone) == [["True"], ["True"], ["False"]]


def test_check_fields_presence_defaults_and_data_that_is_not_an_object(tenant):
    defaults = nodes.get_node(CHECK_MESSAGE).defaults
    assert relations(run_node(tenant, CHECK_MESSAGE, [msg(tenant, data={})], **defaults)) == [["True"]]
    nothing = run_node(tenant, CHECK_MESSAGE, [msg(tenant)], **{**defaults, "checkAllKeys": False})
    assert relations(nothing) == [["False"]]
    outs = run_node(tenant, CHECK_MESSAGE, [msg(tenant, data=[1, 2]), msg(tenant, data={"t": 1})], messageNames=["t"],
                    metadataNames=[], checkAllKeys=True)
    assert relations(outs) == [["Failure"], ["True"]] and "not a JSON object" in outs[0][0].error


@pytest.mark.parametrize("configuration, key", [({"messageNames": "t"}, "messageNames"),
                                                ({"metadataNames": [None]}, "metadataNames"),
                                                ({"checkAllKeys": "maybe"}, "checkAllKeys")])
def test_check_fields_presence_refuses_bad_configurations(tenant, configuration, key):
    with pytest.raises(ConfigError, match=key):
        make_node(tenant, CHECK_MESSAGE, **configuration)


# --- check relation presence ----------------------------------------------------------------------

def test_check_relation_to_a_single_entity_in_both_directions(tenant, device):
    site = make_asset(tenant, "site")
    other = make_device(tenant, "other")
    relate(tenant, site, device)  # site Contains device
    to_device = {"checkForSingleEntity": True, "entityType": "ASSET", "entityId": str(site.pk),
                 "relationType": "Contains"}
    batch = [msg(tenant, device), msg(tenant, other)]
    assert relations(run_node(tenant, CHECK_RELATION, batch, direction="TO", **to_device)) == [["True"], ["False"]]
    assert relations(run_node(tenant, CHECK_RELATION, batch, direction="FROM", **to_device)) == [["False"], ["False"]]
    [[out]] = run_node(tenant, CHECK_RELATION, [msg(tenant, site, kind="ASSET")], direction="FROM",
                       **{**to_device, "entityType": "DEVICE", "entityId": str(device.pk)})
    assert out.relation == "True"
    [[typed]] = run_node(tenant, CHECK_RELATION, [msg(tenant, device)], direction="TO",
                         **{**to_device, "relationType": "Manages"})
    assert typed.relation == "False"


def test_check_relation_to_any_entity_in_one_query(tenant, device, django_assert_max_num_queries):
    customer = make_customer(tenant)
    relate(tenant, customer, device, "Manages")
    lonely = make_device(tenant, "lonely")
    instance = make_node(tenant, CHECK_RELATION, checkForSingleEntity=False, direction="TO", relationType="Manages")
    with django_assert_max_num_queries(1):
        outs = instance.process_batch(NodeContext(tenant.pk, 0), [msg(tenant, device), msg(tenant, lonely)])
    assert relations(outs) == [["True"], ["False"]]
    [[out]] = run_node(tenant, CHECK_RELATION, [msg(tenant, customer, kind="CUSTOMER")], checkForSingleEntity=False,
                       direction="FROM", relationType="Manages")
    assert out.relation == "True"


def test_check_relation_ignores_other_tenants_relations_and_fails_their_entities(tenant, other_tenant, device):
    theirs = make_asset(other_tenant, "theirs")
    EntityRelation.objects.create(tenant=other_tenant, from_type="ASSET", from_id=theirs.pk, to_type="DEVICE",
                                  to_id=device.pk, type="Contains")
    [[anyone]] = run_node(tenant, CHECK_RELATION, [msg(tenant, device)], checkForSingleEntity=False, direction="TO",
                          relationType="Contains")
    assert anyone.relation == "False"
    [[single]] = run_node(tenant, CHECK_RELATION, [msg(tenant, device)], checkForSingleEntity=True, direction="TO",
                          entityType="ASSET", entityId=str(theirs.pk), relationType="Contains")
    assert single.relation == "Failure" and "doesn't belong to the current tenant" in single.error


@pytest.mark.parametrize("configuration, message", [
    (nodes.get_node(CHECK_RELATION).defaults, "Entity should be specified"),
    ({"checkForSingleEntity": False, "direction": "UP", "relationType": "Contains"}, "direction"),
    ({"checkForSingleEntity": False, "direction": "FROM"}, "relationType"),
    ({"direction": "FROM", "relationType": "Contains", "entityType": "ASSET", "entityId": "nope"}, "entityId"),
    ({"direction": "FROM", "relationType": "Contains", "entityType": "asset", "entityId": "x"}, "entityType"),
])
def test_check_relation_refuses_what_thingsboard_refuses(tenant, configuration, message):
    with pytest.raises(ConfigError, match=message):
        make_node(tenant, CHECK_RELATION, **{"checkForSingleEntity": True, **configuration})


# --- alarm status filter ------------------------------------------------------------------------

def _alarm_msg(tenant, device, alarm, **overrides):
    return msg(tenant, device, msg_type="ALARM", data={**alarms.alarm_json(alarm), **overrides})


def test_the_alarm_status_filter_reads_the_status_of_the_alarm_in_the_message(tenant, device):
    active, _ = alarms.raise_alarm(tenant.pk, "DEVICE", device.pk, "Hot", "MAJOR", {}, 1000)
    cleared, _ = alarms.raise_alarm(tenant.pk, "DEVICE", device.pk, "Cold", "MINOR", {}, 1000)
    alarms.clear(cleared, None, 2000)
    old_json = {"id": {"entityType": "ALARM", "id": str(active.pk)}, "status": "CLEARED_ACK"}
    batch = [_alarm_msg(tenant, device, active), _alarm_msg(tenant, device, cleared),
             msg(tenant, device, data=old_json)]
    defaults = nodes.get_node(CHECK_ALARM_STATUS).defaults
    assert relations(run_node(tenant, CHECK_ALARM_STATUS, batch, **defaults)) == [["True"], ["False"], ["False"]]
    cleared_only = run_node(tenant, CHECK_ALARM_STATUS, batch, alarmStatusList=["CLEARED_UNACK", "CLEARED_ACK"])
    assert relations(cleared_only) == [["False"], ["True"], ["True"]]


def test_the_alarm_status_filter_fails_unknown_alarms_and_data_that_is_no_alarm(tenant, other_tenant, device):
    theirs, _ = alarms.raise_alarm(other_tenant.pk, "DEVICE", make_device(other_tenant).pk, "Hot", "MAJOR", {}, 1)
    ours, _ = alarms.raise_alarm(tenant.pk, "DEVICE", device.pk, "Hot", "MAJOR", {}, 1)
    batch = [_alarm_msg(tenant, device, theirs), msg(tenant, device, data={"id": 8.1}), msg(tenant, device, data="x"),
             _alarm_msg(tenant, device, ours)]
    outs = run_node(tenant, CHECK_ALARM_STATUS, batch, alarmStatusList=["ACTIVE_UNACK"])
    assert relations(outs) == [["Failure"], ["Failure"], ["Failure"], ["True"]]
    assert outs[0][0].error == "No such alarm found."
    assert outs[1][0].error.startswith("The given string value cannot be transformed to Json object")


@pytest.mark.parametrize("configuration", [{}, {"alarmStatusList": ["ACTIVE"]}, {"alarmStatusList": "ACTIVE_ACK"}])
def test_the_alarm_status_filter_needs_known_statuses(tenant, configuration):
    with pytest.raises(ConfigError, match="alarmStatusList"):
        make_node(tenant, CHECK_ALARM_STATUS, **configuration)


# --- acknowledge and checkpoint ---------------------------------------------------------------

@pytest.mark.parametrize("kind, configuration", [
    (ACK, {"version": 0}), (CHECKPOINT, {"version": 0}), (CHECKPOINT, {"queueName": "HighPriority"}),
    (CHECKPOINT, {"queueName": 5}), (CHECKPOINT, {}),
])
def test_acknowledge_and_checkpoint_pass_the_message_on_by_success(tenant, kind, configuration):
    original = msg(tenant, data={"t": 3})
    [[out]] = run_node(tenant, kind, [original], **configuration)
    assert out.relation == "Success" and out.msg is original
    assert make_node(tenant, CHECKPOINT, queueName="HighPriority").config["queueName"] == "HighPriority"


# --- through the engine, with chains as ThingsBoard exports them ------------------------------

def _checkpoint_node(name):
    """A checkpoint as ThingsBoard 3.6+ exports it: the queue on the node, version 1."""
    return {**node(CHECKPOINT, name, version=0), "queueName": "HighPriority", "configurationVersion": 1,
            "singletonMode": False, "debugSettings": {"failuresEnabled": False, "allEnabled": False}}


def test_an_imported_chain_routes_by_entity_type_and_device_profile_to_the_right_save(tenant):
    thermostat = DeviceProfile.objects.create(tenant=tenant, name="Thermostat")
    warm = make_device(tenant, "warm", profile=thermostat)
    plain = make_device(tenant, "plain")
    chain = install_root(tenant, [
        node(ORIGINATOR_TYPE_SWITCH, "Entity type switch", version=0),
        node(DEVICE_TYPE_SWITCH, "Device profile switch", version=0),
        node(nodes.SAVE_TIMESERIES, "Save thermostats", defaultTTL=0),
        node(nodes.LOG, "Log the others", True),
        node(MSG_TYPE_FILTER, "Telemetry?", messageTypes=["POST_TELEMETRY_REQUEST"]),
        _checkpoint_node("To high priority"),
        node(ACK, "Ack", version=0),
    ], [(0, 4, "Device"), (4, 5, "True"), (5, 6, "Success"), (6, 1, "Success"), (1, 2, "Thermostat"),
        (1, 3, "default")])
    report = engine.process([msg(tenant, warm, data={"temperature": 21}, metadata={"ts": "1000"}),
                             msg(tenant, plain, data={"temperature": 5}),
                             msg(tenant, warm, msg_type="POST_ATTRIBUTES_REQUEST", data={"fw": "2"})])
    assert report.failures == 0
    assert latest(warm.pk)["temperature"] == (1000, 21) and latest(plain.pk) == {}
    [other] = events_of(chain.nodes.get(index=3), "IN")
    assert json.loads(other["data"]) == {"temperature": 5} and other["entityId"] == str(plain.pk)


def test_an_imported_chain_checks_fields_relations_and_the_alarm_status(tenant, device):
    site = make_asset(tenant, "site")
    relate(tenant, site, device)
    chain = install_root(tenant, [
        node(CHECK_MESSAGE, "Has temperature?", messageNames=["temperature"], metadataNames=[], checkAllKeys=True),
        node(CHECK_RELATION, "In the site?", checkForSingleEntity=True, direction="TO", entityType="ASSET",
             entityId=str(site.pk), relationType="Contains"),
        node(nodes.CREATE_ALARM, "Raise", scriptLang="TBEL", alarmDetailsBuildTbel="return {};",
             alarmDetailsBuildJs="", alarmType="Site alarm", severity="MAJOR", propagate=False,
             propagateToOwner=False, propagateToTenant=False, useMessageAlarmData=False, overwriteAlarmDetails=False,
             dynamicSeverity=False, relationTypes=[]),
        node(CHECK_ALARM_STATUS, "Still active?", alarmStatusList=["ACTIVE_UNACK", "ACTIVE_ACK"]),
        node(nodes.LOG, "Active", True),
        node(nodes.LOG, "Not in the site", True),
    ], [(0, 1, "True"), (1, 2, "True"), (1, 5, "False"), (2, 3, "Created"), (3, 4, "True")])
    outsider = make_device(tenant, "outsider")
    report = engine.process([msg(tenant, device, data={"temperature": 80}), msg(tenant, device, data={"h": 1}),
                             msg(tenant, outsider, data={"temperature": 90})])
    assert report.failures == 0
    [active] = events_of(chain.nodes.get(index=4), "IN")
    assert json.loads(active["data"])["type"] == "Site alarm" and active["msgType"] == "ALARM"
    [outside] = events_of(chain.nodes.get(index=5), "IN")
    assert json.loads(outside["data"]) == {"temperature": 90}
