"""Alarm assignment at ThingsBoard's paths (POST/DELETE /api/alarm/{id}/assign, GET
/api/users/assign/{id}), the assignee in every alarm answer, and assigneeId filtering."""

import pytest
from tb_pe_client.models import Alarm as ClientAlarm
from tb_pe_client.models import AlarmInfo, PageDataUserEmailInfo

from rulechains import alarms, services
from rulechains.models import Alarm
from tbproject.testing.api import assert_error
from tbproject.testing.factories import make_customer, make_device
from tbproject.testing.fixtures import api_as
from tenants.choices import Authority
from tenants.models import User

FIND = "/api/alarmsQuery/find"


@pytest.fixture
def sent(monkeypatch):
    """The (msg_type, alarm id) of every message queued for the rule engine."""
    messages = []
    monkeypatch.setattr(services, "submit", lambda msgs: messages.extend((m.msg_type, m.data["id"]["id"])
                                                                        for m in msgs))
    return messages


@pytest.fixture
def world(tenant, customer, customer_user, tenant_admin):
    customer_user.first_name, customer_user.last_name = "Carol", "Ng"
    customer_user.save()
    other = make_customer(tenant, "Customer B")
    return {
        "mine": alarms.raise_alarm(tenant.pk, "DEVICE", make_device(tenant, "d1", customer=customer).pk, "Leak",
                                   "MAJOR", None, 1000)[0],
        "theirs": alarms.raise_alarm(tenant.pk, "DEVICE", make_device(tenant, "d2", customer=other).pk, "Leak",
                                     "MINOR", None, 2000)[0],
        "unowned": alarms.raise_alarm(tenant.pk, "DEVICE", make_device(tenant, "d3").pk, "Leak", "CRITICAL", None,
                                      3000)[0],
        "colleague": User.objects.create_user("dan@example.com", "x", authority=Authority.CUSTOMER_USER,
                                              tenant=tenant, customer=customer),
        "stranger": User.objects.create_user("erin@example.com", "x", authority=Authority.CUSTOMER_USER,
                                             tenant=tenant, customer=other),
        "admin2": User.objects.create_user("bob@example.com", "x", authority=Authority.TENANT_ADMIN, tenant=tenant),
    }


def assign(client, alarm, user):
    return client.post(f"/api/alarm/{alarm.pk}/assign/{user.pk}")


def test_it_assigns_and_unassigns_with_thingsboards_fields(api, world, customer_user, sent):
    alarm = world["mine"]
    res = assign(api, alarm, customer_user)
    assert res.status_code == 200, res.content
    body = res.json()
    ClientAlarm.from_dict(body)
    assert body["assigneeId"] == {"entityType": "USER", "id": str(customer_user.pk)} and body["assignTs"] > 0
    assert body["assignee"] == {"id": {"entityType": "USER", "id": str(customer_user.pk)}, "firstName": "Carol",
                                "lastName": "Ng", "email": "carol@example.com"}
    info = AlarmInfo.from_dict(api.get(f"/api/alarm/info/{alarm.pk}").json())
    assert info.assignee.email == "carol@example.com" and str(info.assignee_id.id) == str(customer_user.pk)
    assert api.get(f"/api/alarm/{alarm.pk}").json()["assigneeId"]["id"] == str(customer_user.pk)
    listed = api.get("/api/alarms?pageSize=10&page=0").json()["data"]
    assert [a["assignee"]["firstName"] if a["assignee"] else None for a in listed] == [None, None, "Carol"]
    assert sent == [("ALARM_ASSIGNED", str(alarm.pk))]
    assert assign(api, alarm, customer_user).status_code == 200 and len(sent) == 1  # the same: nothing changes

    res = api.delete(f"/api/alarm/{alarm.pk}/assign")
    assert res.status_code == 200, res.content
    body = res.json()
    assert body["assigneeId"] is None and body["assignee"] is None and body["assignTs"] >= 1
    assert sent[-1] == ("ALARM_UNASSIGNED", str(alarm.pk))
    assert api.delete(f"/api/alarm/{alarm.pk}/assign").status_code == 200 and len(sent) == 2


def test_customer_users_take_their_customers_alarms_only(api, customer_api, world, customer_user, tenant_admin,
                                                         sent):
    # a tenant administrator may assign any user of its tenant (ThingsBoard checks it may read the user)
    assert assign(api, world["theirs"], customer_user).status_code == 200
    assert assign(api, world["unowned"], customer_user).status_code == 200
    assert assign(api, world["theirs"], world["stranger"]).status_code == 200
    assert assign(api, world["unowned"], world["admin2"]).status_code == 200
    # a customer user assigns among its customer's users; any other user is one it cannot read: a 404
    assert assign(customer_api, world["mine"], world["colleague"]).status_code == 200
    assert_error(assign(customer_api, world["mine"], tenant_admin), 404, "User with id")
    assert_error(assign(customer_api, world["mine"], world["stranger"]), 404, "User with id")
    assert_error(assign(customer_api, world["theirs"], customer_user), 404)  # not its alarm
    assert customer_api.delete(f"/api/alarm/{world['mine'].pk}/assign").status_code == 200
    assert_error(customer_api.delete(f"/api/alarm/{world['theirs'].pk}/assign"), 404)


