"""Alarms of an entity a customer user reaches only through a shared entity group (ThingsBoard: an alarm's
operations need the ALARM resource's operation on its originator; for a group permission the group role's
operations decide). Setup: a tenant device "shared-1" in "Meters", shared with Customer A's "Customer Users"
(READ: "Entity Group Read-only User"; WRITE: "Entity Group Write User", ["ALL"]); an alarm raised on it."""

import pytest

from devices.choices import GroupType
from devices.models import EntityGroup
from roles.models import GroupPermission, Role
from rulechains.alarm_comment_models import AlarmComment
from rulechains.models import Alarm
from tbproject.testing.api import assert_error, snapshot
from tbproject.testing.factories import make_customer, make_device, make_group
from tenants.choices import Authority
from tenants.models import User

PAGE = {"pageSize": 20, "page": 0}


def users_of(customer) -> EntityGroup:
    return EntityGroup.objects.get(customer=customer, type="USER", name="Customer Users")


def share(api, group, customer, *, read: bool) -> None:
    body = {"allUserGroup": False, "userGroupId": {"entityType": "ENTITY_GROUP", "id": str(users_of(customer).pk)},
            "readElseWrite": read}
    assert api.post(f"/api/entityGroup/{group.pk}/share", body, format="json").status_code == 200


@pytest.fixture
def shared(tenant):
    return make_device(tenant, "shared-1")


@pytest.fixture
def meters(tenant, shared):
    return make_group(tenant, "Meters", GroupType.DEVICE, [shared])


@pytest.fixture
def alarm(tenant, shared, customer_user):
    alarm = Alarm.objects.create(tenant=tenant, originator_type="DEVICE", originator_id=shared.pk, type="Overheat",
                                 severity="MAJOR", start_ts=1, end_ts=1, assignee=customer_user, assign_ts=1)
    AlarmComment.objects.create(tenant=tenant, alarm=alarm, user=customer_user, comment={"text": "mine"})
    return alarm


def _comment(alarm):
    return alarm.comments.get(type="OTHER")


#: (method, path under /api/alarm/{id}, body): every change to an alarm
WRITES = {
    "ack": ("post", "/ack", None),
    "clear": ("post", "/clear", None),
    "assign": ("post", "/assign/{user}", None),
    "unassign": ("delete", "/assign", None),
    "comment": ("post", "/comment", {"comment": {"text": "seen"}}),
    "edit comment": ("post", "/comment", {"id": {"id": "{comment}"}, "comment": {"text": "edited"}}),
    "delete comment": ("delete", "/comment/{comment}", None),
    "update": ("post", "", None),
    "delete": ("delete", "", None),
}


def write(client, alarm, name, user):
    method, suffix, body = WRITES[name]
    fill = {"user": user.pk, "comment": _comment(alarm).pk}
    if name == "update":
        return client.post("/api/alarm", {"id": {"entityType": "ALARM", "id": str(alarm.pk)}, "type": "Overheat",
                                          "severity": "CRITICAL"}, format="json")
    if isinstance(body, dict) and "id" in body:
        body = {**body, "id": {"entityType": "ALARM_COMMENT", "id": str(fill["comment"])}}
    path = f"/api/alarm/{alarm.pk}{suffix.format(**fill)}"
    return getattr(client, method)(path, body, format="json") if body else getattr(client, method)(path)


def test_a_read_share_reads_the_alarms_of_the_shared_device(api, customer_api, customer, meters, shared, alarm):
    share(api, meters, customer, read=True)
    assert customer_api.get(f"/api/alarm/{alarm.pk}").json()["type"] == "Overheat"
    assert customer_api.get(f"/api/alarm/info/{alarm.pk}").status_code == 200
    lists = ("/api/alarms", f"/api/alarm/DEVICE/{shared.pk}", "/api/v2/alarms", f"/api/v2/alarm/DEVICE/{shared.pk}")
    for path in lists:
        res = customer_api.get(path, PAGE)
        assert res.status_code == 200, (path, res.content)
        assert [a["id"]["id"] for a in res.json()["data"]] == [str(alarm.pk)], path
    assert customer_api.get(f"/api/alarm/highestSeverity/DEVICE/{shared.pk}").json() == "MAJOR"
    assert customer_api.get(f"/api/alarm/{alarm.pk}/comment", PAGE).json()["totalElements"] == 1
    assert customer_api.get(f"/api/users/assign/{alarm.pk}", PAGE).status_code == 200
    query = {"entityFilter": {"type": "singleEntity", "singleEntity": {"entityType": "DEVICE", "id": str(shared.pk)}},
             "keyFilters": []}
    assert customer_api.post("/api/alarmsQuery/count", query, format="json").json() == 1


@pytest.mark.parametrize("name", list(WRITES))
def test_a_read_share_changes_no_alarm_of_the_shared_device(api, customer_api, customer, customer_user, meters,
                                                            alarm, name):
    share(api, meters, customer, read=True)
    before, comments = snapshot(alarm), sorted(alarm.comments.values_list("type", "comment"))
    assert_error(write(customer_api, alarm, name, customer_user), 403)
    assert snapshot(alarm) == before
    assert sorted(alarm.comments.values_list("type", "comment")) == comments


