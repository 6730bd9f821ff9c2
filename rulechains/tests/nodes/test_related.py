"""Enrichment from the customer, the tenant and related entities, customer/tenant details, device
credentials and change originator: each through its unit, and chains in ThingsBoard's export
JSON through the engine."""

import json

import pytest

from devices.attributes import save_attributes
from devices.models import EntityRelation
from devices.telemetry import Point, latest, write_points
from rulechains import engine, nodes
from rulechains.models import Alarm
from rulechains.nodes.base import ConfigError, NodeContext
from rulechains.tests.helpers import events_of, install_root, make_node, msg, node, run_node
from tbproject.testing.factories import make_asset, make_customer, make_device
from tenants.models import User

_TB = "org.thingsboard.rule.engine."
CUSTOMER_ATTRIBUTES = _TB + "metadata.TbGetCustomerAttributeNode"
TENANT_ATTRIBUTES = _TB + "metadata.TbGetTenantAttributeNode"
RELATED_DATA = _TB + "metadata.TbGetRelatedAttributeNode"
CUSTOMER_DETAILS = _TB + "metadata.TbGetCustomerDetailsNode"
TENANT_DETAILS = _TB + "metadata.TbGetTenantDetailsNode"
CREDENTIALS = _TB + "metadata.TbFetchDeviceCredentialsNode"
CHANGE_ORIGINATOR = _TB + "transform.TbChangeOriginatorNode"
NOT_RELATED = "Failed to find related entity to message originator using relation query specified in the configuration!"


def relate(tenant, source, target, rel_type="Contains", source_type="ASSET", target_type="DEVICE"):
    return EntityRelation.objects.create(tenant=tenant, from_type=source_type, from_id=source.pk,
                                         to_type=target_type, to_id=target.pk, type=rel_type)


def query(direction="FROM", level=1, last_only=False, **filters):
    return {"direction": direction, "maxLevel": level, "fetchLastLevelOnly": last_only,
            "filters": [{"relationType": filters.get("rel_type", "Contains"), "entityTypes": filters.get("types", [])}]}


@pytest.fixture
def acme(tenant):
    return make_customer(tenant, "ACME", country="NL", city="Delft", email="ops@acme.example", phone="+31 15",
                         additional_info={"description": "best customer"})


@pytest.fixture
def device(tenant, acme):
    return make_device(tenant, "thermo-1", customer=acme)


# --- customer / tenant / related attributes ------------------------------------------------------

def test_customer_attributes_read_the_customers_server_attributes_for_a_batch(tenant, other_tenant, acme, device,
                                                                            django_assert_max_num_queries):
    save_attributes(acme.pk, "SERVER_SCOPE", {"limit": 30, "site": "north"})
    save_attributes(acme.pk, "SHARED_SCOPE", {"limit": 99})  # ThingsBoard reads server attributes only
    unassigned = make_device(tenant, "loose")
    foreign = make_device(other_tenant, "theirs", customer=make_customer(other_tenant, "Theirs"))
    batch = [msg(tenant, device, metadata={"which": "site"}), msg(tenant, acme, kind="CUSTOMER"),
             msg(tenant, unassigned), msg(tenant, foreign), msg(tenant, kind="TENANT")]
    instance = make_node(tenant, CUSTOMER_ATTRIBUTES, dataMapping={"limit": "max", "${which}": "where"},
                         dataToFetch="ATTRIBUTES", fetchTo="METADATA")
    with django_assert_max_num_queries(4):  # devices, customers, attributes
        outs = instance.process_batch(NodeContext(tenant.pk, 0), batch)
    [[first], [second], [loose], [theirs], [tenant_msg]] = outs
    assert first.relation == "Success" and first.msg.metadata == {"which": "site", "max": "30", "where": "north"}
    assert second.relation == "Success" and second.msg.metadata == {"max": "30"}
    assert loose.relation == "Failure" and loose.error == (
        f"Failed to find customer for entity with id: {unassigned.pk} and type: Device")
    assert theirs.relation == "Failure" and "Failed to find customer" in theirs.error
    assert tenant_msg.relation == "Failure" and tenant_msg.error == "Unexpected originator EntityType: TENANT"


