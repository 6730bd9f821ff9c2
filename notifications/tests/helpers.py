"""Small builders shared by the notification tests."""

WEB_EMAIL = {"deliveryMethodsTemplates": {
    "WEB": {"method": "WEB", "enabled": True, "subject": "Hello ${recipientFirstName}",
            "body": "Dear ${recipientTitle} (${recipientEmail}): ${alarmType:upperCase} ${unknownParam}"},
    "EMAIL": {"method": "EMAIL", "enabled": False, "subject": "Mail for ${recipientLastName}",
              "body": "<p>Hi ${recipientFirstName}</p>"}}}


def users_target(api, name: str, users_filter: dict) -> dict:
    res = api.post("/api/notification/target", {"name": name, "configuration": {
        "type": "PLATFORM_USERS", "usersFilter": users_filter, "description": "kept"}}, format="json")
    assert res.status_code == 200, res.content
    return res.json()


def template(api, name: str = "greeting", kind: str = "GENERAL", configuration: dict | None = None) -> dict:
    res = api.post("/api/notification/template", {"name": name, "notificationType": kind,
                                                  "configuration": configuration or WEB_EMAIL}, format="json")
    assert res.status_code == 200, res.content
    return res.json()


def send(api, targets: list, template_id: str | None = None, **extra):
    body = {"targets": targets, **extra}
    if template_id:
        body["templateId"] = {"entityType": "NOTIFICATION_TEMPLATE", "id": template_id}
    return api.post("/api/notification/request", body, format="json")
