"""Requests reach each recipient's inbox (WEB) and mailbox (EMAIL) with ThingsBoard's template
parameters substituted; the inbox API; user settings; delayed sending by the periodic job."""

import pytest
from django.core import mail

from notifications import sending
from notifications.models import Notification, NotificationRequest
from notifications.tests.helpers import WEB_EMAIL, send, template, users_target
from tbproject.periodic import JOBS, PeriodicRunner
from tbproject.testing.fixtures import api_as
from tenants.choices import Authority
from tenants.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def bob(tenant):
    return User.objects.create_user("bob@example.com", "x", authority=Authority.TENANT_ADMIN, tenant=tenant,
                                    first_name="Bob", last_name="Builder")


def test_a_user_list_request_reaches_each_inbox_with_parameters(api, tenant_admin, customer_user, bob):
    target = users_target(api, "Two", {"type": "USER_LIST", "usersIds": [str(customer_user.pk), str(bob.pk)]})
    tpl = template(api)
    res = send(api, [target["id"]["id"]], tpl["id"]["id"])
    assert res.status_code == 200, res.content
    body = res.json()
    assert body["status"] == "SENT" and body["stats"]["sent"] == {"WEB": 2} and body["stats"]["totalSent"] == 2
    row = Notification.objects.get(recipient=bob)
    assert row.subject == "Hello Bob"
    assert row.text == "Dear Bob Builder (bob@example.com): ${alarmType:upperCase} ${unknownParam}"
    assert row.type == "GENERAL" and row.status == "SENT"
    # the customer user reads its own inbox
    carol = api_as(customer_user)
    page = carol.get("/api/notifications", {"pageSize": 10, "page": 0}).json()
    assert [n["subject"] for n in page["data"]] == ["Hello "]  # carol has no first name
    assert page["data"][0]["recipientId"]["id"] == str(customer_user.pk)
    assert carol.get("/api/notifications/unread/count").json() == 1
    # nobody else's notification is reachable
    assert api.put(f"/api/notification/{row.pk}/read").status_code == 404
    assert api.delete(f"/api/notification/{row.pk}").status_code == 404
    assert api.get("/api/notifications/unread/count").json() == 0
    mine = page["data"][0]["id"]["id"]
    assert carol.put(f"/api/notification/{mine}/read").status_code == 200
    assert carol.get("/api/notifications/unread/count").json() == 0
    assert carol.get("/api/notifications", {"pageSize": 10, "page": 0, "unreadOnly": "true"}).json()[
        "totalElements"] == 0
    assert carol.delete(f"/api/notification/{mine}").status_code == 200
    assert carol.get("/api/notifications", {"pageSize": 10, "page": 0}).json()["totalElements"] == 0


def test_tenant_administrators_get_it_and_read_all(api, tenant_admin, bob, mallory, customer_user):
    target = users_target(api, "Admins", {"type": "TENANT_ADMINISTRATORS"})
    tpl = template(api)
    for _ in range(3):
        assert send(api, [target["id"]["id"]], tpl["id"]["id"]).status_code == 200
    assert Notification.objects.filter(recipient=mallory).count() == 0  # another tenant's admin
    assert Notification.objects.filter(recipient=customer_user).count() == 0
    assert api.get("/api/notifications/unread/count").json() == 3
    bob_api = api_as(bob)
    assert bob_api.get("/api/notifications/unread/count").json() == 3
    page = bob_api.get("/api/notifications", {"pageSize": 2, "page": 0, "textSearch": "bob builder",
                                              "sortProperty": "createdTime", "sortOrder": "DESC"}).json()
    assert page["totalElements"] == 3 and page["hasNext"] is True
    assert bob_api.put("/api/notifications/read").status_code == 200
    assert bob_api.get("/api/notifications/unread/count").json() == 0
    assert api.get("/api/notifications/unread/count").json() == 3  # only bob's were read
    requests = api.get("/api/notification/requests", {"pageSize": 10, "page": 0}).json()
    assert requests["totalElements"] == 3 and requests["data"][0]["templateName"] == "greeting"
    first = requests["data"][0]["id"]["id"]
    assert api.get(f"/api/notification/request/{first}").json()["deliveryMethods"] == ["WEB"]
    assert api.delete(f"/api/notification/request/{first}").status_code == 200
    assert api.get("/api/notifications/unread/count").json() == 2  # its notifications went with it