def test_customer_attributes_old_keys_read_latest_telemetry_and_data_gets_typed_values(tenant, acme, device):
    write_points([Point(acme.pk, "budget", 1000, 12.5)])
    [[old]] = run_node(tenant, CUSTOMER_ATTRIBUTES, [msg(tenant, device)], attrMapping={"budget": "b"}, telemetry=True)
    assert old.relation == "Success" and old.msg.metadata == {"b": "12.5"}
    [[new]] = run_node(tenant, CUSTOMER_ATTRIBUTES, [msg(tenant, device, data={"t": 1}, stored=True)],
                       dataMapping={"budget": "b", "absent": "x"}, dataToFetch="LATEST_TELEMETRY", fetchTo="DATA")
    assert new.msg.data == {"t": 1, "b": 12.5} and new.msg.stored is False
    [[bad]] = run_node(tenant, CUSTOMER_ATTRIBUTES, [msg(tenant, device, data=[1])], dataMapping={"budget": "b"},
                       dataToFetch="ATTRIBUTES", fetchTo="DATA")
    assert bad.relation == "Failure" and bad.error == "Message body is not an object!"


def test_tenant_attributes_read_the_tenants_own_attributes_only(tenant, other_tenant, device):
    save_attributes(tenant.pk, "SERVER_SCOPE", {"tier": "gold"})
    save_attributes(other_tenant.pk, "SERVER_SCOPE", {"secret": "x"})
    [[out]] = run_node(tenant, TENANT_ATTRIBUTES, [msg(tenant, device)], dataMapping={"tier": "tier", "secret": "s"},
                       dataToFetch="ATTRIBUTES", fetchTo="METADATA")
    assert out.relation == "Success" and out.msg.metadata == {"tier": "gold"}


def test_related_data_follows_the_relation_query_and_its_filters(tenant, other_tenant, device):
    building, floor = make_asset(tenant, "building"), make_asset(tenant, "floor-2", label="Second")
    relate(tenant, floor, device)
    relate(tenant, building, floor, source_type="ASSET", target_type="ASSET")
    save_attributes(floor.pk, "SERVER_SCOPE", {"sn": "F2"})
    save_attributes(building.pk, "SERVER_SCOPE", {"sn": "B1"})
    up = {"dataMapping": {"sn": "sn"}, "dataToFetch": "ATTRIBUTES", "fetchTo": "METADATA"}
    [[near]] = run_node(tenant, RELATED_DATA, [msg(tenant, device)], relationsQuery=query("TO"), **up)
    assert near.msg.metadata == {"sn": "F2"}
    [[top]] = run_node(tenant, RELATED_DATA, [msg(tenant, device)], relationsQuery=query("TO", 2, True), **up)
    assert top.msg.metadata == {"sn": "B1"}
    [[fields]] = run_node(tenant, RELATED_DATA, [msg(tenant, device)], relationsQuery=query("TO"),
                          dataMapping={"name": "assetName", "label": "where", "type": "kind"}, dataToFetch="FIELDS",
                          fetchTo="DATA")
    assert fields.msg.data == {"t": 1, "assetName": "floor-2", "where": "Second", "kind": "default"}
    [[none]] = run_node(tenant, RELATED_DATA, [msg(tenant, device)], relationsQuery=query("TO", types=["DEVICE"]), **up)
    assert none.relation == "Failure" and none.error == NOT_RELATED
    theirs = make_device(other_tenant, "theirs")
    relate(other_tenant, floor, theirs)  # a relation row of another tenant is never followed
    [[foreign]] = run_node(tenant, RELATED_DATA, [msg(tenant, theirs)], relationsQuery=query("TO"), **up)
    assert foreign.relation == "Failure" and foreign.error == NOT_RELATED


@pytest.mark.parametrize("data_to_fetch", ["ATTRIBUTES", "LATEST_TELEMETRY"])
def test_related_data_never_reads_another_tenants_entity_a_relation_names(tenant, other_tenant, data_to_fetch):
    """A relation row of this tenant to another tenant's device (made before create relation
    refused foreign originators): that device's attributes and latest values are not read."""
    asset, theirs = make_asset(tenant, "mine"), make_device(other_tenant, "victim")
    relate(tenant, asset, theirs)
    save_attributes(theirs.pk, "SERVER_SCOPE", {"apiKey": "B-SECRET"})
    write_points([Point(theirs.pk, "apiKey", 1000, "B-SECRET")])
    [[out]] = run_node(tenant, RELATED_DATA, [msg(tenant, asset, kind="ASSET")], relationsQuery=query("FROM"),
                       dataMapping={"apiKey": "leaked"}, dataToFetch=data_to_fetch, fetchTo="METADATA")
    assert "leaked" not in out.msg.metadata and "B-SECRET" not in json.dumps(out.msg.metadata)


