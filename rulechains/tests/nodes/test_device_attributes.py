"""Related device attributes node (ThingsBoard's metadata.TbGetDeviceAttrNode): its unit, and a
chain in ThingsBoard's export JSON run through the engine."""

import json

import pytest

from devices.attributes import save_attributes
from devices.models import DeviceProfile, EntityRelation
from devices.telemetry import Point, write_points
from rulechains import engine, nodes
from rulechains.nodes.base import ConfigError, NodeContext
from rulechains.nodes.device_attributes import NOT_FOUND
from rulechains.tests.helpers import events_of, install_root, make_node, msg, node, run_node
from tbproject.testing.factories import make_asset, make_device

DEVICE_ATTRIBUTES = "org.thingsboard.rule.engine.metadata.TbGetDeviceAttrNode"


def relate(tenant, source, target, rel_type="Contains", source_type="ASSET", target_type="DEVICE"):
    return EntityRelation.objects.create(tenant=tenant, from_type=source_type, from_id=source.pk,
                                         to_type=target_type, to_id=target.pk, type=rel_type)


def query(direction="FROM", level=1, rel_type="Contains", types=("thermostat",), last_only=False):
    return {"direction": direction, "maxLevel": level, "relationType": rel_type, "deviceTypes": list(types),
            "fetchLastLevelOnly": last_only}


@pytest.fixture
def thermostat(tenant):
    return DeviceProfile.objects.create(tenant=tenant, name="thermostat")


@pytest.fixture
def room(tenant, thermostat):
    """An asset that contains a thermostat with attributes of every scope and a latest value."""
    asset = make_asset(tenant, "room-1")
    device = make_device(tenant, "thermo-1", profile=thermostat)
    relate(tenant, asset, device)
    save_attributes(device.pk, "CLIENT_SCOPE", {"fw": "1.2"})
    save_attributes(device.pk, "SHARED_SCOPE", {"period": 60})
    save_attributes(device.pk, "SERVER_SCOPE", {"site": "north"})
    write_points([Point(device.pk, "temperature", 1000, 21.5)])
    return asset, device


def test_it_adds_the_related_devices_values_with_thingsboards_prefixes(tenant, room):
    asset, _ = room
    [[out]] = run_node(tenant, DEVICE_ATTRIBUTES, [msg(tenant, asset, kind="ASSET", metadata={"k": "site"})],
                       deviceRelationsQuery=query(), clientAttributeNames=["fw"], sharedAttributeNames=["period"],
                       serverAttributeNames=["${k}"], latestTsKeyNames=["temperature"], fetchTo="METADATA")
    assert out.relation == "Success", out.error
    assert out.msg.metadata == {"k": "site", "cs_fw": "1.2", "shared_period": "60", "ss_site": "north",
                                "temperature": "21.5"}
    assert out.msg.originator_type == "ASSET" and out.msg.originator_id == asset.pk


def test_the_old_fetch_to_data_key_and_latest_values_with_their_ts(tenant, room):
    asset, _ = room
    [[out]] = run_node(tenant, DEVICE_ATTRIBUTES, [msg(tenant, asset, kind="ASSET", data={"t": 1})],
                       deviceRelationsQuery=query(), latestTsKeyNames=["temperature"], getLatestValueWithTs=True,
                       fetchToData=True)
    assert out.relation == "Success" and out.msg.data == {"t": 1, "temperature": {"ts": 1000, "value": 21.5}}


