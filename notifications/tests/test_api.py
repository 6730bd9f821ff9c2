"""Targets, templates and rules through the API: CRUD as ThingsBoard's clients call it, owner
scoping (a tenant's and the system administrator's own), and bad input answered 400."""

import pytest

from notifications.models import NotificationTarget
from notifications.tests.helpers import WEB_EMAIL, template, users_target
from tbproject.testing.fixtures import api_as

pytestmark = pytest.mark.django_db


def test_targets_round_trip_and_page(api, tenant_admin, customer, customer_user):
    saved = users_target(api, "Admins", {"type": "TENANT_ADMINISTRATORS"})
    assert saved["id"]["entityType"] == "NOTIFICATION_TARGET" and isinstance(saved["createdTime"], int)
    assert saved["configuration"]["description"] == "kept"
    users_target(api, "Customer", {"type": "CUSTOMER_USERS", "customerId": str(customer.pk)})
    page = api.get("/api/notification/targets", {"pageSize": 10, "page": 0, "sortProperty": "name",
                                                 "sortOrder": "ASC"}).json()
    assert [t["name"] for t in page["data"]] == ["Admins", "Customer"] and page["totalElements"] == 2
    assert api.get("/api/notification/targets", {"pageSize": 10, "page": 0, "textSearch": "cust"}).json()[
        "totalElements"] == 1
    saved["name"] = "Tenant admins"
    assert api.post("/api/notification/target", saved, format="json").json()["name"] == "Tenant admins"
    assert NotificationTarget.objects.count() == 2
    got = api.get(f"/api/notification/target/{saved['id']['id']}").json()
    assert got["name"] == "Tenant admins"
    listed = api.get("/api/notification/targets/list", {"ids": saved["id"]["id"]}).json()
    assert [t["name"] for t in listed] == ["Tenant admins"]
    recipients = api.post("/api/notification/target/recipients?pageSize=10&page=0", saved, format="json").json()
    assert [u["email"] for u in recipients["data"]] == [tenant_admin.email]
    customers = api.post("/api/notification/target/recipients?pageSize=10&page=0", {"name": "x", "configuration": {
        "type": "PLATFORM_USERS", "usersFilter": {"type": "CUSTOMER_USERS", "customerId": str(customer.pk)}}},
        format="json").json()
    assert [u["email"] for u in customers["data"]] == [customer_user.email]
    assert api.delete(f"/api/notification/target/{saved['id']['id']}").status_code == 200
    assert api.get(f"/api/notification/target/{saved['id']['id']}").status_code == 404


def test_targets_by_notification_type_leave_out_the_event_only_filters(api):
    users_target(api, "Owner users", {"type": "ORIGINATOR_ENTITY_OWNER_USERS"})
    users_target(api, "All", {"type": "ALL_USERS"})
    general = api.get("/api/notification/targets", {"pageSize": 10, "page": 0, "notificationType": "GENERAL"}).json()
    assert [t["name"] for t in general["data"]] == ["All"]
    alarm = api.get("/api/notification/targets/notificationType/ALARM", {"pageSize": 10, "page": 0}).json()
    assert alarm["totalElements"] == 2


def test_templates_and_rules_round_trip(api):
    saved = template(api, "Alarm mail", "ALARM")
    assert saved["configuration"]["deliveryMethodsTemplates"]["WEB"]["subject"] == "Hello ${recipientFirstName}"
    template(api, "General", "GENERAL")
    page = api.get("/api/notification/templates", {"pageSize": 10, "page": 0, "notificationTypes": "ALARM"}).json()
    assert [t["name"] for t in page["data"]] == ["Alarm mail"]
    target = users_target(api, "Admins", {"type": "TENANT_ADMINISTRATORS"})
    rule = {"name": "Critical alarms", "enabled": True, "templateId": saved["id"], "triggerType": "ALARM",
            "triggerConfig": {"triggerType": "ALARM", "alarmTypes": ["Overheat"], "alarmSeverities": ["CRITICAL"],
                              "notifyOn": ["CREATED"], "clearRule": {"alarmStatuses": ["CLEARED"]}},
            "recipientsConfig": {"triggerType": "ALARM", "escalationTable": {"0": [target["id"]["id"]]}},
            "additionalConfig": {"description": "d"}}
    res = api.post("/api/notification/rule", rule, format="json")
    assert res.status_code == 200, res.content
    made = res.json()
    info = api.get(f"/api/notification/rule/{made['id']['id']}").json()
    assert info["templateName"] == "Alarm mail" and info["deliveryMethods"] == ["WEB"]
    assert api.get("/api/notification/rules", {"pageSize": 10, "page": 0}).json()["totalElements"] == 1
    # what a rule uses cannot go
    assert api.delete(f"/api/notification/template/{saved['id']['id']}").status_code == 400
    assert api.delete(f"/api/notification/target/{target['id']['id']}").status_code == 400
    assert api.delete(f"/api/notification/rule/{made['id']['id']}").status_code == 200
    assert api.delete(f"/api/notification/template/{saved['id']['id']}").status_code == 200
    # the template's type must be the trigger's
    general = template(api, "Other", "GENERAL")
    assert api.post("/api/notification/rule", {**rule, "templateId": general["id"]},
                    format="json").status_code == 400


