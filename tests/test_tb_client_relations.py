"""ThingsBoard's own generated client (tb-pe-client) driving entity relations on the real server.

Reuses the server and client fixtures of tests/test_tb_client.py (a fresh server for this module).
"""

import json
import uuid

import pytest
from tb_pe_client.exceptions import ApiException
from tb_pe_client.models import Asset, Device, EntityRelation

from tests.test_tb_client import client, server_url  # noqa: F401  (fixtures)

pytestmark = pytest.mark.server


def test_it_saves_finds_and_deletes_relations(client):  # noqa: F811
    asset = client.save_asset(Asset(name="rel-building", type="building"))
    device = client.save_device(Device(name="rel-meter", type="meter"))
    aid, did = str(asset.id.id), str(device.id.id)
    saved = client.save_relation(EntityRelation(var_from=asset.id, to=device.id, type="Contains",
                                                type_group="COMMON", additional_info={"floor": 2}))
    assert saved is not None and saved.to.id == device.id.id and saved.additional_info == {"floor": 2}

    got = client.get_relation(aid, "ASSET", "Contains", did, "DEVICE")
    assert (got.var_from.id, got.to.id, got.type_group) == (asset.id.id, device.id.id, "COMMON")
    assert [r.to.id for r in client.find_entity_relations_by_from("ASSET", aid)] == [device.id.id]
    assert [r.to.id for r in client.find_entity_relations_by_from_and_relation_type("ASSET", aid, "Contains")] == [
        device.id.id]
    assert client.find_entity_relations_by_from_and_relation_type("ASSET", aid, "Manages") == []
    assert [r.var_from.id for r in client.find_entity_relations_by_to("DEVICE", did)] == [asset.id.id]
    assert [r.var_from.id for r in client.find_entity_relations_by_to_and_relation_type("DEVICE", did, "Contains")] == [
        asset.id.id]
    infos = client.find_entity_relation_infos_by_from("ASSET", aid)
    assert [(i.from_name, i.to_name) for i in infos] == [("rel-building", "rel-meter")]
    assert [i.from_name for i in client.find_entity_relation_infos_by_to("DEVICE", did)] == ["rel-building"]

    deleted = client.delete_relation(aid, "ASSET", "Contains", did, "DEVICE")
    assert deleted.type == "Contains" and client.find_entity_relations_by_from("ASSET", aid) == []
    with pytest.raises(ApiException) as caught:
        client.get_relation(aid, "ASSET", "Contains", did, "DEVICE")
    assert caught.value.status == 404


def test_it_deletes_every_relation_of_an_entity(client):  # noqa: F811
    asset = client.save_asset(Asset(name="rel-site", type="building"))
    devices = [client.save_device(Device(name=f"rel-site-{n}", type="meter")) for n in (1, 2)]
    for device in devices:
        assert client.save_relation(EntityRelation(var_from=asset.id, to=device.id, type="Contains",
                                                   type_group="COMMON")) is not None
    assert client.delete_relations(str(devices[0].id.id), "DEVICE") is None
    assert [r.to.id for r in client.find_entity_relations_by_from("ASSET", str(asset.id.id))] == [devices[1].id.id]


def test_it_answers_unknown_ends_and_searches_by_query(client):  # noqa: F811
    from tb_pe_client.models import DeviceSearchQuery, EntityRelationsQuery, RelationsSearchParameters

    asset = client.save_asset(Asset(name="rel-root", type="building"))
    device = client.save_device(Device(name="rel-leaf", type="meter"))
    client.save_relation(EntityRelation(var_from=asset.id, to=device.id, type="Contains", type_group="COMMON"))
    with pytest.raises(ApiException) as caught:
        client.find_entity_relations_by_from("DEVICE", str(uuid.uuid4()))
    assert caught.value.status == 404 and json.loads(caught.value.body)["errorCode"] == 32
    params = RelationsSearchParameters(root_id=str(asset.id.id), root_type="ASSET", direction="FROM", max_level=1)
    found = client.find_entity_relations_by_query(EntityRelationsQuery(parameters=params))
    assert [r.to.id for r in found] == [device.id.id]
    infos = client.find_entity_relation_infos_by_query(EntityRelationsQuery(parameters=params))
    assert [i.to_name for i in infos] == ["rel-leaf"]
    devices = client.find_devices_by_query(DeviceSearchQuery(parameters=params, relation_type="Contains",
                                                             device_types=["meter"]))
    assert [d.name for d in devices] == ["rel-leaf"]
