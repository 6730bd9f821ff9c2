"""ThingsBoard's own generated client (tb-pe-client) on users, the tenant, time-series deletion, device
credentials, server-side RPC, and what this server answers 501 to (PE's "All" group).

Reuses the server and client fixtures of tests/test_tb_client.py (a fresh server for this module).
"""

import ast
import json
import time
import uuid

import pytest
from tb_pe_client.exceptions import ApiException
from tb_pe_client.models import (
    AlarmCountQuery,
    BaseReadTsKvQuery,
    Customer,
    Device,
    DeviceCredentials,
    DeviceCredentialsId,
    DeviceId,
    EntityCountQuery,
    EntityDataPageLink,
    EntityDataQuery,
    EntityTypeFilter,
    SaveDeviceWithCredentialsRequest,
)

from tests.test_tb_client import EMAIL, T0, client, server_url  # noqa: F401  (fixtures)

pytestmark = pytest.mark.server


def test_it_reads_users_and_the_tenant(client):  # noqa: F811
    me = client.get_user()
    user = client.get_user_by_id(str(me.id.id))
    assert (user.email, user.authority) == (EMAIL, "TENANT_ADMIN")
    page = client.get_user_users(page_size=10, page=0)
    assert [u.email for u in page.data] == [EMAIL] and page.has_next is False
    customer = client.save_customer(Customer(title="Users Customer"))
    assert client.get_customer_users(str(customer.id.id), page_size=10, page=0).data == []
    tenant = client.get_tenant_by_id(str(me.tenant_id.id))
    assert tenant.title == "Client Test" and tenant.id.id == me.tenant_id.id
    assert client.get_tenant_info_by_id(str(me.tenant_id.id)).title == "Client Test"
    owners = client.get_owners(page_size="10", page="0")
    assert [o.name for o in owners.data] == ["Client Test", "Users Customer"]
    assert [o.name for o in client.get_owner_infos(page_size="10", page="0", text_search="users").data] == [
        "Users Customer"]
    assert client.get_owner_info("CUSTOMER", str(customer.id.id)).name == "Users Customer"


def test_it_deletes_time_series(client):  # noqa: F811
    device = client.save_device(Device(name="client-ts-del", type="meter"))
    device_id = str(device.id.id)
    body = json.dumps([{"ts": T0 + i * 1000, "values": {"t": i, "h": i}} for i in range(4)])
    assert client.save_entity_telemetry("DEVICE", device_id, "ANY", body) == ""
    queried = client.get_timeseries_by_read_ts_kv_queries("DEVICE", device_id, [
        BaseReadTsKvQuery(id=7, key="t", start_ts=T0, end_ts=T0 + 4000, limit=2, order="ASC")])
    assert [(r.query_id, [(v.ts, v.value) for v in r.data]) for r in queried] == [(7, [(T0, "0"), (T0 + 1000, "1")])]
    assert client.delete_entity_timeseries("DEVICE", device_id, keys="t", start_ts=T0 + 2000, end_ts=T0 + 4000,
                                           rewrite_latest_if_deleted=True) == ""
    history = client.get_timeseries_history("DEVICE", device_id, T0, T0 + 5000, keys="t", order_by="ASC",
                                            use_strict_data_types=True)
    assert [p.ts for p in history["t"]] == [T0, T0 + 1000]
    latest = client.get_latest_timeseries("DEVICE", device_id, keys="t", use_strict_data_types=True)
    assert [(p.ts, p.value) for p in latest["t"]] == [(T0 + 1000, 1)]
    assert client.delete_entity_timeseries("DEVICE", device_id, keys="t,h", delete_all_data_for_keys=True) == ""
    assert client.get_timeseries_keys("DEVICE", device_id) == []