def test_the_system_administrator_has_its_own(api, sysadmin, tenant_admin):
    root = api_as(sysadmin)
    mine = users_target(root, "Everyone", {"type": "ALL_USERS"})
    assert mine["tenantId"]["id"] == "13814000-1dd2-11b2-8080-808080808080"
    users_target(root, "System admins", {"type": "SYSTEM_ADMINISTRATORS"})
    assert api.get(f"/api/notification/target/{mine['id']['id']}").status_code == 404
    assert api.get("/api/notification/targets", {"pageSize": 10, "page": 0}).json()["totalElements"] == 0
    assert root.get("/api/notification/targets", {"pageSize": 10, "page": 0}).json()["totalElements"] == 2
    # a tenant may not address the system administrators
    res = api.post("/api/notification/target", {"name": "x", "configuration": {
        "type": "PLATFORM_USERS", "usersFilter": {"type": "SYSTEM_ADMINISTRATORS"}}}, format="json")
    assert res.status_code == 400


def test_customer_users_do_not_manage_notifications(customer_api):
    assert customer_api.get("/api/notification/targets", {"pageSize": 10, "page": 0}).status_code == 403
    assert customer_api.post("/api/notification/template", {}, format="json").status_code == 403
    assert customer_api.get("/api/notifications", {"pageSize": 10, "page": 0}).status_code == 200


def test_another_tenants_records_are_404(api, mallory_api):
    target = users_target(mallory_api, "Theirs", {"type": "ALL_USERS"})
    theirs = template(mallory_api, "Theirs")
    assert api.get(f"/api/notification/target/{target['id']['id']}").status_code == 404
    assert api.delete(f"/api/notification/template/{theirs['id']['id']}").status_code == 404
    assert api.post("/api/notification/target", {**target, "name": "mine now"}, format="json").status_code == 404
    mine = template(api, "Mine", "ALARM")
    rule = {"name": "r", "templateId": mine["id"], "triggerType": "ALARM",
            "triggerConfig": {"notifyOn": ["CREATED"]},
            "recipientsConfig": {"escalationTable": {"0": [target["id"]["id"]]}}}
    assert api.post("/api/notification/rule", rule, format="json").status_code == 404
    assert api.post("/api/notification/rule", {**rule, "templateId": theirs["id"]}, format="json").status_code == 404


BAD_TARGETS = [
    {"name": "x", "configuration": {"type": "PIGEON"}},
    {"name": "x", "configuration": {"type": "PLATFORM_USERS", "usersFilter": {"type": "FRIENDS"}}},
    {"name": "x", "configuration": {"type": "PLATFORM_USERS", "usersFilter": {"type": "USER_LIST", "usersIds": []}}},
    {"name": "x", "configuration": {"type": "PLATFORM_USERS", "usersFilter": {"type": "USER_LIST",
                                                                              "usersIds": ["not-a-uuid"]}}},
    {"name": "x\x00y", "configuration": {"type": "PLATFORM_USERS", "usersFilter": {"type": "ALL_USERS"}}},
    {"name": "x" * 300, "configuration": {"type": "PLATFORM_USERS", "usersFilter": {"type": "ALL_USERS"}}},
    {"name": "x", "configuration": "PLATFORM_USERS"},
    {"configuration": {"type": "PLATFORM_USERS", "usersFilter": {"type": "ALL_USERS"}}},
    [1, 2],
]


