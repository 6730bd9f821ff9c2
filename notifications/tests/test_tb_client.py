"""The notification center through ThingsBoard's own generated client (tb-pe-client) against the
real server: targets, templates and rules saved and read back into the client's models, a request
sent, and the inbox read, counted, marked read and emptied.

Reuses the server and client fixtures of tests/test_tb_client.py (a fresh server for this module).
"""

import pytest
from tb_pe_client.exceptions import ApiException
from tb_pe_client.models import (
    NotificationRequest,
    NotificationRule,
    NotificationTarget,
    NotificationTemplate,
    UserNotificationSettings,
)

from tests.test_tb_client import client, server_url  # noqa: F401  (fixtures)

pytestmark = pytest.mark.server


def _target(client, name):  # noqa: F811
    return client.save_notification_target(NotificationTarget.from_dict({
        "name": name, "configuration": {"type": "PLATFORM_USERS", "usersFilter": {"type": "TENANT_ADMINISTRATORS"}}}))


def _template(client, name, kind="GENERAL"):  # noqa: F811
    return client.save_notification_template(NotificationTemplate.from_dict({
        "name": name, "notificationType": kind, "configuration": {"deliveryMethodsTemplates": {
            "WEB": {"method": "WEB", "enabled": True, "subject": "Hi ${recipientEmail}", "body": "${alarmType} body"},
            "EMAIL": {"method": "EMAIL", "enabled": False, "subject": "s", "body": "b"}}}}))


def test_targets_templates_and_rules_through_the_client(client):  # noqa: F811
    target = _target(client, "client admins")
    assert target is not None and target.configuration.users_filter.type == "TENANT_ADMINISTRATORS"
    got = client.get_notification_target_by_id(str(target.id.id))
    assert got.name == "client admins"
    page = client.get_notification_targets(page_size=10, page=0)
    assert "client admins" in [t.name for t in page.data]
    users = client.get_recipients_for_notification_target_config(page_size=10, page=0, notification_target=got)
    assert [u.email for u in users.data] == ["tenant@client.test"]
    template = _template(client, "client alarm", "ALARM")
    assert client.get_notification_template_by_id(str(template.id.id)).notification_type == "ALARM"
    templates = client.get_notification_templates(page_size=10, page=0, notification_types=["ALARM", "GENERAL"])
    assert [t.name for t in templates.data] == ["client alarm"]
    rule = client.save_notification_rule(NotificationRule.from_dict({
        "name": "client rule", "enabled": True, "templateId": template.id.to_dict(), "triggerType": "ALARM",
        "triggerConfig": {"triggerType": "ALARM", "alarmTypes": ["Overheat"], "notifyOn": ["CREATED"]},
        "recipientsConfig": {"triggerType": "ALARM", "escalationTable": {"0": [str(target.id.id)]}}}))
    assert rule is not None and rule.trigger_type == "ALARM"
    info = client.get_notification_rule_by_id(str(rule.id.id))
    assert info.template_name == "client alarm" and info.delivery_methods == ["WEB"]
    assert client.get_notification_rules(page_size=10, page=0).total_elements == 1
    client.delete_notification_rule(str(rule.id.id))
    client.delete_notification_template_by_id(str(template.id.id))
    with pytest.raises(ApiException) as caught:
        client.get_notification_template_by_id(str(template.id.id))
    assert caught.value.status == 404


def test_a_request_reaches_the_inbox_through_the_client(client):  # noqa: F811
    target = _target(client, "inbox admins")
    template = _template(client, "inbox greeting")
    sent = client.create_notification_request(NotificationRequest.from_dict({
        "targets": [str(target.id.id)], "templateId": template.id.to_dict(),
        "additionalConfig": {"sendingDelayInSec": 0}}))
    assert sent.status == "SENT" and sent.stats.total_sent == 1
    assert client.get_notification_request_by_id(str(sent.id.id)).template_name == "inbox greeting"
    assert client.get_notification_requests(page_size=10, page=0).total_elements >= 1
    preview = client.get_notification_request_preview(NotificationRequest.from_dict({
        "targets": [str(target.id.id)], "templateId": template.id.to_dict()}), recipients_preview_size=5)
    assert preview.total_recipients_count == 1
    assert preview.processed_templates["WEB"].subject == "Hi tenant@client.test"
    assert client.get_unread_notifications_count() == 1
    inbox = client.get_notifications(page_size=10, page=0, unread_only=True)
    assert [n.subject for n in inbox.data] == ["Hi tenant@client.test"]
    assert inbox.data[0].text == "${alarmType} body" and inbox.data[0].status == "SENT"
    client.mark_notification_as_read(str(inbox.data[0].id.id))
    assert client.get_unread_notifications_count() == 0
    client.delete_notification(str(inbox.data[0].id.id))
    assert client.get_notifications(page_size=10, page=0).total_elements == 0
    assert client.get_available_delivery_methods() == ["WEB", "EMAIL", "MICROSOFT_TEAMS"]
    prefs = client.get_user_notification_settings()
    saved = client.save_user_notification_settings(UserNotificationSettings.from_dict({"prefs": {
        "GENERAL": {"enabled": True, "enabledDeliveryMethods": {"WEB": True}}}}))
    assert prefs.prefs["ALARM"].enabled is True and saved.prefs["GENERAL"].enabled_delivery_methods["WEB"] is True
    client.mark_all_notifications_as_read()
    client.delete_notification_request(str(sent.id.id))
    inline = client.create_notification_request(NotificationRequest.from_dict({
        "targets": [str(target.id.id)], "template": {"name": "inline", "notificationType": "GENERAL", "configuration": {
            "deliveryMethodsTemplates": {"WEB": {"method": "WEB", "subject": "inline", "body": "b"}}}},
        "additionalConfig": {"sendingDelayInSec": 3600}}))
    assert inline.status == "SCHEDULED" and inline.template.name
    assert client.get_notification_request_by_id(str(inline.id.id)).status == "SCHEDULED"
