"""Alarms propagated to an entity shared with a customer through a group: readable by the customer's users when the
group's roles grant READ (or ALL), when the alarm is the tenant's or the customer's own; a propagation grants READ
only: writes and deletes are decided as before (the originator's share, or the user's own rights for its
customer's alarms) (roles/group_access.py). Setup: a tenant asset "site" in the tenant group "Sites"; an alarm
raised on the tenant's device "pump" (in no shared group) and propagated to the site (its EntityAlarm row)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from devices.choices import GroupType
from devices.models import EntityGroup
from roles.models import GroupPermission, Role
from rulechains.models import Alarm, EntityAlarm
from tbproject.testing.api import assert_error, snapshot
from tbproject.testing.factories import make_asset, make_customer, make_device, make_group

PAGE = {"pageSize": 20, "page": 0}
FIND = "/api/alarmsQuery/find"


def share(api, group, customer, *, read: bool) -> None:
    users = EntityGroup.objects.get(customer=customer, type="USER", name="Customer Users")
    body = {"allUserGroup": False, "userGroupId": {"entityType": "ENTITY_GROUP", "id": str(users.pk)},
            "readElseWrite": read}
    assert api.post(f"/api/entityGroup/{group.pk}/share", body, format="json").status_code == 200


def raise_propagated(tenant, originator, *targets, alarm_type="Overheat") -> Alarm:
    alarm = Alarm.objects.create(tenant=tenant, originator_type="DEVICE", originator_id=originator.pk,
                                 type=alarm_type, severity="MAJOR", start_ts=1, end_ts=1, propagate=True)
    for target in targets:
        EntityAlarm.objects.create(tenant=tenant, alarm=alarm, entity_type="ASSET", entity_id=target.pk)
    return alarm


@pytest.fixture
def site(tenant):
    return make_asset(tenant, "site")


@pytest.fixture
def sites(tenant, site):
    return make_group(tenant, "Sites", GroupType.ASSET, [site])


@pytest.fixture
def pump(tenant):
    return make_device(tenant, "pump")


@pytest.fixture
def alarm(tenant, pump, site):
    return raise_propagated(tenant, pump, site)


def ids(res) -> list[str]:
    assert res.status_code == 200, res.content[:300]
    return [a["id"]["id"] for a in res.json()["data"]]


def test_a_read_share_reads_alarms_propagated_to_the_shared_entity(api, customer_api, customer, sites, site, alarm):
    assert_error(customer_api.get(f"/api/alarm/{alarm.pk}"), 404)  # before the share: unseen
    share(api, sites, customer, read=True)
    assert customer_api.get(f"/api/alarm/{alarm.pk}").json()["type"] == "Overheat"
    assert customer_api.get(f"/api/alarm/info/{alarm.pk}").status_code == 200
    for path in ("/api/alarms", f"/api/alarm/ASSET/{site.pk}", "/api/v2/alarms", f"/api/v2/alarm/ASSET/{site.pk}"):
        assert ids(customer_api.get(path, PAGE)) == [str(alarm.pk)], path
    assert customer_api.get(f"/api/alarm/{alarm.pk}/comment", PAGE).status_code == 200
    single = {"type": "singleEntity", "singleEntity": {"entityType": "ASSET", "id": str(site.pk)}}
    body = {"entityFilter": single, "pageLink": {"pageSize": 10, "page": 0, "searchPropagatedAlarms": True}}
    found = customer_api.post(FIND, body, format="json").json()
    assert [a["id"]["id"] for a in found["data"]] == [str(alarm.pk)]


def test_a_read_share_changes_no_propagated_alarm(api, customer_api, customer, sites, alarm):
    share(api, sites, customer, read=True)
    before = snapshot(alarm)
    assert_error(customer_api.post(f"/api/alarm/{alarm.pk}/ack"), 403)
    assert_error(customer_api.post(f"/api/alarm/{alarm.pk}/clear"), 403)
    assert_error(customer_api.post(f"/api/alarm/{alarm.pk}/comment", {"comment": {"text": "x"}}, format="json"), 403)
    assert_error(customer_api.delete(f"/api/alarm/{alarm.pk}"), 403)
    assert snapshot(alarm) == before and not alarm.comments.exists()


def test_a_write_share_of_the_propagated_to_entity_grants_no_write(api, customer_api, customer, sites, alarm):
    share(api, sites, customer, read=False)  # a propagation grants READ only
    assert customer_api.get(f"/api/alarm/{alarm.pk}").status_code == 200
    before = snapshot(alarm)
    for path in (f"/api/alarm/{alarm.pk}/ack", f"/api/alarm/{alarm.pk}/clear"):
        assert_error(customer_api.post(path), 403)
    assert_error(customer_api.delete(f"/api/alarm/{alarm.pk}"), 403)
    assert snapshot(alarm) == before


def test_a_read_share_of_the_originator_is_not_widened_by_a_write_share_it_propagates_to(
        api, customer_api, tenant, customer, sites, site, pump):
    share(api, sites, customer, read=False)
    share(api, make_group(tenant, "Pumps", GroupType.DEVICE, [pump]), customer, read=True)
    alarm = raise_propagated(tenant, pump, site)
    before = snapshot(alarm)
    assert_error(customer_api.post(f"/api/alarm/{alarm.pk}/ack"), 403)
    assert_error(customer_api.delete(f"/api/alarm/{alarm.pk}"), 403)
    assert snapshot(alarm) == before


def test_another_customers_alarm_propagated_to_a_shared_tenant_asset_stays_hidden(api, customer_api, tenant, customer,
                                                                                 sites, site):
    share(api, sites, customer, read=False)
    theirs = make_device(tenant, "theirs", customer=make_customer(tenant, "Sibling"))
    hidden = raise_propagated(tenant, theirs, site, alarm_type="Theirs")
    hidden.customer_id = theirs.customer_id
    hidden.save(update_fields=["customer"])
    assert_error(customer_api.get(f"/api/alarm/{hidden.pk}"), 404)
    assert_error(customer_api.delete(f"/api/alarm/{hidden.pk}"), 404)
    assert Alarm.objects.filter(pk=hidden.pk).exists()
    for path in ("/api/alarms", f"/api/alarm/ASSET/{site.pk}"):
        assert ids(customer_api.get(path, PAGE)) == [], path
    single = {"type": "singleEntity", "singleEntity": {"entityType": "ASSET", "id": str(site.pk)}}
    body = {"entityFilter": single, "pageLink": {"pageSize": 10, "page": 0, "searchPropagatedAlarms": True}}
    assert customer_api.post(FIND, body, format="json").json()["data"] == []


def test_a_customer_user_without_alarm_delete_deletes_none_of_its_customers_alarms_through_a_share(
        api, customer_api, tenant, customer, sites, site):
    share(api, sites, customer, read=False)
    own = make_device(tenant, "own", customer=customer)
    alarm = raise_propagated(tenant, own, site)
    alarm.customer_id = customer.pk
    alarm.save(update_fields=["customer"])
    assert_error(customer_api.delete(f"/api/alarm/{alarm.pk}"), 403)  # "Customer User": no ALARM DELETE
    assert Alarm.objects.filter(pk=alarm.pk).exists()
    assert customer_api.post(f"/api/alarm/{alarm.pk}/ack").status_code == 200  # its authority, as before


def test_a_group_role_without_read_shows_no_propagated_alarm(customer_api, tenant, customer, sites, alarm):
    role = Role.objects.create(tenant=tenant, name="Commanders", type="GROUP", permissions=["RPC_CALL"])
    users = EntityGroup.objects.get(customer=customer, type="USER", name="Customer Users")
    GroupPermission.objects.create(tenant=tenant, user_group=users, role=role, entity_group=sites)
    assert customer_api.get("/api/alarms", PAGE).json()["data"] == []
    assert_error(customer_api.get(f"/api/alarm/{alarm.pk}"), 404)


def test_an_alarm_propagated_elsewhere_stays_unseen(api, customer_api, tenant, customer, sites, pump):
    share(api, sites, customer, read=True)
    other = make_asset(tenant, "other site")  # in no shared group
    hidden = raise_propagated(tenant, pump, other, alarm_type="Leak")
    assert_error(customer_api.get(f"/api/alarm/{hidden.pk}"), 404)
    assert_error(customer_api.post(f"/api/alarm/{hidden.pk}/ack"), 404)
    assert customer_api.get("/api/alarms", PAGE).json()["data"] == []


def test_another_tenants_alarm_propagated_to_a_like_entity_is_not_found(api, mallory_api, customer, sites, alarm):
    share(api, sites, customer, read=False)
    assert_error(mallory_api.get(f"/api/alarm/{alarm.pk}"), 404)
    assert_error(mallory_api.post(f"/api/alarm/{alarm.pk}/ack"), 404)


def test_a_page_of_propagated_alarms_costs_the_same_queries_whatever_its_length(api, customer_api, tenant, customer,
                                                                             sites, site, pump):
    share(api, sites, customer, read=True)
    raise_propagated(tenant, pump, site, alarm_type="A0")
    customer_api.get("/api/alarms", PAGE)  # warm the caches (rights, user)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert customer_api.get("/api/alarms", PAGE).status_code == 200
        return len(ctx.captured_queries)

    one = count()
    for i in range(1, 6):
        raise_propagated(tenant, make_device(tenant, f"d{i}"), site, alarm_type=f"A{i}")
    assert len(customer_api.get("/api/alarms", PAGE).json()["data"]) == 6
    assert count() == one


def test_the_shared_alarms_are_one_pk_subquery_of_a_union(api, customer_user, customer, sites):
    from roles.group_access import shared_pks

    share(api, sites, customer, read=True)
    sql = str(shared_pks(customer_user, Alarm).query).upper()
    assert "UNION" in sql  # raised on a member, UNION listed for one: each part by its own index
    assert " OR \"RULECHAINS_ALARM\".\"ID\" IN" not in sql  # not ORed with the originator test


def test_the_propagations_a_write_is_decided_by_are_read_without_a_join(api, customer_user, customer, sites, alarm):
    from roles.group_access import row_decides

    share(api, sites, customer, read=False)
    row_decides(customer_user, "WRITE", alarm)  # warm the rights cache
    with CaptureQueriesContext(connection) as ctx:
        assert row_decides(customer_user, "WRITE", alarm) is False  # read through a propagation only
    listed = [q["sql"] for q in ctx.captured_queries if 'FROM "rulechains_entityalarm"' in q["sql"]]
    assert listed and not any("JOIN" in sql for sql in listed), listed
