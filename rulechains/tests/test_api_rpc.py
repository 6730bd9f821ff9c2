"""Persistent RPC through the REST API (ThingsBoard 3.3+): ``"persistent": true`` stores the call and
answers its rpcId at once; ``/api/rpc/persistent/{rpcId}`` and ``.../device/{deviceId}`` read it in
ThingsBoard's shapes, expired calls read EXPIRED, only tenant admins delete, another tenant's call
or device is a 404. The long poll and reply paths are in test_device_rpc.py."""

import pytest

from integrations.models import OutgoingDownlink
from integrations.tests.factories import make_downlink_converter, make_integration
from rulechains.models import Rpc
from tbproject.clock import now_ms
from tbproject.testing.api import assert_error
from tbproject.testing.factories import make_device

LONG = 600_000


@pytest.fixture
def device(tenant, customer):
    return make_device(tenant, "boiler-1", customer=customer)


def persist(api, device, kind="oneway", **body):
    res = api.post(f"/api/rpc/{kind}/{device.pk}",
                   {"method": "setTemp", "params": {"t": 60}, "persistent": True, "timeout": LONG, **body},
                   format="json")
    assert res.status_code == 200, res.content
    return res.json()["rpcId"]


def test_a_persistent_call_is_stored_and_read_in_thingsboards_shape(api, device, tenant):
    rpc_id = persist(api, device, additionalInfo={"ticket": 7})
    rpc = api.get(f"/api/rpc/persistent/{rpc_id}").json()
    assert rpc["status"] == "QUEUED" and rpc["deviceId"] == {"entityType": "DEVICE", "id": str(device.pk)}
    assert rpc["tenantId"] == {"entityType": "TENANT", "id": str(tenant.pk)} and rpc["response"] is None
    assert rpc["request"]["oneway"] is True and rpc["request"]["persisted"] is True
    assert rpc["request"]["body"] == {"method": "setTemp", "params": '{"t":60}'}
    assert rpc["expirationTime"] > now_ms() and rpc["additionalInfo"] == {"ticket": 7}


def test_the_device_list_pages_filters_and_sorts(api, device):
    first, second = persist(api, device), persist(api, device, kind="twoway")
    page = api.get(f"/api/rpc/persistent/device/{device.pk}", {"pageSize": 1, "page": 0,
                                                                "sortProperty": "createdTime", "sortOrder": "DESC"})
    body = page.json()
    assert (body["totalElements"], body["totalPages"], body["hasNext"]) == (2, 2, True)
    assert body["data"][0]["id"]["id"] in (first, second)
    assert api.get(f"/api/rpc/persistent/device/{device.pk}",
                   {"pageSize": 10, "page": 0, "rpcStatus": "SUCCESSFUL"}).json()["data"] == []
    queued = api.get(f"/api/rpc/persistent/device/{device.pk}", {"pageSize": 10, "page": 0, "rpcStatus": "QUEUED"})
    assert {r["id"]["id"] for r in queued.json()["data"]} == {first, second}
    assert api.get(f"/api/rpc/persistent/device/{device.pk}",
                   {"pageSize": 10, "page": 0, "textSearch": "settemp"}).json()["totalElements"] == 2


def test_lightweight_calls_are_never_listed(api, device):
    Rpc.objects.create(tenant=device.tenant, device=device, request_id=1, request={"method": "m", "params": "{}"},
                       expiration_time=now_ms() + LONG)
    page = api.get(f"/api/rpc/persistent/device/{device.pk}", {"pageSize": 10, "page": 0}).json()
    assert page == {"data": [], "totalPages": 0, "totalElements": 0, "hasNext": False}


def test_an_expired_call_reads_expired(api, device):
    rpc_id = persist(api, device, expirationTime=now_ms() - 1000)
    assert api.get(f"/api/rpc/persistent/{rpc_id}").json()["status"] == "EXPIRED"


def test_a_call_for_a_device_an_integration_serves_is_sent_through_it(api, tenant, device):
    integration = make_integration(tenant, "HTTP out", downlink_converter=make_downlink_converter(tenant, "enc"))
    rpc_id = persist(api, device)
    assert api.get(f"/api/rpc/persistent/{rpc_id}").json()["status"] == "SENT"
    assert OutgoingDownlink.objects.get(integration=integration).msg_metadata["requestUUID"] == rpc_id


def test_customer_users_read_and_only_tenant_admins_delete(api, customer_api, device):
    rpc_id = persist(customer_api, device)
    assert customer_api.get(f"/api/rpc/persistent/{rpc_id}").json()["status"] == "QUEUED"
    assert_error(customer_api.delete(f"/api/rpc/persistent/{rpc_id}"), 403)
    assert api.delete(f"/api/rpc/persistent/{rpc_id}").status_code == 200
    assert_error(api.get(f"/api/rpc/persistent/{rpc_id}"), 404)


def test_another_tenants_call_or_device_is_not_found(api, other_tenant):
    theirs = make_device(other_tenant, "theirs")
    rpc = Rpc.objects.create(tenant=other_tenant, device=theirs, request_id=1, persistent=True,
                             request={"method": "m", "params": "{}"}, expiration_time=now_ms() + LONG)
    assert_error(api.get(f"/api/rpc/persistent/{rpc.pk}"), 404)
    assert_error(api.delete(f"/api/rpc/persistent/{rpc.pk}"), 404)
    assert_error(api.get(f"/api/rpc/persistent/device/{theirs.pk}", {"pageSize": 10, "page": 0}), 404)
    for kind in ("oneway", "twoway"):
        assert_error(api.post(f"/api/rpc/{kind}/{theirs.pk}", {"method": "m", "persistent": True}, format="json"), 404)
    assert Rpc.objects.filter(tenant=other_tenant).count() == 1


@pytest.mark.parametrize(("body", "message"), [
    ({"params": {}}, "'method'"), ({"method": "x", "persistent": "yes"}, "'persistent'"),
    ({"method": "x", "timeout": -1}, "'timeout'"), ({"method": "x", "expirationTime": "soon"}, "'expirationTime'"),
    ([1], "JSON object"),
])
def test_bad_two_way_and_persistent_requests_are_400s(api, device, body, message):
    assert_error(api.post(f"/api/rpc/twoway/{device.pk}", body, format="json"), 400, message)
    assert not Rpc.objects.exists()


def test_bad_list_queries_are_400s(api, device):
    assert_error(api.get(f"/api/rpc/persistent/device/{device.pk}"), 400, "pageSize")
    assert_error(api.get(f"/api/rpc/persistent/device/{device.pk}", {"pageSize": 10, "page": 0, "rpcStatus": "DONE"}),
                 400, "rpcStatus")
    assert_error(api.get(f"/api/rpc/persistent/device/{device.pk}",
                         {"pageSize": 10, "page": 0, "sortProperty": "method"}), 400, "sortProperty")
    assert_error(api.get("/api/rpc/persistent/not-a-uuid"), 400)
