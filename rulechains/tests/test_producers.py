"""What produces rule-engine messages from the API: attribute saves and one-way RPC."""

import json

import pytest

from rulechains import nodes
from rulechains.tests.helpers import events_of, install_root, node
from tbproject.testing.api import assert_error
from tbproject.testing.factories import make_device

TELEMETRY = "/api/plugins/telemetry"


@pytest.fixture
def device(tenant, customer):
    return make_device(tenant, "valve-7", customer=customer)


@pytest.fixture
def seen(tenant):
    """A root chain: type switch -> a debug log node per relation of interest; returns arrivals by relation."""
    relations = ["Attributes Updated", "RPC Request to Device", "Post attributes"]
    chain = install_root(tenant, [node(nodes.SWITCH), *[node(nodes.LOG, r, True) for r in relations]],
                         [(0, i + 1, r) for i, r in enumerate(relations)])
    logs = {n.name: n for n in chain.nodes.exclude(index=0)}
    return lambda relation: events_of(logs[relation], "IN")


def test_shared_attributes_saved_through_the_api_emit_attributes_updated(api, device, seen):
    res = api.post(f"{TELEMETRY}/DEVICE/{device.pk}/attributes/SHARED_SCOPE",
                   json.dumps({"temperatureUploadFrequency": 30}), content_type="text/plain")
    assert res.status_code == 200, res.content
    [event] = seen("Attributes Updated")
    assert event["msgType"] == "ATTRIBUTES_UPDATED" and event["entityId"] == str(device.pk)
    assert json.loads(event["data"]) == {"temperatureUploadFrequency": 30}
    assert json.loads(event["metadata"]) == {"scope": "SHARED_SCOPE", "deviceName": "valve-7", "deviceType": "default"}


def test_server_attributes_emit_it_too_and_client_scope_is_refused_before(api, device, seen):
    api.post(f"{TELEMETRY}/DEVICE/{device.pk}/SERVER_SCOPE", {"site": "n"}, format="json")
    assert json.loads(seen("Attributes Updated")[0]["metadata"])["scope"] == "SERVER_SCOPE"
    assert_error(api.post(f"{TELEMETRY}/DEVICE/{device.pk}/attributes/CLIENT_SCOPE", {"a": 1}, format="json"), 400)
    assert len(seen("Attributes Updated")) == 1


def test_one_way_rpc_emits_an_rpc_call_to_the_device(api, device, seen):
    res = api.post(f"/api/rpc/oneway/{device.pk}", {"method": "setGpio", "params": {"pin": 7, "value": 1}},
                   format="json")
    assert res.status_code == 200, res.content
    [event] = seen("RPC Request to Device")
    assert event["msgType"] == "RPC_CALL_FROM_SERVER_TO_DEVICE"
    data = json.loads(event["data"])
    assert data["method"] == "setGpio" and json.loads(data["params"]) == {"pin": 7, "value": 1}
    metadata = json.loads(event["metadata"])
    assert metadata["oneway"] == "true" and metadata["deviceName"] == "valve-7" and metadata["requestUUID"]
    assert int(metadata["expirationTime"]) > 0


def test_the_older_rpc_path_and_customer_users_of_the_device_work(customer_api, device, seen):
    res = customer_api.post(f"/api/plugins/rpc/oneway/{device.pk}", json.dumps({"method": "reboot"}),
                            content_type="text/plain")
    assert res.status_code == 200, res.content
    [event] = seen("RPC Request to Device")
    assert json.loads(event["data"]) == {"method": "reboot", "params": "{}"}


def test_rpc_to_another_tenants_device_is_not_found(api, other_tenant, seen):
    foreign = make_device(other_tenant, "theirs")
    assert_error(api.post(f"/api/rpc/oneway/{foreign.pk}", {"method": "x"}, format="json"), 404)
    assert seen("RPC Request to Device") == []


@pytest.mark.parametrize("body, message", [
    ({"params": {}}, "'method'"), ({"method": ""}, "'method'"), ({"method": "x", "persistent": "yes"}, "'persistent'"),
    ({"method": "x", "timeout": "soon"}, "'timeout'"), ([1], "JSON object"),
])
def test_bad_rpc_requests_are_refused(api, device, seen, body, message):
    assert_error(api.post(f"/api/rpc/oneway/{device.pk}", body, format="json"), 400, message)
    assert seen("RPC Request to Device") == []