def test_it_times_out_two_way_rpc_nobody_answers_and_keeps_persistent_rpc(client):  # noqa: F811
    device_id = str(client.save_device(Device(name="client-rpc", type="meter")).id.id)
    request = json.dumps({"method": "getTemp", "params": {}, "timeout": 5000})
    assert client.handle_one_way_device_rpc_request_v2(device_id, request) == ""
    soon = json.dumps({"method": "getTemp", "params": {}, "expirationTime": int(time.time() * 1000) + 200})
    for call, status in ((client.handle_two_way_device_rpc_request_v2, 504),
                         (client.handle_two_way_device_rpc_request_v1, 408)):  # ThingsBoard's V2 and V1 controllers
        with pytest.raises(ApiException) as caught:
            call(device_id, soon)
        assert caught.value.status == status
    # typed "str" in the client, which hands back str() of the parsed JSON, as against ThingsBoard itself
    page = client.get_persisted_rpc_by_device(device_id, page_size=10, page=0)
    assert ast.literal_eval(page) == {"data": [], "totalPages": 0, "totalElements": 0, "hasNext": False}
    persistent = json.dumps({"method": "setMode", "params": {"m": 1}, "persistent": True, "timeout": 600000})
    rpc_id = ast.literal_eval(client.handle_two_way_device_rpc_request_v2(device_id, persistent))["rpcId"]
    rpc = client.get_persisted_rpc(rpc_id)
    assert (rpc.status, str(rpc.device_id.id)) == ("QUEUED", device_id)
    client.delete_rpc(rpc_id)
    assert ast.literal_eval(client.get_persisted_rpc_by_device(device_id, page_size=10, page=0))["totalElements"] == 0


def test_it_keeps_device_credentials_as_thingsboard_does(client):  # noqa: F811
    device_id = str(client.save_device(Device(name="client-creds", type="meter")).id.id)
    creds = client.get_device_credentials_by_device_id(device_id)
    assert (creds.credentials_type, len(creds.credentials_id), str(creds.device_id.id)) == (
        "ACCESS_TOKEN", 20, device_id)
    creds.credentials_id = "client-token-1"
    assert client.update_device_credentials(creds).credentials_id == "client-token-1"
    assert client.get_device_credentials_by_device_id(device_id).credentials_id == "client-token-1"
    request = SaveDeviceWithCredentialsRequest(
        device=Device(name="client-creds-2", type="meter"),
        credentials=DeviceCredentials(id=DeviceCredentialsId(id=str(uuid.uuid4())), device_id=DeviceId(
            id=device_id, entity_type="DEVICE"), credentials_type="ACCESS_TOKEN", credentials_id="client-token-1"))
    with pytest.raises(ApiException) as clash:  # taken by the first device: nothing is saved
        client.save_device_with_credentials(request)
    assert clash.value.status == 400 and "already assigned" in json.loads(clash.value.body)["message"]
    request.credentials.credentials_id = "client-token-2"
    saved = client.save_device_with_credentials(request)
    assert saved.name == "client-creds-2"
    assert client.get_device_credentials_by_device_id(str(saved.id.id)).credentials_id == "client-token-2"


def test_it_serves_data_queries(client):  # noqa: F811
    device_id = str(client.save_device(Device(name="client-queries", type="meter")).id.id)
    # entity and alarm data queries are served (tests/test_tb_client_entities.py, test_tb_client_alarms.py)
    query = EntityDataQuery(entity_filter=EntityTypeFilter(type="entityType", entity_type="DEVICE"),
                            page_link=EntityDataPageLink(page_size=10, page=0))
    assert device_id in [str(d.entity_id.id) for d in client.find_entity_data_by_query(query).data]
    alarms = AlarmCountQuery(entity_filter=EntityTypeFilter(type="entityType", entity_type="DEVICE"))
    assert client.count_alarms_by_query(alarms) == 0  # no alarm is raised in this module
    tenant_id = str(client.get_user().tenant_id.id)
    every = client.get_entity_group_all_by_owner_and_type("TENANT", tenant_id, "DEVICE")  # the tenant's "All"
    assert (every.name, every.group_all, every.type) == ("All", True, "DEVICE")
    members = client.get_entities(str(every.id.id), page_size="100", page="0").data
    assert device_id in [str(m.id.id) for m in members]
    count = EntityCountQuery(entity_filter=EntityTypeFilter(type="entityType", entity_type="DEVICE"))
    assert client.count_entities_by_query(count) >= 1