def test_related_data_reads_a_whole_batch_in_one_query_per_level(tenant, django_assert_max_num_queries):
    devices = [make_device(tenant, f"d{i}") for i in range(5)]
    assets = [make_asset(tenant, f"a{i}") for i in range(5)]
    for asset, dev in zip(assets, devices, strict=True):
        relate(tenant, asset, dev)
        save_attributes(asset.pk, "SERVER_SCOPE", {"sn": asset.name})
    instance = make_node(tenant, RELATED_DATA, relationsQuery=query("TO"), dataMapping={"sn": "sn"},
                         dataToFetch="ATTRIBUTES", fetchTo="METADATA")
    with django_assert_max_num_queries(3):  # relations, the related entities (this tenant's only), attributes
        outs = instance.process_batch(NodeContext(tenant.pk, 0), [msg(tenant, d) for d in devices])
    assert [out.msg.metadata["sn"] for [out] in outs] == [a.name for a in assets]


@pytest.mark.parametrize("kind, configuration, key", [
    (CUSTOMER_ATTRIBUTES, {"dataMapping": {}}, "dataMapping"),
    (CUSTOMER_ATTRIBUTES, {"dataMapping": {"a": "b"}, "dataToFetch": "FIELDS"}, "dataToFetch"),
    (TENANT_ATTRIBUTES, {"attrMapping": {"a": "b"}, "telemetry": "maybe"}, "telemetry"),
    (TENANT_ATTRIBUTES, {"dataMapping": {"a": "b"}, "fetchTo": "BODY"}, "fetchTo"),
    (RELATED_DATA, {"dataMapping": {"a": "b"}}, "relationsQuery"),
    (RELATED_DATA, {"dataMapping": {"a": "b"}, "relationsQuery": {"direction": "UP"}}, "direction"),
    (RELATED_DATA, {"dataMapping": {"a": "b"}, "relationsQuery": {"direction": "TO", "maxLevel": "x"}}, "maxLevel"),
    (CUSTOMER_DETAILS, {"detailsList": ["TITLE", "SHOE_SIZE"]}, "detailsList"),
    (TENANT_DETAILS, {"detailsList": ["TITLE"], "addToMetadata": "sometimes"}, "addToMetadata"),
    (CREDENTIALS, {"fetchTo": 3}, "fetchTo"),
    (CHANGE_ORIGINATOR, {}, "originatorSource"),
    (CHANGE_ORIGINATOR, {"originatorSource": "GROUP"}, "originatorSource"),
    (CHANGE_ORIGINATOR, {"originatorSource": "RELATED", "relationsQuery": None}, "relationsQuery"),
    (CHANGE_ORIGINATOR, {"originatorSource": "ENTITY", "entityNamePattern": "x"}, "entityType"),
    (CHANGE_ORIGINATOR, {"originatorSource": "ENTITY", "entityType": "DASHBOARD", "entityNamePattern": "x"},
     "entityType"),
    (CHANGE_ORIGINATOR, {"originatorSource": "ENTITY", "entityType": "DEVICE", "entityNamePattern": ""},
     "entityNamePattern"),
])
def test_bad_configurations_are_refused_naming_the_key(tenant, kind, configuration, key):
    with pytest.raises(ConfigError, match=key):
        make_node(tenant, kind, **configuration)


def test_thingsboards_default_configurations_are_accepted(tenant):
    for kind in (CUSTOMER_ATTRIBUTES, TENANT_ATTRIBUTES, RELATED_DATA, CUSTOMER_DETAILS, TENANT_DETAILS, CREDENTIALS,
                 CHANGE_ORIGINATOR):
        node_class = nodes.get_node(kind)
        assert isinstance(node_class.clean_config(dict(node_class.defaults)), dict), kind


# --- customer / tenant details, device credentials ---------------------------------------------