def test_email_is_really_sent(api, tenant_admin, bob, django_capture_on_commit_callbacks):
    config = {"deliveryMethodsTemplates": {**WEB_EMAIL["deliveryMethodsTemplates"],
                                           "EMAIL": {**WEB_EMAIL["deliveryMethodsTemplates"]["EMAIL"],
                                                     "enabled": True}}}
    tpl = template(api, "mail", configuration=config)
    target = users_target(api, "Bob", {"type": "USER_LIST", "usersIds": [str(bob.pk)]})
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True) as queued:
        body = send(api, [target["id"]["id"]], tpl["id"]["id"]).json()
    assert body["stats"]["sent"] == {"WEB": 1}  # the e-mails go in a task queued on commit
    assert len(queued) == 1
    stats = api.get(f"/api/notification/request/{body['id']['id']}").json()["stats"]
    assert stats["sent"] == {"WEB": 1, "EMAIL": 1} and stats["totalSent"] == 2
    assert [m.to for m in mail.outbox] == [["bob@example.com"]]
    assert mail.outbox[0].subject == "Mail for Builder"
    assert mail.outbox[0].alternatives[0][0] == "<p>Hi Bob</p>" and mail.outbox[0].body == "Hi Bob"


def test_unconfigured_methods_are_errors_not_deliveries(api, bob, django_capture_on_commit_callbacks):
    config = {"deliveryMethodsTemplates": {
        "SMS": {"method": "SMS", "body": "sms ${recipientFirstName}"},
        "SLACK": {"method": "SLACK", "body": "slack"},
        "WEB": {"method": "WEB", "subject": "s", "body": "b"}}}
    tpl = template(api, "many", configuration=config)
    users = users_target(api, "Bob", {"type": "USER_LIST", "usersIds": [str(bob.pk)]})
    slack = api.post("/api/notification/target", {"name": "Slack", "configuration": {
        "type": "SLACK", "conversationType": "PUBLIC_CHANNEL", "conversation": {"id": "C1", "title": "#ops"}}},
        format="json").json()
    with django_capture_on_commit_callbacks(execute=True):
        sent = send(api, [users["id"]["id"], slack["id"]["id"]], tpl["id"]["id"]).json()
    assert "not configured" in sent["stats"]["errors"]["SMS"]["bob@example.com"]  # known at once
    stats = NotificationRequest.objects.get(pk=sent["id"]["id"]).stats  # Slack: the task's (no bot token)
    assert stats["sent"] == {"WEB": 1} and stats["totalErrors"] == 2
    assert "not configured" in stats["errors"]["SLACK"]["Slack"]


def test_an_inline_template_and_the_preview(api, tenant_admin, bob):
    target = users_target(api, "Admins", {"type": "TENANT_ADMINISTRATORS"})
    inline = {"notificationType": "GENERAL", "configuration": {"deliveryMethodsTemplates": {
        "WEB": {"method": "WEB", "subject": "To ${recipientEmail}", "body": "hi"}}}}
    preview = api.post("/api/notification/request/preview?recipientsPreviewSize=1",
                       {"targets": [target["id"]["id"]], "template": inline}, format="json").json()
    assert preview["totalRecipientsCount"] == 2 and preview["recipientsCountByTarget"] == {target["id"]["id"]: 2}
    assert preview["processedTemplates"]["WEB"]["subject"] == "To alice@example.com"
    assert preview["recipientsPreview"] == ["alice@example.com"]
    sent = api.post("/api/notification/request", {"targets": [target["id"]["id"]], "template": inline},
                    format="json")
    assert sent.status_code == 200 and sent.json()["stats"]["totalSent"] == 2


