"""Alarms after review: an entity's alarm list found through indexes (no OR over all the tenant's
alarms), assignment refusing unreadable users with a 404 that names no one, the acting user in the
ALARM_* messages' metadata, and alarms on entity views."""

import pytest
from django.db import connection

from devices.models import EntityView
from rulechains import alarms, engine, nodes, services
from rulechains.models import Alarm, EntityAlarm
from rulechains.tests.helpers import install_root, msg, node
from tbproject.testing.api import assert_error
from tbproject.testing.factories import make_customer, make_device
from tenants.choices import Authority
from tenants.models import User


@pytest.fixture
def sent(monkeypatch):
    """(msg_type, metadata) of every message queued for the rule engine."""
    messages = []
    monkeypatch.setattr(services, "submit", lambda msgs: messages.extend((m.msg_type, dict(m.metadata))
                                                                        for m in msgs))
    return messages


# -- 1. of_entity: each half by its own index -------------------------------------------------------------------

def test_an_entitys_alarms_are_its_own_and_those_propagated_to_it_by_an_indexed_union(tenant, other_tenant):
    device, other = make_device(tenant, "d1"), make_device(tenant, "d2")
    own = alarms.raise_alarm(tenant.pk, "DEVICE", device.pk, "Own", "MAJOR", None, 1000)[0]
    spread = alarms.raise_alarm(tenant.pk, "DEVICE", other.pk, "Spread", "MINOR", None, 2000)[0]
    alarms.raise_alarm(tenant.pk, "DEVICE", other.pk, "Elsewhere", "MINOR", None, 3000)
    EntityAlarm.objects.create(tenant=tenant, alarm=spread, entity_type="DEVICE", entity_id=device.pk)
    # another tenant's row naming the same entity id lists nothing of theirs here
    theirs = alarms.raise_alarm(other_tenant.pk, "DEVICE", make_device(other_tenant, "m").pk, "X", "MAJOR", None,
                                4000)[0]
    EntityAlarm.objects.create(tenant=other_tenant, alarm=theirs, entity_type="DEVICE", entity_id=device.pk)

    rows = alarms.of_entity(Alarm.objects.filter(tenant_id=tenant.pk), tenant.pk, device.pk)
    assert set(rows.values_list("type", flat=True)) == {"Own", "Spread"} and own in rows

    sql = str(rows.query)
    where = sql.split(" WHERE ", 1)[1]
    assert " OR " not in where.upper() and " UNION " in sql.upper()  # an OR makes PostgreSQL scan every alarm
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            plan_sql, params = rows.query.sql_with_params()
            cursor.execute("EXPLAIN QUERY PLAN " + plan_sql, params)
            plan = " | ".join(str(row[-1]) for row in cursor.fetchall())
        # each half searched by its own index (which side drives the join is the planner's choice by statistics)
        assert "USING INDEX alarm_originator (tenant_id=? AND originator_id=?)" in plan, plan
        assert "USING INDEX entity_alarm_entity (tenant_id=? AND entity_id=?)" in plan, plan


# -- 2. assignment: whom the caller may read, else a 404 that names no one -----------------------------------------

@pytest.fixture
def people(tenant, customer, other_tenant):
    other = make_customer(tenant, "Customer B")
    device = make_device(tenant, "d1", customer=customer)
    return {
        "alarm": alarms.raise_alarm(tenant.pk, "DEVICE", device.pk, "Leak", "MAJOR", None, 1000)[0],
        "stranger": User.objects.create_user("erin@example.com", "x", authority=Authority.CUSTOMER_USER,
                                             tenant=tenant, customer=other),
        "foreign": User.objects.create_user("zed@example.com", "x", authority=Authority.TENANT_ADMIN,
                                            tenant=other_tenant),
    }


def test_an_unreadable_assignee_is_a_404_without_an_email(api, customer_api, tenant_admin, people, sent):
    alarm = people["alarm"]
    for client, user in ((customer_api, people["stranger"]), (customer_api, tenant_admin),
                         (api, people["foreign"])):
        res = client.post(f"/api/alarm/{alarm.pk}/assign/{user.pk}")
        assert_error(res, 404, f"User with id [{user.pk}] is not found")
        assert user.email.encode() not in res.content
    unknown = "0e0e0e0e-0000-4000-8000-000000000000"
    assert_error(api.post(f"/api/alarm/{alarm.pk}/assign/{unknown}"), 404, f"User with id [{unknown}] is not found")
    assert Alarm.objects.get(pk=alarm.pk).assignee_id is None and sent == []
    # a tenant administrator reads every user of its tenant: any may be assigned, as ThingsBoard allows
    res = api.post(f"/api/alarm/{alarm.pk}/assign/{people['stranger'].pk}")
    assert res.status_code == 200, res.content
    assert res.json()["assigneeId"]["id"] == str(people["stranger"].pk)
    # the list of users offered for the alarm is unchanged: administrators and the alarm customer's users
    listed = {u["email"] for u in api.get(f"/api/users/assign/{alarm.pk}?pageSize=50&page=0").json()["data"]}
    assert "erin@example.com" not in listed and tenant_admin.email in listed


