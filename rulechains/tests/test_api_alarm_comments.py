"""Alarm comments at ThingsBoard's paths (POST|GET /api/alarm/{id}/comment, DELETE
/api/alarm/{id}/comment/{commentId}), the SYSTEM comments of alarm actions, and their rules."""

import pytest
from tb_pe_client.models import AlarmComment as ClientComment
from tb_pe_client.models import AlarmCommentInfo, PageDataAlarmCommentInfo

from rulechains import alarms, services
from rulechains.models import AlarmComment
from tbproject.testing.api import assert_error
from tbproject.testing.factories import make_customer, make_device
from tbproject.testing.fixtures import api_as
from tenants.choices import Authority
from tenants.models import User


@pytest.fixture(autouse=True)
def no_rule_engine(monkeypatch):
    monkeypatch.setattr(services, "submit", lambda msgs: None)


@pytest.fixture
def alarm(tenant, customer):
    return alarms.raise_alarm(tenant.pk, "DEVICE", make_device(tenant, "d1", customer=customer).pk, "Leak", "MAJOR",
                              None, 1000)[0]


@pytest.fixture
def named(tenant_admin, customer_user):
    tenant_admin.first_name, tenant_admin.last_name = "Alice", "Smith"
    tenant_admin.save()
    return tenant_admin


def comments(client, alarm, query="pageSize=50&page=0") -> list[dict]:
    res = client.get(f"/api/alarm/{alarm.pk}/comment?{query}")
    assert res.status_code == 200, res.content
    page = PageDataAlarmCommentInfo.from_dict(res.json())
    assert all(isinstance(c, AlarmCommentInfo) for c in page.data)
    return res.json()["data"]


def post(client, alarm, body):
    return client.post(f"/api/alarm/{alarm.pk}/comment", body, format="json")


def test_it_creates_lists_and_edits_a_comment_as_thingsboard(api, named, alarm):
    res = post(api, alarm, {"comment": {"text": "Please take a look"}, "type": "SYSTEM", "userId": None})
    assert res.status_code == 200, res.content
    body = res.json()
    created = ClientComment.from_dict(body)
    assert str(created.alarm_id.id) == str(alarm.pk) and str(created.user_id.id) == str(named.pk)
    assert body["type"] == "OTHER" and body["comment"] == {"text": "Please take a look"}  # a body's type is ignored
    assert body["id"].keys() == {"id"} and body["createdTime"] > 0
    assert body["name"] == '{"text":"Please take a look"}'  # Jackson's toString() of the comment

    [info] = comments(api, alarm)
    assert AlarmCommentInfo.from_dict(info).email == "alice@example.com"
    assert (info["firstName"], info["lastName"], info["email"]) == ("Alice", "Smith", "alice@example.com")

    res = post(api, alarm, {"id": body["id"], "comment": {"text": "Take a look, please"}})
    assert res.status_code == 200, res.content
    edited = res.json()
    assert edited["id"] == body["id"] and edited["createdTime"] == body["createdTime"]
    assert edited["comment"]["text"] == "Take a look, please"
    assert edited["comment"]["edited"] == "true" and edited["comment"]["editedOn"] >= body["createdTime"]
    assert [c["comment"]["text"] for c in comments(api, alarm)] == ["Take a look, please"]


def test_it_pages_and_sorts_comments(api, alarm):
    for n in range(3):
        assert post(api, alarm, {"comment": {"text": f"c{n}"}}).status_code == 200
    AlarmComment.objects.filter(comment__text="c1").update(created_time=1)
    assert [c["comment"]["text"] for c in comments(api, alarm)] == ["c1", "c0", "c2"]
    newest = comments(api, alarm, "pageSize=2&page=0&sortProperty=createdTime&sortOrder=DESC")
    assert [c["comment"]["text"] for c in newest] == ["c2", "c0"]
    res = api.get(f"/api/alarm/{alarm.pk}/comment?pageSize=2&page=1").json()
    assert res["totalElements"] == 3 and res["totalPages"] == 2 and res["hasNext"] is False
    assert_error(api.get(f"/api/alarm/{alarm.pk}/comment?pageSize=2&page=0&sortProperty=text"), 400, "sortProperty")
    assert_error(api.get(f"/api/alarm/{alarm.pk}/comment"), 400, "pageSize")


