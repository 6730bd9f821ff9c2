"""Hostile input across node types: another tenant's originator through a test run, numbers
beyond a double."""

import pytest

from rulechains import nodes
from rulechains.tests.helpers import msg, node, run_node
from tbproject.testing.factories import make_device

_TB = "org.thingsboard.rule.engine."
HUGE = 10**400  # a JSON integer Python keeps exactly; float() of it raises OverflowError


# --- a test run ("Test this chain") with another tenant's originator ---------------------------------

def _test_run(api, originator: dict | None):
    metadata = {"firstNodeIndex": 0, "nodes": [
        node(_TB + "metadata.TbGetAttributesNode", "attributes", serverAttributeNames=["apiKey"],
             fetchTo="METADATA")], "connections": []}
    created = api.post("/api/ruleChain", {"name": "tested", "type": "CORE"}, format="json").json()
    body = {"metadata": metadata, "msg": {"data": {"t": 1}, **({"originator": originator} if originator else {})}}
    return api.post(f"/api/ruleChain/{created['id']['id']}/test", body, format="json")


def test_a_test_run_refuses_another_tenants_originator_as_not_found(api, tenant, other_tenant):
    theirs, mine = make_device(other_tenant, "victim"), make_device(tenant, "mine")
    refused = _test_run(api, {"entityType": "DEVICE", "id": str(theirs.pk)})
    assert refused.status_code == 404, refused.content
    assert refused.json()["message"] == f"Device with id [{theirs.pk}] is not found"
    missing = _test_run(api, {"entityType": "DEVICE", "id": "5f2c1a34-0000-4000-8000-000000000000"})
    assert missing.status_code == 404  # the same answer: another tenant's id is not told apart
    assert _test_run(api, {"entityType": "TENANT", "id": str(other_tenant.pk)}).status_code == 404
    assert _test_run(api, {"entityType": "DEVICE", "id": str(mine.pk)}).status_code == 200
    assert _test_run(api, {"entityType": "TENANT", "id": str(tenant.pk)}).status_code == 200
    assert _test_run(api, None).status_code == 200  # no originator: a fresh id, as before


# --- integers beyond a double ---------------------------------------------------------------------

def test_math_over_an_integer_beyond_a_double_fails_that_message(tenant):
    defaults = nodes.get_node(_TB + "math.TbMathNode").defaults
    outs = run_node(tenant, _TB + "math.TbMathNode", [msg(tenant, data={"temperature": HUGE}),
                                                      msg(tenant, data={"temperature": 50})], **defaults)
    assert [o.relation for [o] in outs] == ["Failure", "Success"]
    assert "out of its range" in outs[0][0].error and outs[1][0].msg.data["temperatureCelsius"] == 10


def test_delta_over_an_integer_beyond_a_double_fails_that_message(tenant):
    device = make_device(tenant, "meter")
    outs = run_node(tenant, _TB + "metadata.CalculateDeltaNode",
                    [msg(tenant, device, data={"v": HUGE}), msg(tenant, device, data={"v": 2})],
                    inputValueKey="v", outputValueKey="d", useCache=False)
    assert [o.relation for [o] in outs] == ["Failure", "Success"] and "out of its range" in outs[0][0].error


@pytest.mark.parametrize("kind", ["geo.TbGpsGeofencingFilterNode", "geo.TbGpsGeofencingActionNode"])
def test_geofencing_a_coordinate_beyond_a_double_fails_that_message(tenant, kind):
    device = make_device(tenant, "tracker")
    outs = run_node(tenant, _TB + kind, [msg(tenant, device, data={"latitude": HUGE, "longitude": 1}),
                                         msg(tenant, device, data={"latitude": 1.0, "longitude": 1.0})],
                    perimeterType="CIRCLE", centerLatitude=1.0, centerLongitude=1.0, range=10, rangeUnit="KILOMETER",
                    fetchPerimeterInfoFromMessageMetadata=False)
    assert outs[0][0].relation == "Failure" and "out of the range of a double" in outs[0][0].error
    assert outs[1][0].relation != "Failure"