# -- 3. the acting user in the messages -----------------------------------------------------------------------------

def test_alarm_messages_carry_the_acting_user(api, customer_api, tenant_admin, customer_user, people, sent):
    tenant_admin.first_name, tenant_admin.last_name = "Ada", "Admin"
    tenant_admin.save()
    alarm = people["alarm"]
    assert api.post(f"/api/alarm/{alarm.pk}/assign/{customer_user.pk}").status_code == 200
    assert api.post(f"/api/alarm/{alarm.pk}/ack").status_code == 200
    assert customer_api.delete(f"/api/alarm/{alarm.pk}/assign").status_code == 200
    assert customer_api.post(f"/api/alarm/{alarm.pk}/clear").status_code == 200
    admin = {"userId": str(tenant_admin.pk), "userName": tenant_admin.email, "userFirstName": "Ada",
             "userLastName": "Admin"}
    carol = {"userId": str(customer_user.pk), "userName": customer_user.email, "userFirstName": "",
             "userLastName": ""}
    assert sent == [("ALARM_ASSIGNED", admin), ("ALARM_ACK", admin), ("ALARM_UNASSIGNED", carol),
                    ("ALARM_CLEAR", carol)]


def test_unassigning_a_deleted_users_alarms_names_no_user(api, customer_user, people, sent):
    alarm = people["alarm"]
    assert api.post(f"/api/alarm/{alarm.pk}/assign/{customer_user.pk}").status_code == 200
    sent.clear()
    customer_user.delete()
    assert sent == [("ALARM_UNASSIGNED", {})]
    assert Alarm.objects.get(pk=alarm.pk).assignee_id is None


# -- 4. entity views ---------------------------------------------------------------------------------------------

@pytest.fixture
def view(tenant, customer):
    device = make_device(tenant, "viewed", customer=customer)
    return EntityView.objects.create(tenant=tenant, name="Boiler view", type="t", entity_type="DEVICE",
                                     entity_id=device.pk, customer=customer)


def test_alarms_on_entity_views_are_raised_and_listed_as_for_devices(tenant, customer, view, api, customer_api,
                                                                     mallory_api, sent):
    install_root(tenant, [
        node(nodes.CREATE_ALARM, "raise", scriptLang="JS", alarmDetailsBuildJs="return {};", alarmType="Hot",
             severity="MAJOR", propagate=False, useMessageAlarmData=False, relationTypes=[]),
    ], [])
    engine.process([msg(tenant, view, kind="ENTITY_VIEW", data={"temperature": 90})])
    [alarm] = Alarm.objects.filter(tenant=tenant)
    assert (alarm.originator_type, alarm.originator_id, alarm.customer_id) == ("ENTITY_VIEW", view.pk, customer.pk)

    for client in (api, customer_api):
        res = client.get(f"/api/alarm/ENTITY_VIEW/{view.pk}?pageSize=10&page=0")
        assert res.status_code == 200, res.content
        [row] = res.json()["data"]
        assert row["originator"] == {"entityType": "ENTITY_VIEW", "id": str(view.pk)}
        assert (row["originatorName"], row["originatorLabel"]) == ("Boiler view", None)
    assert api.get(f"/api/alarm/highestSeverity/ENTITY_VIEW/{view.pk}").json() == "MAJOR"
    assert api.get(f"/api/v2/alarm/ENTITY_VIEW/{view.pk}?pageSize=10&page=0").json()["totalElements"] == 1
    # tenant-scoped: another tenant sees no such view; another customer's user neither
    assert_error(mallory_api.get(f"/api/alarm/ENTITY_VIEW/{view.pk}?pageSize=10&page=0"), 404,
                 f"Entity view with id [{view.pk}] is not found")
    view.customer = make_customer(tenant, "Customer B")
    view.save()
    assert_error(customer_api.get(f"/api/alarm/ENTITY_VIEW/{view.pk}?pageSize=10&page=0"), 404)


def test_an_entity_view_alarm_can_be_saved_through_the_api(api, mallory_api, view):
    body = {"type": "Manual", "severity": "MINOR", "originator": {"entityType": "ENTITY_VIEW", "id": str(view.pk)}}
    res = api.post("/api/alarm", body, format="json")
    assert res.status_code == 200, res.content
    assert res.json()["originator"]["entityType"] == "ENTITY_VIEW"
    assert res.json()["customerId"]["id"] == str(view.customer_id)
    assert_error(mallory_api.post("/api/alarm", body, format="json"), 404)