@pytest.mark.parametrize("body", BAD_TARGETS)
def test_bad_targets_are_400(api, body):
    res = api.post("/api/notification/target", body, format="json")
    assert res.status_code == 400, res.content
    assert res.json()["message"]


def _web(**web):
    return {"deliveryMethodsTemplates": {"WEB": {"method": "WEB", "subject": "s", "body": "b", **web}}}


BAD_TEMPLATES = [
    {"name": "t", "notificationType": "GOSSIP", "configuration": _web()},
    {"name": "t", "notificationType": "GENERAL", "configuration": _web(subject="s" * 5000)},
    {"name": "t", "notificationType": "GENERAL", "configuration": _web(body="b" * 70000)},
    {"name": "t", "notificationType": "GENERAL", "configuration": _web(body="")},
    {"name": "t", "notificationType": "GENERAL", "configuration": _web(subject=None)},
    {"name": "t", "notificationType": "GENERAL", "configuration": _web(body="a\x00b")},
    {"name": "t", "notificationType": "GENERAL", "configuration": _web(enabled=False)},
    {"name": "t", "notificationType": "GENERAL", "configuration": _web(method="EMAIL")},
    {"name": "t", "notificationType": "GENERAL", "configuration": {"deliveryMethodsTemplates": {"FAX": {}}}},
    {"name": "t", "notificationType": "GENERAL", "configuration": {"deliveryMethodsTemplates": []}},
    {"name": "t", "notificationType": "GENERAL", "configuration": None},
]


@pytest.mark.parametrize("body", BAD_TEMPLATES)
def test_bad_templates_are_400(api, body):
    res = api.post("/api/notification/template", body, format="json")
    assert res.status_code == 400, res.content


def test_bad_rules_are_400(api):
    mine = template(api, "Mine", "ALARM")
    target = users_target(api, "Admins", {"type": "TENANT_ADMINISTRATORS"})
    good = {"name": "r", "templateId": mine["id"], "triggerType": "ALARM",
            "triggerConfig": {"notifyOn": ["CREATED"]},
            "recipientsConfig": {"escalationTable": {"0": [target["id"]["id"]]}}}
    for bad in ({"triggerType": "FULL_MOON"}, {"triggerConfig": {"notifyOn": []}},
                {"triggerConfig": {"notifyOn": ["EXPLODED"]}}, {"triggerConfig": {"notifyOn": ["CREATED"],
                                                                                 "alarmSeverities": ["HUGE"]}},
                {"recipientsConfig": {"escalationTable": {}}},
                {"recipientsConfig": {"escalationTable": {"-5": [target["id"]["id"]]}}},
                {"recipientsConfig": {"escalationTable": {"99999999999": [target["id"]["id"]]}}},
                {"enabled": "yes"}, {"templateId": None}, {"name": "\x00"}):
        res = api.post("/api/notification/rule", {**good, **bad}, format="json")
        assert res.status_code == 400, (bad, res.content)
    assert api.post("/api/notification/rule", good, format="json").status_code == 200
    assert WEB_EMAIL  # the shared template stays as it is


def test_the_admin_is_tenant_scoped_and_masks_the_slack_token(client, api, mallory_api, tenant_admin, sysadmin):
    mine = users_target(api, "Mine", {"type": "ALL_USERS"})
    theirs = users_target(mallory_api, "Theirs", {"type": "ALL_USERS"})
    client.force_login(tenant_admin)
    page = client.get("/admin/notifications/notificationtarget/").content.decode()
    assert "Mine" in page and "Theirs" not in page
    assert client.get(f"/admin/notifications/notificationtarget/{theirs['id']['id']}/change/").status_code == 302
    assert client.get(f"/admin/notifications/notificationtarget/{mine['id']['id']}/change/").status_code == 200
    root = api_as(sysadmin)
    assert root.post("/api/notification/settings", {"deliveryMethodsConfigs": {
        "SLACK": {"method": "SLACK", "botToken": "xoxb-never-shown"}}}, format="json").status_code == 200
    client.force_login(sysadmin)
    from notifications.models import NotificationSettings

    row = NotificationSettings.objects.get()
    for url in ("/admin/notifications/notificationsettings/",
                f"/admin/notifications/notificationsettings/{row.pk}/change/"):
        res = client.get(url)
        assert res.status_code == 200 and "xoxb-never-shown" not in res.content.decode()