def test_only_devices_of_the_listed_types_count_and_the_first_one_wins(tenant, room, thermostat):
    asset, device = room
    other = make_device(tenant, "meter-1")  # the "default" profile
    relate(tenant, asset, other)
    save_attributes(other.pk, "SERVER_SCOPE", {"site": "south"})
    [[thermo]] = run_node(tenant, DEVICE_ATTRIBUTES, [msg(tenant, asset, kind="ASSET")],
                          deviceRelationsQuery=query(types=["thermostat"]), serverAttributeNames=["site"])
    [[meter]] = run_node(tenant, DEVICE_ATTRIBUTES, [msg(tenant, asset, kind="ASSET")],
                         deviceRelationsQuery=query(types=["default"]), serverAttributeNames=["site"])
    [[none]] = run_node(tenant, DEVICE_ATTRIBUTES, [msg(tenant, asset, kind="ASSET")],
                        deviceRelationsQuery=query(types=[]), serverAttributeNames=["site"])
    assert thermo.msg.metadata == {"ss_site": "north"} and meter.msg.metadata == {"ss_site": "south"}
    assert none.relation == "Failure" and none.error == NOT_FOUND


def test_relation_type_direction_and_levels_are_the_queries(tenant, room, thermostat):
    asset, device = room
    building = make_asset(tenant, "building")
    relate(tenant, building, asset, source_type="ASSET", target_type="ASSET")
    config = {"serverAttributeNames": ["site"]}
    [[up]] = run_node(tenant, DEVICE_ATTRIBUTES, [msg(tenant, device)], **config,
                      deviceRelationsQuery=query("TO", types=["thermostat"]))
    [[two]] = run_node(tenant, DEVICE_ATTRIBUTES, [msg(tenant, building, kind="ASSET")], **config,
                       deviceRelationsQuery=query(level=2))
    [[one]] = run_node(tenant, DEVICE_ATTRIBUTES, [msg(tenant, building, kind="ASSET")], **config,
                       deviceRelationsQuery=query(level=1))
    [[typed]] = run_node(tenant, DEVICE_ATTRIBUTES, [msg(tenant, asset, kind="ASSET")], **config,
                         deviceRelationsQuery=query(rel_type="Manages"))
    [[any_type]] = run_node(tenant, DEVICE_ATTRIBUTES, [msg(tenant, asset, kind="ASSET")], **config,
                            deviceRelationsQuery=query(rel_type=""))
    assert up.relation == "Failure" and up.error == NOT_FOUND  # TO finds the asset: not a device
    assert two.msg.metadata == {"ss_site": "north"} and one.error == NOT_FOUND
    assert typed.error == NOT_FOUND and any_type.msg.metadata == {"ss_site": "north"}


def test_missing_keys_fail_with_the_enriched_message_unless_told_not_to(tenant, room):
    asset, _ = room
    [[strict]] = run_node(tenant, DEVICE_ATTRIBUTES, [msg(tenant, asset, kind="ASSET")],
                          deviceRelationsQuery=query(), serverAttributeNames=["site", "nope"])
    [[lenient]] = run_node(tenant, DEVICE_ATTRIBUTES, [msg(tenant, asset, kind="ASSET")],
                           deviceRelationsQuery=query(), serverAttributeNames=["site", "nope"],
                           tellFailureIfAbsent=False)
    assert strict.relation == "Failure" and "ss_nope" in strict.error and strict.msg.metadata == {"ss_site": "north"}
    assert lenient.relation == "Success" and lenient.msg.metadata == {"ss_site": "north"}


def test_bad_messages_fail_alone_and_a_batch_reads_once(tenant, room, other_tenant, django_assert_max_num_queries):
    asset, _ = room
    theirs = make_device(other_tenant, "theirs", profile=DeviceProfile.objects.create(tenant=other_tenant,
                                                                                      name="thermostat"))
    save_attributes(theirs.pk, "SERVER_SCOPE", {"site": "foreign"})
    lonely = make_asset(tenant, "lonely")
    relate(tenant, lonely, theirs)  # a relation to another tenant's device: not found
    instance = make_node(tenant, DEVICE_ATTRIBUTES, deviceRelationsQuery=query(), serverAttributeNames=["site"],
                         fetchTo="DATA")
    batch = [msg(tenant, asset, kind="ASSET"), msg(tenant, asset, kind="ASSET", data=[1]),
             msg(tenant, lonely, kind="ASSET"), msg(tenant, asset, kind="ASSET", data={"n": 2})]
    with django_assert_max_num_queries(5):  # relations of two roots, devices, server attributes
        [[good], [array], [foreign], [second]] = instance.process_batch(NodeContext(tenant.pk, 0), batch)
    assert good.relation == "Success" and good.msg.data == {"t": 1, "ss_site": "north"}
    assert array.relation == "Failure" and array.error == "Message body is not an object!"
    assert foreign.relation == "Failure" and foreign.error == NOT_FOUND
    assert second.msg.data == {"n": 2, "ss_site": "north"}