def test_another_tenants_alarm_or_user_is_a_404_and_bad_ids_a_400(api, mallory_api, mallory, world, customer_user):
    assert_error(assign(mallory_api, world["mine"], mallory), 404, "Alarm with id")
    assert_error(assign(api, world["mine"], mallory), 404, "User with id")
    assert_error(mallory_api.delete(f"/api/alarm/{world['mine'].pk}/assign"), 404)
    assert_error(mallory_api.get(f"/api/users/assign/{world['mine'].pk}?pageSize=10&page=0"), 404)
    assert_error(api.post(f"/api/alarm/{world['mine'].pk}/assign/nope"), 400, "nope")
    assert_error(api.post(f"/api/alarm/nope/assign/{customer_user.pk}"), 400, "nope")
    assert_error(api.get("/api/alarms?pageSize=10&page=0&assigneeId=nope"), 400, "nope")
    assert Alarm.objects.filter(assignee__isnull=False).count() == 0


def test_it_lists_the_users_an_alarm_may_be_assigned_to(api, customer_api, world, tenant_admin, customer_user):
    def emails(client, alarm, extra=""):
        res = client.get(f"/api/users/assign/{alarm.pk}?pageSize=10&page=0{extra}")
        assert res.status_code == 200, res.content
        page = res.json()
        PageDataUserEmailInfo.from_dict(page)
        return [u["email"] for u in page["data"]]

    assert emails(api, world["mine"]) == ["alice@example.com", "bob@example.com", "carol@example.com",
                                          "dan@example.com"]
    assert emails(api, world["unowned"]) == ["alice@example.com", "bob@example.com"]
    assert emails(api, world["mine"], "&textSearch=ng") == ["carol@example.com"]  # last name
    assert emails(customer_api, world["mine"]) == ["carol@example.com", "dan@example.com"]
    page = api.get(f"/api/users/assign/{world['mine'].pk}?pageSize=1&page=0&sortProperty=email&sortOrder=DESC").json()
    assert page["data"][0] == {"id": {"entityType": "USER", "id": str(world["colleague"].pk)},
                               "email": "dan@example.com", "firstName": None, "lastName": None}
    assert page["totalElements"] == 4 and page["hasNext"]


def test_lists_and_queries_filter_by_assignee(api, world, customer_user, tenant, customer):
    assign(api, world["mine"], customer_user)
    assign(api, world["unowned"], world["admin2"])
    device = world["mine"].originator_id
    assert [a["id"]["id"] for a in api.get(f"/api/alarms?pageSize=10&page=0&assigneeId={customer_user.pk}").json()[
        "data"]] == [str(world["mine"].pk)]
    assert api.get(f"/api/v2/alarms?pageSize=10&page=0&assigneeId={world['admin2'].pk}").json()["totalElements"] == 1
    assert api.get(f"/api/alarm/DEVICE/{device}?pageSize=10&page=0&assigneeId={world['admin2'].pk}").json()[
        "totalElements"] == 0
    assert api.get(f"/api/alarm/highestSeverity/DEVICE/{device}?assigneeId={customer_user.pk}").json() == "MAJOR"
    assert api.get(f"/api/alarm/highestSeverity/DEVICE/{device}?assigneeId={world['admin2'].pk}").json() is None

    devices = {"type": "entityType", "entityType": "DEVICE"}
    fields = [{"type": "ALARM_FIELD", "key": k} for k in ("type", "assigneeEmail")]
    body = {"entityFilter": devices, "alarmFields": fields,
            "pageLink": {"pageSize": 10, "page": 0, "assigneeId": {"entityType": "USER", "id": str(customer_user.pk)}}}
    page = api.post(FIND, body, format="json").json()
    assert [a["id"]["id"] for a in page["data"]] == [str(world["mine"].pk)]
    assert page["data"][0]["assignee"]["email"] == "carol@example.com"
    by_email = {"entityFilter": devices, "alarmFields": fields, "pageLink": {
        "pageSize": 10, "page": 0, "sortOrder": {"key": {"type": "ALARM_FIELD", "key": "assigneeEmail"},
                                                 "direction": "DESC"}}}
    emails = [a["assignee"] and a["assignee"]["email"] for a in api.post(FIND, by_email, format="json").json()["data"]]
    # unassigned first in DESC, as PostgreSQL (ThingsBoard's database) orders NULLs, on SQLite too
    assert emails[-2:] == ["carol@example.com", "bob@example.com"] and set(emails[:-2]) == {None}
    ascending = {**by_email, "pageLink": {**by_email["pageLink"], "sortOrder": {
        "key": {"type": "ALARM_FIELD", "key": "assigneeEmail"}, "direction": "ASC"}}}
    emails = [a["assignee"] and a["assignee"]["email"] for a in api.post(FIND, ascending, format="json").json()["data"]]
    assert emails[:2] == ["bob@example.com", "carol@example.com"] and set(emails[2:]) == {None}
    searched = {**by_email, "pageLink": {"pageSize": 10, "page": 0, "textSearch": "bob@"}}
    assert api.post(FIND, searched, format="json").json()["totalElements"] == 1
    count = {"entityFilter": devices, "assigneeId": {"entityType": "USER", "id": str(world["admin2"].pk)}}
    assert api.post("/api/alarmsQuery/count", count, format="json").json() == 1


def test_deleting_a_user_unassigns_its_alarms(api, world, customer_user, sent):
    assign(api, world["mine"], customer_user)
    before = Alarm.objects.get(pk=world["mine"].pk).assign_ts
    customer_user.delete()
    alarm = Alarm.objects.get(pk=world["mine"].pk)
    assert alarm.assignee_id is None and alarm.assign_ts >= before
    assert sent[-1] == ("ALARM_UNASSIGNED", str(alarm.pk))
    assert api_as(world["colleague"]).get(f"/api/alarm/info/{alarm.pk}").json()["assignee"] is None