def test_a_switched_off_method_skips_that_user(api, tenant_admin, bob):
    bob_api = api_as(bob)
    prefs = bob_api.get("/api/notification/settings/user").json()["prefs"]
    assert prefs["ALARM"]["enabledDeliveryMethods"]["WEB"] is True
    saved = bob_api.post("/api/notification/settings/user", {"prefs": {"GENERAL": {
        "enabled": True, "enabledDeliveryMethods": {"WEB": False}}}}, format="json")
    assert saved.status_code == 200 and saved.json()["prefs"]["GENERAL"]["enabledDeliveryMethods"]["WEB"] is False
    target = users_target(api, "Admins", {"type": "TENANT_ADMINISTRATORS"})
    stats = send(api, [target["id"]["id"]], template(api)["id"]["id"]).json()["stats"]
    assert stats["sent"] == {"WEB": 1}
    assert Notification.objects.filter(recipient=bob).count() == 0
    assert Notification.objects.filter(recipient=tenant_admin).count() == 1
    bad = bob_api.post("/api/notification/settings/user", {"prefs": {"GENERAL": {"enabledDeliveryMethods":
                                                                                 {"PIGEON": True}}}}, format="json")
    assert bad.status_code == 400


def test_a_delayed_request_is_sent_by_the_periodic_job(api, tenant_admin):
    target = users_target(api, "Admins", {"type": "TENANT_ADMINISTRATORS"})
    res = send(api, [target["id"]["id"]], template(api)["id"]["id"], additionalConfig={"sendingDelayInSec": 60})
    assert res.json()["status"] == "SCHEDULED"
    assert Notification.objects.count() == 0
    assert sending.send_due() == 0  # not due yet
    request = NotificationRequest.objects.get()
    NotificationRequest.objects.filter(pk=request.pk).update(send_at=request.send_at - 61_000)
    job = next(j for j in JOBS if j.path == "notifications.tasks.send_scheduled")
    assert PeriodicRunner([job], first_delay=0).run_due() == [job.path]
    request.refresh_from_db()
    assert request.status == "SENT" and request.stats["sent"] == {"WEB": 1}
    assert Notification.objects.filter(recipient=tenant_admin).count() == 1
    assert sending.send_due() == 0  # sent once


def test_bad_requests_are_400_and_foreign_ids_404(api, mallory_api):
    target = users_target(api, "Admins", {"type": "TENANT_ADMINISTRATORS"})
    tpl = template(api)
    theirs = users_target(mallory_api, "Theirs", {"type": "ALL_USERS"})
    their_tpl = template(mallory_api, "Theirs")
    assert send(api, [theirs["id"]["id"]], tpl["id"]["id"]).status_code == 404
    assert send(api, [target["id"]["id"], theirs["id"]["id"]], tpl["id"]["id"]).status_code == 404
    assert send(api, [target["id"]["id"]], their_tpl["id"]["id"]).status_code == 404
    mine = send(api, [target["id"]["id"]], tpl["id"]["id"]).json()
    assert mallory_api.get(f"/api/notification/request/{mine['id']['id']}").status_code == 404
    assert mallory_api.delete(f"/api/notification/request/{mine['id']['id']}").status_code == 404
    for bad in ({"targets": []}, {"targets": ["nope"]}, {"targets": [target["id"]["id"]] * 101},
                {"additionalConfig": {"sendingDelayInSec": -1}},
                {"additionalConfig": {"sendingDelayInSec": 10**12}}, {"templateId": None},
                {"info": "x"}, {"template": {"notificationType": "GENERAL", "configuration": {}}}):
        body = {"targets": [target["id"]["id"]], "templateId": tpl["id"], **bad}
        if "template" in bad:
            body.pop("templateId")
        res = api.post("/api/notification/request", body, format="json")
        assert res.status_code == 400, (bad, res.content)


def test_slack_token_is_write_only(api):
    res = api.post("/api/notification/settings", {"deliveryMethodsConfigs": {
        "SLACK": {"method": "SLACK", "botToken": "xoxb-secret-token"}}}, format="json")
    assert res.status_code == 200 and "xoxb" not in res.content.decode()
    got = api.get("/api/notification/settings")
    assert got.json()["deliveryMethodsConfigs"]["SLACK"]["botToken"] == "******"
    assert api.post("/api/notification/settings", got.json(), format="json").status_code == 200
    from notifications.models import NotificationSettings

    assert NotificationSettings.objects.get().delivery_methods_configs["SLACK"]["botToken"] == "xoxb-secret-token"
    assert api.post("/api/notification/settings", {"deliveryMethodsConfigs": {"FAX": {}}},
                    format="json").status_code == 400
    # a bot token set: SLACK is offered; Teams needs none (its webhook is the target's)
    assert api.get("/api/notification/deliveryMethods").json() == ["WEB", "EMAIL", "SLACK", "MICROSOFT_TEAMS"]