@pytest.mark.parametrize("configuration, key", [
    ({}, "deviceRelationsQuery"),
    ({"deviceRelationsQuery": {"direction": "UP"}}, "deviceRelationsQuery.direction"),
    ({"deviceRelationsQuery": {"direction": "FROM", "maxLevel": "two"}}, "deviceRelationsQuery.maxLevel"),
    ({"deviceRelationsQuery": {"direction": "FROM", "deviceTypes": "thermostat"}}, "deviceRelationsQuery.deviceTypes"),
    ({"deviceRelationsQuery": {"direction": "FROM", "relationType": 3}}, "deviceRelationsQuery.relationType"),
    ({"deviceRelationsQuery": {"direction": "FROM"}, "fetchTo": "BODY"}, "fetchTo"),
    ({"deviceRelationsQuery": {"direction": "FROM"}, "fetchToData": "maybe"}, "fetchToData"),
    ({"deviceRelationsQuery": {"direction": "FROM"}, "serverAttributeNames": "site"}, "serverAttributeNames"),
])
def test_bad_configurations_are_refused_naming_the_key(tenant, configuration, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        make_node(tenant, DEVICE_ATTRIBUTES, **configuration)


def test_the_defaults_are_thingsboards_and_run(tenant):
    cls = nodes.get_node(DEVICE_ATTRIBUTES)
    assert cls.defaults["deviceRelationsQuery"] == {"direction": "FROM", "maxLevel": 1, "relationType": "Contains",
                                                    "deviceTypes": ["default"], "fetchLastLevelOnly": False}
    assert cls.clean_config(cls.defaults)["fetchTo"] == "METADATA"


def test_a_chain_exported_by_thingsboard_enriches_from_the_related_device(tenant, room):
    """The node as ThingsBoard 3.5 exports it (``fetchToData``, before ``fetchTo``), then a log node."""
    asset, device = room
    exported = {"clientAttributeNames": ["fw"], "sharedAttributeNames": [], "serverAttributeNames": ["site"],
                "latestTsKeyNames": ["temperature"], "tellFailureIfAbsent": True, "getLatestValueWithTs": False,
                "fetchToData": False, "deviceRelationsQuery": {"fetchLastLevelOnly": False, "direction": "FROM",
                                                               "maxLevel": 1, "relationType": "Contains",
                                                               "deviceTypes": ["thermostat"]}}
    chain = install_root(tenant, [node(DEVICE_ATTRIBUTES, "thermostat values", **exported),
                                  node(nodes.LOG, "after", True), node(nodes.LOG, "failed", True)],
                         [(0, 1, "Success"), (0, 2, "Failure")])
    lonely = make_asset(tenant, "lonely")
    engine.process([msg(tenant, asset, kind="ASSET", data={"n": 1}), msg(tenant, lonely, kind="ASSET")])
    [after] = events_of(chain.nodes.get(index=1), "IN")
    [failed] = events_of(chain.nodes.get(index=2), "IN")
    assert json.loads(after["data"]) == {"n": 1} and after["entityId"] == str(asset.pk)
    assert json.loads(after["metadata"]) == {"cs_fw": "1.2", "ss_site": "north", "temperature": "21.5"}
    assert failed["entityId"] == str(lonely.pk)