@pytest.mark.parametrize("name", list(WRITES))
def test_a_write_share_changes_the_alarms_of_the_shared_device(api, customer_api, customer, customer_user, meters,
                                                               alarm, name):
    share(api, meters, customer, read=False)
    res = write(customer_api, alarm, name, customer_user)
    assert res.status_code == 200, res.content
    if name == "delete":
        assert not Alarm.objects.filter(pk=alarm.pk).exists()


def test_a_group_role_without_read_lists_no_alarm(api, customer_api, tenant, customer, meters, shared, alarm):
    role = Role.objects.create(tenant=tenant, name="Commanders", type="GROUP", permissions=["RPC_CALL"])
    GroupPermission.objects.create(tenant=tenant, user_group=users_of(customer), role=role, entity_group=meters)
    assert customer_api.get("/api/alarms", PAGE).json()["data"] == []
    assert_error(customer_api.get(f"/api/alarm/{alarm.pk}"), 404)
    assert_error(customer_api.post(f"/api/alarm/{alarm.pk}/ack"), 404)
    query = {"entityFilter": {"type": "singleEntity", "singleEntity": {"entityType": "DEVICE", "id": str(shared.pk)}},
             "keyFilters": []}
    assert customer_api.post("/api/alarmsQuery/count", query, format="json").json() == 0


def test_without_a_share_the_alarm_stays_unseen_and_own_alarms_keep_the_authoritys_rules(
        api, customer_api, tenant, customer, customer_user, alarm):
    assert_error(customer_api.get(f"/api/alarm/{alarm.pk}"), 404)
    assert_error(customer_api.post(f"/api/alarm/{alarm.pk}/ack"), 404)
    assert customer_api.get("/api/alarms", PAGE).json()["data"] == []
    own = make_device(tenant, "own-1", customer=customer)
    mine = Alarm.objects.create(tenant=tenant, customer=customer, originator_type="DEVICE", originator_id=own.pk,
                                type="Leak")
    assert customer_api.post(f"/api/alarm/{mine.pk}/ack").status_code == 200  # its authority, as before
    assert_error(customer_api.delete(f"/api/alarm/{mine.pk}"), 403)  # "Customer User": no ALARM DELETE
    EntityGroup.objects.get(customer=customer, name="Customer Administrators").users.add(customer_user)
    assert customer_api.delete(f"/api/alarm/{mine.pk}").status_code == 200  # "Customer Administrator": ALL


def test_an_alarm_raised_for_the_customer_on_a_now_shared_device_follows_the_share(api, customer_api, customer,
                                                                                   meters, alarm):
    Alarm.objects.filter(pk=alarm.pk).update(customer=customer)  # raised while the device was the customer's
    share(api, meters, customer, read=True)
    assert_error(customer_api.post(f"/api/alarm/{alarm.pk}/ack"), 403)
    assert_error(customer_api.post(f"/api/alarm/{alarm.pk}/clear"), 403)
    alarm.refresh_from_db()
    assert not alarm.acknowledged and not alarm.cleared


def test_a_shared_alarm_of_another_customers_device_offers_and_assigns_only_the_callers_customers_users(
        api, customer_api, tenant, customer, customer_user):
    """A tenant group holding Customer B's device, shared with Customer A's users: the alarm is B's, yet A's
    user is offered (and may be assigned) only A's users, never B's (their e-mails stay unseen)."""
    other = make_customer(tenant, "Customer B")
    theirs = User.objects.create_user("bob@example.com", authority=Authority.CUSTOMER_USER, tenant=tenant,
                                      customer=other)
    device = make_device(tenant, "b-1", customer=other)
    group = make_group(tenant, "B's meters", GroupType.DEVICE, [device])
    alarm = Alarm.objects.create(tenant=tenant, customer=other, originator_type="DEVICE", originator_id=device.pk,
                                 type="Overheat", severity="MAJOR", start_ts=1, end_ts=1)
    share(api, group, customer, read=True)
    res = customer_api.get(f"/api/users/assign/{alarm.pk}", PAGE)
    assert res.status_code == 200, res.content
    assert [u["email"] for u in res.json()["data"]] == ["carol@example.com"]
    assert {u["email"] for u in api.get(f"/api/users/assign/{alarm.pk}", PAGE).json()["data"]} == {
        "alice@example.com", "bob@example.com"}  # the tenant administrator: B's users, as before
    share(api, group, customer, read=False)  # now WRITE: assigning is allowed, of its own customer's users only
    assert_error(customer_api.post(f"/api/alarm/{alarm.pk}/assign/{theirs.pk}"), 404)
    alarm.refresh_from_db()
    assert alarm.assignee_id is None
    assert customer_api.post(f"/api/alarm/{alarm.pk}/assign/{customer_user.pk}").status_code == 200