def test_alarm_actions_leave_thingsboards_system_comments(api, named, customer_user, alarm):
    customer_user.first_name = "Carol"
    customer_user.save()
    assert api.post(f"/api/alarm/{alarm.pk}/ack").status_code == 200
    assert api.post(f"/api/alarm/{alarm.pk}/assign/{customer_user.pk}").status_code == 200
    assert api.delete(f"/api/alarm/{alarm.pk}/assign").status_code == 200
    assert api.post(f"/api/alarm/{alarm.pk}/clear").status_code == 200
    rows = comments(api, alarm)
    assert [c["comment"]["text"] for c in rows] == [
        "Alarm was acknowledged by user Alice Smith", "Alarm was assigned by user Alice Smith to user Carol",
        "Alarm was unassigned by user Alice Smith", "Alarm was cleared by user Alice Smith"]
    assert [c["comment"]["subtype"] for c in rows] == ["ACK", "ASSIGN", "ASSIGN", "CLEAR"]
    assert {c["type"] for c in rows} == {"SYSTEM"}
    assert all(c["comment"]["userId"] == str(named.pk) and c["userId"]["id"] == str(named.pk) for c in rows)
    assert rows[1]["comment"]["assigneeId"] == str(customer_user.pk) and "assigneeId" not in rows[2]["comment"]
    assert rows[0]["email"] == "alice@example.com"
    # nothing changed, nothing noted: acknowledging twice is a 400, unassigning an unassigned alarm a no-op
    assert api.post(f"/api/alarm/{alarm.pk}/ack").status_code == 400
    assert api.delete(f"/api/alarm/{alarm.pk}/assign").status_code == 200
    assert len(comments(api, alarm)) == 4


def test_severity_changes_and_deleted_assignees_are_noted(api, named, tenant, alarm, customer_user):
    alarms.raise_alarm(tenant.pk, "DEVICE", alarm.originator_id, "Leak", "CRITICAL", None, 2000)  # the rule engine
    res = api.post("/api/alarm", {"id": {"entityType": "ALARM", "id": str(alarm.pk)}, "type": "Leak",
                                  "severity": "MINOR"}, format="json")
    assert res.status_code == 200, res.content
    alarms.raise_alarm(tenant.pk, "DEVICE", alarm.originator_id, "Leak", "MINOR", None, 3000)  # unchanged: none
    assert api.post(f"/api/alarm/{alarm.pk}/assign/{customer_user.pk}").status_code == 200
    customer_user.delete()
    rows = comments(api, alarm)
    assert [c["comment"]["text"] for c in rows] == [
        "Alarm severity was updated from MAJOR to CRITICAL", "Alarm severity was updated from CRITICAL to MINOR",
        "Alarm was assigned by user Alice Smith to user carol@example.com",
        "Alarm was unassigned because user carol@example.com - was deleted"]
    assert rows[0]["comment"] == {"text": rows[0]["comment"]["text"], "subtype": "SEVERITY_CHANGED",
                                  "oldSeverity": "MAJOR", "newSeverity": "CRITICAL"}
    assert rows[0]["userId"] is None and rows[1]["userId"]["id"] == str(named.pk)
    assert rows[3]["userId"] is None and rows[3]["comment"]["subtype"] == "ASSIGN"


def test_rule_engine_clears_leave_no_comment(tenant, alarm):
    alarms.clear(alarm, None, 5000)
    alarms.announce(alarm, "ALARM_CLEAR")
    assert not AlarmComment.objects.filter(alarm=alarm).exists()


def test_only_the_author_edits(api, customer_api, named, customer_user, alarm):
    mine = post(customer_api, alarm, {"comment": {"text": "mine"}}).json()
    assert_error(post(api, alarm, {"id": mine["id"], "comment": {"text": "admin's"}}), 403)
    assert api.post(f"/api/alarm/{alarm.pk}/ack").status_code == 200
    system = AlarmComment.objects.get(alarm=alarm, type="SYSTEM")
    assert_error(post(api, alarm, {"id": {"id": str(system.pk)}, "comment": {"text": "x"}}), 400,
                 "System comment could not be edited")
    assert post(customer_api, alarm, {"id": mine["id"], "comment": {"text": "mine, edited"}}).status_code == 200
    assert AlarmComment.objects.get(pk=mine["id"]["id"]).comment["text"] == "mine, edited"