def test_customer_details_go_to_the_data_under_thingsboards_keys(tenant, acme, device):
    every = ["ID", "TITLE", "COUNTRY", "CITY", "STATE", "ZIP", "ADDRESS", "ADDRESS2", "PHONE", "EMAIL",
             "ADDITIONAL_INFO"]
    [[out]] = run_node(tenant, CUSTOMER_DETAILS, [msg(tenant, device, data={"t": 1})], detailsList=every,
                       fetchTo="DATA")
    assert out.relation == "Success" and out.msg.data == {  # state, zip and addresses are empty: skipped
        "t": 1, "customer_id": str(acme.pk), "customer_title": "ACME", "customer_country": "NL",
        "customer_city": "Delft", "customer_phone": "+31 15", "customer_email": "ops@acme.example",
        "customer_additionalInfo": "best customer"}
    asset = make_asset(tenant, "pump", customer=acme)
    [[old]] = run_node(tenant, CUSTOMER_DETAILS, [msg(tenant, asset, kind="ASSET", metadata={"k": "v"})],
                       detailsList=["TITLE", "PHONE"], addToMetadata=True)
    assert old.msg.metadata == {"k": "v", "customer_title": "ACME", "customer_phone": "+31 15"}


def test_customer_details_failures_and_pass_throughs(tenant, other_tenant, acme):
    loose = make_device(tenant, "Thermostat")
    foreign = make_device(other_tenant, "theirs", customer=make_customer(other_tenant, "Theirs"))
    user = User.objects.create_user("bob@example.com", "pw-123456", tenant=tenant)
    batch = [msg(tenant, loose), msg(tenant, acme, kind="CUSTOMER"), msg(tenant, foreign),
             msg(tenant, user, kind="USER"), msg(tenant, make_device(tenant, "d", customer=acme), data="not an object")]
    outs = run_node(tenant, CUSTOMER_DETAILS, batch, detailsList=["TITLE"], fetchTo="DATA")
    [[unassigned], [customer], [theirs], [bob], [text]] = outs
    assert unassigned.relation == "Failure"
    assert unassigned.error == "Device with name 'Thermostat' is not assigned to Customer!"
    assert customer.relation == "Failure" and customer.error == "Entity with entityType 'CUSTOMER' is not supported."
    assert theirs.relation == "Success" and theirs.msg == batch[2]  # not found: ThingsBoard passes it on unchanged
    assert bob.error == "User with name 'bob@example.com' is not assigned to Customer!"
    assert text.relation == "Failure" and text.error == "Message body is not an object!"


def test_tenant_details_skip_what_tenants_do_not_have(tenant, device):
    tenant.email, tenant.additional_info = "admin@alice.example", {"description": "Alice's"}
    tenant.save()
    [[out]] = run_node(tenant, TENANT_DETAILS, [msg(tenant, device)], detailsList=["TITLE", "EMAIL", "COUNTRY", "ID",
                                                                                  "ADDITIONAL_INFO"],
                       fetchTo="METADATA")
    assert out.msg.metadata == {"tenant_title": "Alice Corp", "tenant_email": "admin@alice.example",
                                "tenant_id": str(tenant.pk), "tenant_additionalInfo": "Alice's"}
    original = msg(tenant, device)
    [[empty]] = run_node(tenant, TENANT_DETAILS, [original], detailsList=[], fetchTo="DATA")
    assert empty.relation == "Success" and empty.msg == original


def test_device_credentials_add_the_access_token_as_thingsboard_does(tenant, other_tenant, device, acme,
                                                                      django_assert_max_num_queries):
    token = device.credentials.credentials_id
    loose = make_device(tenant, "loose")
    loose.credentials.delete()  # a device inserted around the service (a script's bulk_create)
    foreign = make_device(other_tenant, "theirs")
    batch = [msg(tenant, device, metadata={"k": "v"}), msg(tenant, acme, kind="CUSTOMER"), msg(tenant, loose),
             msg(tenant, foreign)]
    with django_assert_max_num_queries(1):
        outs = make_node(tenant, CREDENTIALS).process_batch(NodeContext(tenant.pk, 0), batch)
    [[dev], [customer], [none], [theirs]] = outs
    assert dev.relation == "Success" and dev.msg.metadata == {"k": "v", "credentialsType": "ACCESS_TOKEN",
                                                              "credentials": token}
    assert dev.msg.data == batch[0].data
    assert customer.relation == "Failure" and customer.error == "Unsupported originator type: CUSTOMER!"
    assert none.relation == "Failure" and none.error == f"Failed to get Device Credentials for device: {loose.pk}!"
    assert theirs.error == f"Failed to get Device Credentials for device: {foreign.pk}!"  # another tenant's
    batch = [msg(tenant, device, data={"t": 1}), msg(tenant, device, data=[1])]
    [[data], [array]] = run_node(tenant, CREDENTIALS, batch, fetchToMetadata=False)
    assert data.msg.data == {"t": 1, "credentialsType": "ACCESS_TOKEN", "credentials": token}
    assert array.relation == "Failure" and array.error == "Message body is not an object!"


