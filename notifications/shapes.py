"""ThingsBoard's JSON of each notification record (tb_pe_client's models)."""

from notifications.secrets import shown_target
from notifications.validation import enabled_methods
from tbproject.api.ids import entity_id
from tenants.choices import NULL_UUID

__all__ = ["target_json", "template_json", "rule_json", "request_json", "notification_json", "owner_id"]


def owner_id(tenant_id) -> dict:
    return entity_id("TENANT", tenant_id or NULL_UUID)


def target_json(target) -> dict:
    return {"id": entity_id("NOTIFICATION_TARGET", target.pk), "createdTime": target.created_time,
            "tenantId": owner_id(target.tenant_id), "name": target.name,
            "configuration": shown_target(target.configuration)}  # a Teams webhook URL: masked


def template_json(template) -> dict:
    return {"id": entity_id("NOTIFICATION_TEMPLATE", template.pk), "createdTime": template.created_time,
            "tenantId": owner_id(template.tenant_id), "name": template.name,
            "notificationType": template.notification_type, "configuration": template.configuration}


def rule_json(rule, info: bool = False) -> dict:
    body = {"id": entity_id("NOTIFICATION_RULE", rule.pk), "createdTime": rule.created_time,
            "tenantId": owner_id(rule.tenant_id), "name": rule.name, "enabled": rule.enabled,
            "templateId": entity_id("NOTIFICATION_TEMPLATE", rule.template_id), "triggerType": rule.trigger_type,
            "triggerConfig": rule.trigger_config, "recipientsConfig": rule.recipients_config,
            "additionalConfig": rule.additional_config or None}
    if info:
        body.update(templateName=rule.template.name, deliveryMethods=enabled_methods(rule.template.configuration))
    return body


def request_json(request, info: bool = False) -> dict:
    template = request.template or {}
    body = {"id": entity_id("NOTIFICATION_REQUEST", request.pk), "createdTime": request.created_time,
            "tenantId": owner_id(request.tenant_id), "targets": request.targets,
            "templateId": entity_id("NOTIFICATION_TEMPLATE", request.template_ref_id) if request.template_ref_id
            else None,
            "template": template or None, "info": request.info, "additionalConfig": request.additional_config,
            "originatorEntityId": entity_id(request.originator_type, request.originator_id)
            if request.originator_id else None,
            "ruleId": entity_id("NOTIFICATION_RULE", request.rule_id) if request.rule_id else None,
            "status": request.status, "stats": request.stats}
    if info:
        body.update(templateName=template.get("name"), deliveryMethods=enabled_methods(template.get("configuration")))
    return body


def notification_json(row) -> dict:
    return {"id": entity_id("NOTIFICATION", row.pk), "createdTime": row.created_time,
            "requestId": entity_id("NOTIFICATION_REQUEST", row.request_id),
            "recipientId": entity_id("USER", row.recipient_id), "type": row.type,
            "deliveryMethod": row.delivery_method, "subject": row.subject, "text": row.text,
            "additionalConfig": row.additional_config, "info": row.info, "status": row.status}
