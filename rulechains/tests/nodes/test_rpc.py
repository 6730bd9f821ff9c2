"""The RPC call request node: an RPC to the originator device through the integration that serves
it (the node's integrationId, the device's last route, or the tenant's only downlink integration),
Failure with ThingsBoard's reasons otherwise."""

import json

import pytest

from integrations.models import DeviceRoute, OutgoingDownlink
from integrations.tests.factories import make_downlink_converter, make_integration
from rulechains import nodes
from rulechains.models import Rpc
from rulechains.tests.helpers import msg, run_node
from tbproject.testing.factories import make_asset, make_device

RPC = "RPC_CALL_FROM_SERVER_TO_DEVICE"


@pytest.fixture
def device(tenant):
    return make_device(tenant, "valve-1")


def downlink_ready(tenant, name="HTTP out", **extra):
    return make_integration(tenant, name, downlink_converter=make_downlink_converter(tenant, f"{name} enc"), **extra)


def call(tenant, originator, data, **configuration):
    [out] = run_node(tenant, nodes.RPC_CALL_REQUEST, [msg(tenant, originator, RPC, data)], timeoutInSeconds=60,
                     **configuration)
    return out


def test_it_sends_the_call_through_the_tenants_only_downlink_integration(tenant, device):
    integration = downlink_ready(tenant)
    make_integration(tenant, "Uplink only")  # no downlink converter: not a candidate
    [out] = call(tenant, device, {"method": "setGpio", "params": {"pin": 7, "value": 1}})
    assert out.relation == "Success" and out.error is None
    queued = OutgoingDownlink.objects.get(integration=integration)
    assert queued.msg_type == RPC and queued.msg == {"method": "setGpio", "params": '{"pin":7,"value":1}'}
    assert queued.msg_metadata["oneway"] == "true" and queued.msg_metadata["requestUUID"]


def test_the_devices_last_route_or_the_nodes_integration_id_chooses_between_integrations(tenant, device):
    first, second = downlink_ready(tenant, "First"), downlink_ready(tenant, "Second")
    [out] = call(tenant, device, {"method": "reboot", "params": {}})  # none serves it: kept for its HTTP poll
    assert out.relation == "Success" and not OutgoingDownlink.objects.exists()
    assert Rpc.objects.get(pk=out.msg.metadata["requestUUID"]).status == "QUEUED"
    DeviceRoute.objects.create(integration=second, device_name="valve-1", route={"remoteAddress": "10.0.0.7"})
    assert call(tenant, device, {"method": "reboot", "params": {}})[0].relation == "Success"
    assert OutgoingDownlink.objects.filter(integration=second).count() == 1
    assert call(tenant, device, {"method": "reboot", "params": "{}"}, integrationId=str(first.pk))[0].relation == (
        "Success")
    assert OutgoingDownlink.objects.get(integration=first).msg["params"] == "{}"


@pytest.mark.parametrize(("data", "reason"), [
    ({"params": {}}, "Method is not present in the message!"),
    ({"method": "reboot"}, "Params are not present in the message!"),
    ("not json", "Method is not present in the message!"),
])
def test_a_message_without_method_or_params_fails_as_in_thingsboard(tenant, device, data, reason):
    downlink_ready(tenant)
    [out] = call(tenant, device, data if isinstance(data, str) else json.loads(json.dumps(data)))
    assert (out.relation, out.error) == ("Failure", reason)


def test_an_asset_or_a_refusing_integration_fails(tenant, device):
    asset = make_asset(tenant, "pump-house")
    [out] = run_node(tenant, nodes.RPC_CALL_REQUEST, [msg(tenant, asset, RPC, {"method": "m", "params": {}},
                                                          kind="ASSET")])[0]
    assert (out.relation, out.error) == ("Failure", "Message originator is not a device entity!")
    disabled = downlink_ready(tenant, "Off", enabled=False)
    [out] = call(tenant, device, {"method": "m", "params": {}}, integrationId=str(disabled.pk))
    assert (out.relation, out.error) == ("Failure", "Integration 'Off' is disabled")
