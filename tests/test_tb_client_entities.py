"""ThingsBoard's own generated client (tb-pe-client) driving the entity endpoints on the real server.

Reuses the server and client fixtures of tests/test_tb_client.py (a fresh server for this module).
"""

import json

import pytest
from tb_pe_client.exceptions import ApiException
from tb_pe_client.models import Asset, Customer, Device, DeviceProfile, EntityGroup

from tests.test_tb_client import client, server_url  # noqa: F401  (fixtures)

pytestmark = pytest.mark.server


def test_it_saves_and_finds_customers(client):  # noqa: F811
    saved = client.save_customer(Customer(title="Client Customer", email="c@client.test"))
    assert saved is not None and saved.title == "Client Customer" and saved.name == "Client Customer"
    assert client.get_customer_by_id(str(saved.id.id)).email == "c@client.test"
    assert client.get_tenant_customer(customer_title="Client Customer").id.id == saved.id.id
    page = client.get_customers(page_size=10, page=0, text_search="client")
    assert [c.title for c in page.data] == ["Client Customer"]


def test_it_drives_the_device_family(client):  # noqa: F811
    device = client.save_device(Device(name="client-dev-1", type="client-meter", label="L"))
    assert device is not None and device.type == "client-meter"
    device_id = str(device.id.id)
    assert client.get_tenant_device_by_name(device_name="client-dev-1").id.id == device.id.id
    assert [d.name for d in client.get_devices_by_ids(device_ids=[device_id])] == ["client-dev-1"]
    assert "client-meter" in [t.type for t in client.get_device_types()]
    customer = client.save_customer(Customer(title="Device Owner"))
    assert client.change_owner_to_customer(str(customer.id.id), "DEVICE", device_id) is None
    info = client.get_device_info_by_id(device_id)
    assert info.owner_name == "Device Owner" and info.active is False
    assert [d.name for d in client.get_customer_devices(str(customer.id.id), page_size=10, page=0).data] == [
        "client-dev-1"]
    infos = client.get_all_device_infos(page_size=10, page=0, include_customers=True, text_search="client-dev")
    assert [d.name for d in infos.data] == ["client-dev-1"]
    with pytest.raises(ApiException) as caught:
        client.save_device(Device(name="client-dev-1"))
    assert caught.value.status == 400
    assert json.loads(caught.value.body)["message"] == "Device with such name already exists!"
    client.delete_device(device_id)
    with pytest.raises(ApiException) as caught:
        client.get_device_by_id(device_id)
    assert caught.value.status == 404


def test_it_drives_assets_and_profiles(client):  # noqa: F811
    asset = client.save_asset(Asset(name="client-hq", type="client-building"))
    assert asset is not None and asset.type == "client-building"
    assert client.get_asset_info_by_id(str(asset.id.id)).name == "client-hq"
    assert [a.name for a in client.get_tenant_assets(page_size=10, page=0, type="client-building").data] == [
        "client-hq"]
    profile = client.save_device_profile(DeviceProfile(name="client-profile", transport_type="MQTT"))
    assert profile is not None and profile.transport_type == "MQTT" and profile.default is False
    old_default = client.get_default_device_profile_info()
    assert client.set_default_device_profile(str(profile.id.id)).default is True
    assert client.get_default_device_profile_info().name == "client-profile"
    client.set_default_device_profile(str(old_default.id.id))
    infos = client.get_device_profile_infos(page_size=10, page=0, text_search="client-p")
    assert [p.name for p in infos.data] == ["client-profile"]
    client.delete_device_profile(str(profile.id.id))
    with pytest.raises(ApiException) as caught:
        client.delete_device_profile(str(old_default.id.id))
    assert caught.value.status == 400


def test_it_drives_entity_groups(client):  # noqa: F811
    device = client.save_device(Device(name="client-grouped"))
    group = client.save_entity_group(EntityGroup(name="Client group", type="DEVICE"))
    assert group is not None and group.owner_ids and group.type == "DEVICE"
    group_id = str(group.id.id)
    assert client.add_entities_to_entity_group(group_id, [str(device.id.id)]) is None
    members = client.get_entities(group_id, page_size="10", page="0")
    assert [(m.name, m.id.entity_type) for m in members.data] == [("client-grouped", "DEVICE")]
    groups = client.get_entity_groups_by_type_and_page_link("DEVICE", page_size="10", page="0")
    assert [(g.name, g.group_all) for g in groups.data] == [("All", True), ("Client group", False)]  # "All" first
    tenant_id = str(group.owner_id.id)
    found = client.get_entity_group_by_owner_and_name_and_type("TENANT", tenant_id, "DEVICE", "Client group")
    assert found.id.id == group.id.id
    assert client.remove_entities_from_entity_group(group_id, [str(device.id.id)]) is None
    assert client.get_entities(group_id, page_size="10", page="0").data == []
    client.delete_entity_group(group_id)


def test_it_runs_entity_data_queries(client):  # noqa: F811
    from tb_pe_client.models import EntityCountQuery, EntityDataQuery

    for name, temperature in (("client-query-1", 18.5), ("client-query-2", 26)):
        device = client.save_device(Device(name=name, type="client-query-meter"))
        body = json.dumps({"ts": 1_700_000_000_000, "values": {"temperature": temperature}})
        assert client.save_entity_telemetry("DEVICE", str(device.id.id), "ANY", body) == ""
    warm = {"key": {"type": "TIME_SERIES", "key": "temperature"}, "valueType": "NUMERIC",
            "predicate": {"type": "NUMERIC", "operation": "GREATER", "value": {"defaultValue": 20}}}
    entity_filter = {"type": "deviceType", "deviceTypes": ["client-query-meter"], "deviceNameFilter": "client-query"}
    query = EntityDataQuery.from_dict({
        "entityFilter": entity_filter,
        "pageLink": {"pageSize": 10, "page": 0, "sortOrder": {"key": {"type": "ENTITY_FIELD", "key": "name"},
                                                              "direction": "DESC"}},
        "entityFields": [{"type": "ENTITY_FIELD", "key": "name"}],
        "latestValues": [{"type": "TIME_SERIES", "key": "temperature"}, {"type": "ATTRIBUTE", "key": "none"}],
    })
    page = client.find_entity_data_by_query(query)
    assert page.total_elements == 2 and page.has_next is False
    assert [(d.latest["ENTITY_FIELD"]["name"].value, d.latest["TIME_SERIES"]["temperature"].value)
            for d in page.data] == [("client-query-2", "26"), ("client-query-1", "18.5")]
    assert page.data[0].latest["ATTRIBUTE"]["none"].ts == 0
    assert client.count_entities_by_query(EntityCountQuery.from_dict(
        {"entityFilter": entity_filter, "keyFilters": [warm]})) == 1
    keys = client.find_available_entity_keys_by_query(True, True, query)
    assert keys.timeseries == ["temperature"] and keys.entity_types == ["DEVICE"]
    with pytest.raises(ApiException) as caught:
        client.count_entities_by_query(EntityCountQuery.from_dict({"entityFilter": {"type": "apiUsageState"}}))
    assert caught.value.status == 400 and "apiUsageState" in json.loads(caught.value.body)["message"]
