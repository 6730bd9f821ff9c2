"""The "calculated fields" rule node (TbCalculatedFieldsNode): fields computed from a message, which is not stored."""

import pytest

from calculated.node import TYPE
from calculated.tests.helpers import attr_arg, latest, save, simple, ts_arg
from rulechains import nodes
from rulechains.tests.helpers import install_root, msg, node, run_node
from tbproject.testing.factories import make_device

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def device(tenant):
    return make_device(tenant, "cf-node-1")


def test_it_is_a_registered_node_type():
    assert TYPE in nodes.NODES and nodes.get_node(TYPE).label == "calculated fields"


def test_it_computes_the_originators_fields_without_storing_the_message(api, tenant, device):
    save(api, simple(device, "a * 2", {"a": ts_arg("a")}, "double"))
    [[out]] = run_node(tenant, TYPE, [msg(tenant, device, data={"a": 21})])
    assert out.relation == "Success" and out.msg.data == {"a": 21}
    assert latest(device, "a", "double") == {"double": 42.0}


def test_the_message_value_stands_in_for_the_stored_one_among_other_arguments(api, tenant, device):
    save(api, simple(device, "a + b", {"a": ts_arg("a"), "b": attr_arg("b", "SHARED_SCOPE")}, "sum"))
    api.post(f"/api/plugins/telemetry/DEVICE/{device.pk}/timeseries/ANY", {"a": 1}, format="json")
    assert latest(device, "sum") == {}  # b has no value yet
    [[out]] = run_node(tenant, TYPE, [msg(tenant, device, "POST_ATTRIBUTES_REQUEST", {"b": 10},
                                          {"scope": "SHARED_SCOPE"})])
    assert out.relation == "Success" and latest(device, "sum") == {"sum": 11.0}
    res = api.get(f"/api/plugins/telemetry/DEVICE/{device.pk}/values/attributes/SHARED_SCOPE")
    assert res.json() == []  # the message's attribute was not stored


@pytest.mark.parametrize("msg_type, data, error", [
    ("ATTRIBUTES_UPDATED", {"a": 1}, "Unsupported msg type: ATTRIBUTES_UPDATED"),
    ("POST_TELEMETRY_REQUEST", "not json", "JSON object or array"),
])
def test_another_type_or_unreadable_data_goes_by_failure(tenant, device, msg_type, data, error):
    [[out]] = run_node(tenant, TYPE, [msg(tenant, device, msg_type, data)])
    assert out.relation == "Failure" and error in out.error


def test_a_chain_with_the_node_saves_through_the_rule_chain_api(api, tenant):
    chain = install_root(tenant, [node(TYPE, "Calculated fields")], [])
    assert chain.pk is not None
    res = api.get(f"/api/ruleChain/{chain.pk}/metadata").json()
    assert [n["type"] for n in res["nodes"]] == [TYPE] and res["nodes"][0]["configuration"] == {}
