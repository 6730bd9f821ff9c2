"""The "All" group and bad data queries: clear answers for what this server does not do. (Two-way
and persistent RPC are served: rulechains/tests/test_api_rpc.py.)"""

from tbproject.testing.api import assert_error
from tbproject.testing.factories import make_device


def test_data_queries_are_served_and_bad_ones_are_400s(api):
    # entity and alarm data queries are served (devices/tests/test_entity_queries.py,
    # rulechains/tests/test_alarm_data_queries.py): a bad one is a 400, not a 501
    for path in ("alarmsQuery/find", "alarmsQuery/count", "entitiesQuery/count"):
        assert_error(api.post(f"/api/{path}", {"entityFilter": {}}, format="json"), 400)
    assert_error(api.post("/api/entitiesQuery/count", {"entityFilter": {}}, format="json"), 400, "entity filter")


def test_device_credentials_are_served_after_the_tenancy_check(api, tenant, other_tenant):
    # served since devices have credentials (devices/tests/test_device_credentials.py): no 501 left
    device = make_device(tenant, "creds")
    assert api.get(f"/api/device/{device.pk}/credentials").json()["credentialsType"] == "ACCESS_TOKEN"
    assert_error(api.get(f"/api/device/{make_device(other_tenant, 'theirs').pk}/credentials"), 404)


def test_the_all_group_of_an_owner_is_served_after_the_owner_check(api, tenant, customer, other_tenant):
    from tbproject.testing.factories import make_customer

    for owner_type, owner in (("TENANT", tenant), ("CUSTOMER", customer)):  # devices/all_groups.py
        assert api.get(f"/api/entityGroup/all/{owner_type}/{owner.pk}/DEVICE").json()["groupAll"] is True
    assert_error(api.get(f"/api/entityGroup/all/TENANT/{other_tenant.pk}/DEVICE"), 404)
    assert_error(api.get(f"/api/entityGroup/all/CUSTOMER/{make_customer(other_tenant, 'x').pk}/DEVICE"), 404)
