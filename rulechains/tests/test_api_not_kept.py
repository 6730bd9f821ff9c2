"""ThingsBoard paths for things this server does not keep answer for themselves, instead of being
taken for `ruleChain/{id}` or `alarm/{entityType}/{entityId}` (a 400 "Invalid UUID string")."""

import uuid

from tbproject.testing.api import assert_error


def test_no_rule_chain_is_auto_assigned_to_edges_until_one_is(api, customer_api):  # answered by edges/
    res = api.get("/api/ruleChain/autoAssignToEdgeRuleChains")
    assert res.status_code == 200 and res.json() == []
    assert customer_api.get("/api/ruleChain/autoAssignToEdgeRuleChains").status_code == 403


def test_alarm_rules_are_not_supported_and_say_what_is(api, customer_api):
    for path in ("/api/alarm/rules", "/api/alarm/rules/names", f"/api/alarm/rule/{uuid.uuid4()}"):
        assert_error(api.get(path, {"pageSize": 10, "page": 0}), 501, "device profile alarm rules")
        assert_error(customer_api.get(path, {"pageSize": 10, "page": 0}), 501)


def test_the_entity_alarm_list_is_still_served(api, tenant):
    from tbproject.testing.factories import make_device

    device = make_device(tenant, "d")
    res = api.get(f"/api/alarm/DEVICE/{device.pk}", {"pageSize": 10, "page": 0})
    assert res.status_code == 200 and res.json()["data"] == []