def test_deleting_turns_a_comment_into_a_system_note(api, customer_api, named, customer_user, tenant, customer,
                                                     alarm):
    colleague = User.objects.create_user("dan@example.com", "x", authority=Authority.CUSTOMER_USER, tenant=tenant,
                                         customer=customer)
    first = post(customer_api, alarm, {"comment": {"text": "one"}}).json()
    second = post(customer_api, alarm, {"comment": {"text": "two"}}).json()
    url = f"/api/alarm/{alarm.pk}/comment/"
    assert_error(api_as(colleague).delete(url + first["id"]["id"]), 403)  # not the author, not an admin
    res = customer_api.delete(url + first["id"]["id"])
    assert res.status_code == 200 and res.content == b""
    assert api.delete(url + second["id"]["id"]).status_code == 200  # a tenant administrator may
    rows = comments(api, alarm)
    assert [c["comment"] for c in rows] == [
        {"text": "Comment was deleted by user carol@example.com", "subtype": "COMMENT_DELETED",
         "userName": "carol@example.com"},
        {"text": "Comment was deleted by user Alice Smith", "subtype": "COMMENT_DELETED", "userName": "Alice Smith"}]
    assert all(c["type"] == "SYSTEM" and c["userId"] is None and c["email"] is None for c in rows)
    assert rows[0]["id"] == first["id"] and rows[0]["createdTime"] == first["createdTime"]
    assert_error(api.delete(url + first["id"]["id"]), 400, "System comment could not be deleted")
    assert_error(api.delete(url + "00000000-0000-0000-0000-000000000001"), 404, "is not found")
    assert_error(api.delete(url + "nope"), 400, "Invalid UUID")


def test_tenancy(api, mallory_api, customer_api, tenant, alarm):
    other_customer = make_customer(tenant, "Customer B")
    theirs = alarms.raise_alarm(tenant.pk, "DEVICE", make_device(tenant, "d2", customer=other_customer).pk, "Leak",
                                "MAJOR", None, 1000)[0]
    note = post(api, theirs, {"comment": {"text": "secret"}}).json()
    mine = post(api, alarm, {"comment": {"text": "ok"}}).json()
    for client, target in ((mallory_api, alarm), (customer_api, theirs)):
        assert_error(client.get(f"/api/alarm/{target.pk}/comment?pageSize=5&page=0"), 404)
        assert_error(post(client, target, {"comment": {"text": "x"}}), 404)
        assert_error(client.delete(f"/api/alarm/{target.pk}/comment/{mine['id']['id']}"), 404)
    # a comment of another alarm is not found on this one
    assert_error(api.delete(f"/api/alarm/{alarm.pk}/comment/{note['id']['id']}"), 404)
    assert_error(post(api, alarm, {"id": note["id"], "comment": {"text": "moved"}}), 404)
    assert [c["comment"]["text"] for c in comments(customer_api, alarm)] == ["ok"]  # its customer's alarm
    assert post(customer_api, alarm, {"comment": {"text": "seen"}}).status_code == 200


@pytest.mark.parametrize("body, message", [
    ({}, "Alarm comment should be specified!"),
    ([], "Request body must be a JSON object"),
    ({"comment": None}, "Alarm comment should be specified!"),
    ({"comment": "text"}, "must be a JSON object"),
    ({"comment": {"text": 5}}, "text should be specified"),
    ({"comment": {"text": "   "}}, "text should be specified"),
    ({"comment": {"note": "no text"}}, "text should be specified"),
    ({"comment": {"text": "a\x00b"}}, "NUL"),
    ({"comment": {"text": "ok", "k\x00": 1}}, "NUL"),
    ({"comment": {"text": "x" * 10001}}, "equal or less than 10000"),
    ({"id": "abc", "comment": {"text": "x"}}, "'id' must be a JSON object"),
    ({"id": {"id": "abc"}, "comment": {"text": "x"}}, "Invalid UUID"),
])
def test_bad_input_is_a_400(api, alarm, body, message):
    assert_error(post(api, alarm, body), 400, message)
    assert not AlarmComment.objects.exists()


def test_bad_alarm_ids(api):
    assert_error(api.get("/api/alarm/nope/comment?pageSize=5&page=0"), 400, "Invalid UUID")
    assert_error(post(api, type("A", (), {"pk": "00000000-0000-0000-0000-000000000001"}), {"comment": {"text": "x"}}),
                 404)


def test_comments_go_with_their_alarm(api, alarm):
    post(api, alarm, {"comment": {"text": "x"}})
    assert api.delete(f"/api/alarm/{alarm.pk}").status_code == 200
    assert not AlarmComment.objects.exists()