def test_device_credentials_give_mqtt_basic_as_an_object_in_data_and_json_text_in_metadata(tenant, device):
    from devices import credentials

    credentials.update(device, "MQTT_BASIC", None, '{"clientId": "c1", "userName": "u1", "password": "p1"}')
    value = {"clientId": "c1", "userName": "u1", "password": "p1"}
    [[data]] = run_node(tenant, CREDENTIALS, [msg(tenant, device, data={})], fetchTo="DATA")
    assert data.msg.data == {"credentialsType": "MQTT_BASIC", "credentials": value}
    [[meta]] = run_node(tenant, CREDENTIALS, [msg(tenant, device)], fetchTo="METADATA")
    assert meta.msg.metadata["credentialsType"] == "MQTT_BASIC"
    assert json.loads(meta.msg.metadata["credentials"]) == value
    pem = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----"
    credentials.update(device, "X509_CERTIFICATE", None, pem)
    [[cert]] = run_node(tenant, CREDENTIALS, [msg(tenant, device, data={})], fetchTo="DATA")
    assert cert.msg.data == {"credentialsType": "X509_CERTIFICATE", "credentials": "MIIBszCCAVmgAwIBAgIU"}


# --- change originator ------------------------------------------------------------------------

def test_change_originator_to_the_customer_keeps_data_and_metadata(tenant, other_tenant, acme, device):
    original = msg(tenant, device, data={"t": 5}, metadata={"m": "1"}, stored=True)
    foreign = make_device(other_tenant, "theirs", customer=make_customer(other_tenant, "Theirs"))
    outs = run_node(tenant, CHANGE_ORIGINATOR, [original, msg(tenant, acme, kind="CUSTOMER"),
                                                msg(tenant, make_device(tenant, "loose")), msg(tenant, foreign)],
                    originatorSource="CUSTOMER")
    [[moved], [same], [loose], [theirs]] = outs
    assert (moved.msg.originator_type, moved.msg.originator_id) == ("CUSTOMER", acme.pk)
    assert (moved.msg.data, moved.msg.metadata, moved.msg.msg_type) == ({"t": 5}, {"m": "1"}, original.msg_type)
    assert moved.msg.stored is False  # the data is another entity's now: a save node writes it
    assert same.msg.originator_id == acme.pk
    assert loose.error == theirs.error == "Failed to find new originator!"


def test_change_originator_to_tenant_related_alarm_originator_and_named_entity(tenant, other_tenant, device):
    room = make_asset(tenant, "room-1")
    relate(tenant, room, device)
    [[to_tenant]] = run_node(tenant, CHANGE_ORIGINATOR, [msg(tenant, device)], originatorSource="TENANT")
    assert (to_tenant.msg.originator_type, to_tenant.msg.originator_id) == ("TENANT", tenant.pk)
    [[related], [lonely]] = run_node(tenant, CHANGE_ORIGINATOR, [msg(tenant, device), msg(tenant, room, kind="ASSET")],
                                     originatorSource="RELATED", relationsQuery=query("TO"))
    assert (related.msg.originator_type, related.msg.originator_id) == ("ASSET", room.pk)
    assert lonely.relation == "Failure" and lonely.error == "Failed to find new originator!"
    alarm = Alarm.objects.create(tenant=tenant, originator_type="DEVICE", originator_id=device.pk, type="Hot")
    theirs = Alarm.objects.create(tenant=other_tenant, originator_type="DEVICE", originator_id=device.pk, type="X")
    outs = run_node(tenant, CHANGE_ORIGINATOR, [msg(tenant, alarm, kind="ALARM"), msg(tenant, theirs, kind="ALARM"),
                                                msg(tenant, device)], originatorSource="ALARM_ORIGINATOR")
    [[back], [foreign], [not_alarm]] = outs
    assert (back.msg.originator_type, back.msg.originator_id) == ("DEVICE", device.pk)
    assert foreign.error == "Failed to find new originator!"
    assert not_alarm.error == "Unexpected original EntityType DEVICE"
    make_device(other_tenant, "gateway-9")
    [[named], [missing]] = run_node(tenant, CHANGE_ORIGINATOR, [msg(tenant, device, metadata={"gw": "1"}),
                                                                msg(tenant, device, metadata={"gw": "9"})],
                                    originatorSource="ENTITY", entityType="DEVICE",
                                    entityNamePattern="gateway-${gw}")
    assert missing.error == "Failed to found DEVICE  entity by name: 'gateway-9'!"  # another tenant's: not found
    assert named.relation == "Failure"  # no gateway-1 yet
    gateway = make_device(tenant, "gateway-1")
    [[named]] = run_node(tenant, CHANGE_ORIGINATOR, [msg(tenant, device, data={"gw": "gateway-1"})],
                         originatorSource="ENTITY", entityType="DEVICE", entityNamePattern="$[gw]")
    assert (named.msg.originator_type, named.msg.originator_id) == ("DEVICE", gateway.pk)


# --- through the engine, chains as ThingsBoard exports them ---------------------------------------

def _tb_node(kind, name, configuration, debug=False):
    return {"type": kind, "name": name, "debugMode": debug, "singletonMode": False, "configurationVersion": 1,
            "configuration": configuration, "additionalInfo": {"description": "", "layoutX": 300, "layoutY": 150}}


def test_an_exported_chain_enriches_moves_the_originator_and_stores_for_the_new_one(tenant, acme, device):
    room = make_asset(tenant, "room-7", customer=acme)
    relate(tenant, room, device)
    save_attributes(acme.pk, "SERVER_SCOPE", {"limit": 40})
    to_rooms = {"direction": "TO", "maxLevel": 1, "fetchLastLevelOnly": False,
                "filters": [{"relationType": "Contains", "entityTypes": ["ASSET"]}]}
    chain = install_root(tenant, [
        _tb_node(CUSTOMER_DETAILS, "customer title", {"detailsList": ["TITLE"], "fetchTo": "METADATA"}),
        _tb_node(CUSTOMER_ATTRIBUTES, "customer limit", {"dataToFetch": "ATTRIBUTES", "dataMapping": {"limit": "limit"},
                                                         "fetchTo": "DATA"}),
        _tb_node(CHANGE_ORIGINATOR, "to room", {"originatorSource": "RELATED", "entityType": None,
                                                "entityNamePattern": None, "relationsQuery": to_rooms}),
        node(nodes.SAVE_TIMESERIES, "save", defaultTTL=0),
        node(nodes.LOG, "after", True),
    ], [(0, 1, "Success"), (1, 2, "Success"), (2, 3, "Success"), (3, 4, "Success")])
    report = engine.process([msg(tenant, device, data={"temperature": 21})])
    assert report.failures == 0
    assert {k: v for k, (_, v) in latest(room.pk).items()} == {"temperature": 21, "limit": 40}
    assert latest(device.pk) == {}
    [event] = events_of(chain.nodes.get(index=4), "IN")
    assert (event["entityType"], event["entityId"]) == ("ASSET", str(room.pk))
    assert json.loads(event["metadata"])["customer_title"] == "ACME"


def test_an_older_export_with_the_pre_3_6_keys_runs_the_same(tenant, acme, device):
    floor = make_asset(tenant, "floor-1")
    relate(tenant, floor, device)
    write_points([Point(floor.pk, "occupancy", 1000, 3)])
    save_attributes(tenant.pk, "SERVER_SCOPE", {"plan": "pro"})
    chain = install_root(tenant, [
        _tb_node(RELATED_DATA, "floor occupancy", {"attrMapping": {"occupancy": "people"}, "telemetry": True,
                                                   "relationsQuery": query("TO")}),
        _tb_node(TENANT_ATTRIBUTES, "plan", {"attrMapping": {"plan": "plan"}, "telemetry": False}),
        _tb_node(TENANT_DETAILS, "tenant", {"detailsList": ["TITLE"], "addToMetadata": True}),
        _tb_node(CREDENTIALS, "credentials", {"fetchToMetadata": True}),
        node(nodes.LOG, "fetched", True),
    ], [(0, 1, "Success"), (1, 2, "Success"), (2, 3, "Success"), (3, 4, "Success")])
    engine.process([msg(tenant, device, metadata={"deviceName": "thermo-1"})])
    [event] = events_of(chain.nodes.get(index=4), "IN")
    assert json.loads(event["metadata"]) == {"deviceName": "thermo-1", "people": "3", "plan": "pro",
                                             "tenant_title": "Alice Corp", "credentialsType": "ACCESS_TOKEN",
                                             "credentials": device.credentials.credentials_id}
    assert event["relationType"] == "Success"
