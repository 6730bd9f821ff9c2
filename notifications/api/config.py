"""Targets, templates and rules at ThingsBoard's paths (NotificationTarget/Template/RuleControllerApi):

    POST   /api/notification/target                 save (id in body = update)
    GET    /api/notification/target/{id}, DELETE     fetch, delete (refused while a rule names it)
    GET    /api/notification/targets?pageSize&page&textSearch&sortProperty&sortOrder[&notificationType]
    GET    /api/notification/targets/notificationType/{type}?...   the targets that can get that type
    GET    /api/notification/targets/list?ids=a,b
    POST   /api/notification/target/recipients?pageSize&page        the users a target reaches (PageData<User>)
    POST   /api/notification/template, GET/DELETE /api/notification/template/{id}
    GET    /api/notification/templates?...&notificationTypes=A,B
    POST   /api/notification/rule, GET/DELETE /api/notification/rule/{id} (NotificationRuleInfo)
    GET    /api/notification/rules?...              page of NotificationRuleInfo
"""

from django.db.models import ProtectedError
from django.shortcuts import get_object_or_404
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from notifications import recipients, validation
from notifications.api.base import OwnedView
from notifications.choices import CONTEXT_FILTERS
from notifications.models import NotificationRule, NotificationTarget, NotificationTemplate
from notifications.secrets import kept_target
from notifications.sending import owner_of, targets_of
from notifications.shapes import rule_json, target_json, template_json
from notifications.triggers import SYSTEM_TRIGGERS
from tbproject.api.ids import parse_id_list, parse_uuid
from tbproject.api.pagination import page_data, page_request
from tenants.api.serializers import UserSerializer

__all__ = ["TargetSave", "TargetDetail", "TargetList", "TargetsByIds", "TargetsByType", "Recipients",
           "TemplateSave", "TemplateDetail", "TemplateList", "RuleSave", "RuleDetail", "RuleList"]

#: what a target's users filter needs to know of an event; a type without an originator gets none of these
_ORIGINATOR_TYPES = {"ALARM", "DEVICE_ACTIVITY", "ENTITY_ACTION", "ALARM_COMMENT", "ALARM_ASSIGNMENT",
                     "RULE_ENGINE_COMPONENT_LIFECYCLE_EVENT", "INTEGRATION_LIFECYCLE_EVENT", "RULE_NODE",
                     "EDGE_CONNECTION", "EDGE_COMMUNICATION_FAILURE"}


def supports(target: NotificationTarget, notification_type: str) -> bool:
    """Whether the target can receive ``notification_type`` (its users filter may need an event)."""
    if target.target_type != "PLATFORM_USERS":
        return True
    kind = (target.configuration.get("usersFilter") or {}).get("type")
    if kind not in CONTEXT_FILTERS:
        return True
    if kind == "AFFECTED_USER":
        return notification_type in ("ALARM_ASSIGNMENT", "ALARM_COMMENT")
    if kind == "AFFECTED_TENANT_ADMINISTRATORS":
        return notification_type in ("ENTITIES_LIMIT", "API_USAGE_LIMIT", "RATE_LIMITS")
    return notification_type in _ORIGINATOR_TYPES


class TargetView(OwnedView):
    model = NotificationTarget
    duplicate = "Notification target with such name already exists!"


class TargetSave(TargetView):
    def post(self, request):
        data = validation.body_of(request)
        target = self.instance_of(data) or NotificationTarget(tenant_id=owner_of(request.user))
        target.name = validation.name_of(data)
        # a Teams webhook URL posted back masked (or left out) keeps the stored one (notifications/secrets.py)
        posted = kept_target(data.get("configuration"), None if target._state.adding else target.configuration)
        target.configuration = validation.target_config(posted, system=target.tenant_id is None)
        return Response(target_json(self.store(target)))


class TargetDetail(TargetView):
    def get(self, request, target_id):
        return Response(target_json(self.get_object(target_id)))

    def delete(self, request, target_id):
        target = self.get_object(target_id)
        used = [r.name for r in NotificationRule.objects.filter(tenant_id=target.tenant_id)
                if str(target.pk) in r.target_ids()]
        if used:
            raise ValidationError(f"Notification target is being used in notification rule '{used[0]}'")
        target.delete()
        return Response(status=200)


class TargetList(TargetView):
    def get(self, request):
        kind = request.query_params.get("notificationType")
        if not kind:
            return Response(self.page(self.get_queryset(), target_json))
        return Response(_by_type(self, validation.notification_type(kind)))


class TargetsByType(TargetView):
    def get(self, request, notification_type):
        return Response(_by_type(self, validation.notification_type(notification_type)))


def _by_type(view, notification_type: str) -> dict:
    ids = [t.pk for t in view.get_queryset() if supports(t, notification_type)]
    return view.page(view.get_queryset().filter(pk__in=ids), target_json)


class TargetsByIds(TargetView):
    def get(self, request):
        ids = parse_id_list(request.query_params, "ids")
        found = {t.pk: t for t in self.get_queryset().filter(pk__in=ids)}
        return Response([target_json(found[i]) for i in dict.fromkeys(ids) if i in found])


class Recipients(TargetView):
    """The users a (possibly unsaved) PLATFORM_USERS target reaches, as ThingsBoard pages them."""

    def post(self, request):
        data = validation.body_of(request)
        tenant_id = owner_of(request.user)
        config = validation.target_config(data.get("configuration"), system=tenant_id is None)
        users = recipients.users_of(config, tenant_id).order_by("email")
        req = page_request(request.query_params)
        return Response(page_data(users, req, search_field="email", sort_fields={"email": "email"},
                                  render=lambda rows: UserSerializer(rows, many=True).data))


class TemplateView(OwnedView):
    model = NotificationTemplate
    duplicate = "Notification template with such name already exists!"
    sort_fields = {"createdTime": "created_time", "name": "name", "notificationType": "notification_type"}


class TemplateSave(TemplateView):
    def post(self, request):
        data = validation.body_of(request)
        template = self.instance_of(data) or NotificationTemplate(tenant_id=owner_of(request.user))
        template.name = validation.name_of(data)
        template.notification_type = validation.notification_type(data.get("notificationType"))
        template.configuration = validation.template_config(data.get("configuration"))
        return Response(template_json(self.store(template)))


class TemplateDetail(TemplateView):
    def get(self, request, template_id):
        return Response(template_json(self.get_object(template_id)))

    def delete(self, request, template_id):
        try:
            self.get_object(template_id).delete()
        except ProtectedError:
            raise ValidationError("Notification template is referenced by a notification rule") from None
        return Response(status=200)


class TemplateList(TemplateView):
    def get(self, request):
        queryset = self.get_queryset()
        types = [t.strip() for raw in request.query_params.getlist("notificationTypes") for t in raw.split(",")
                 if t.strip()]
        if types:
            queryset = queryset.filter(notification_type__in=[validation.notification_type(t) for t in types])
        return Response(self.page(queryset, template_json))


class RuleView(OwnedView):
    model = NotificationRule
    duplicate = "Notification rule with such name already exists!"
    sort_fields = {"createdTime": "created_time", "name": "name", "triggerType": "trigger_type",
                   "enabled": "enabled"}

    def get_queryset(self):
        return super().get_queryset().select_related("template")


class RuleSave(RuleView):
    def post(self, request):
        data = validation.body_of(request)
        rule = self.instance_of(data) or NotificationRule(tenant_id=owner_of(request.user))
        rule.name = validation.name_of(data)
        enabled = data.get("enabled", True)
        if not isinstance(enabled, bool):
            raise ValidationError("enabled must be true or false")
        rule.enabled = enabled
        trigger = data.get("triggerType")
        rule.trigger_config = validation.trigger_config(trigger, data.get("triggerConfig"))
        if (rule.tenant_id is None) != (trigger in SYSTEM_TRIGGERS):  # as ThingsBoard: each level its triggers
            raise ValidationError(f"Trigger type {trigger} is not available to the "
                                  f"{'system administrator' if rule.tenant_id is None else 'tenant'}")
        rule.trigger_type = trigger
        rule.recipients_config, target_ids = validation.recipients_config(trigger, data.get("recipientsConfig"))
        additional = data.get("additionalConfig")
        if additional is not None and not isinstance(additional, dict):
            raise ValidationError("additionalConfig must be an object")
        rule.additional_config = additional or {}
        raw = data.get("templateId")
        raw = raw.get("id") if isinstance(raw, dict) else raw
        if not raw:
            raise ValidationError("templateId must be specified!")
        template = _owned_template(request.user, raw)
        if template.notification_type != trigger:
            raise ValidationError(f"Template notification type ({template.notification_type}) "
                                  f"does not match the rule's trigger type ({trigger})")
        rule.template = template
        targets_of(rule.tenant_id, target_ids)  # another owner's (or an unknown) target is a 404
        return Response(rule_json(self.store(rule)))


def _owned_template(user, raw) -> NotificationTemplate:
    return get_object_or_404(NotificationTemplate.objects.owned_by(user), pk=parse_uuid(raw))


class RuleDetail(RuleView):
    def get(self, request, rule_id):
        return Response(rule_json(self.get_object(rule_id), info=True))

    def delete(self, request, rule_id):
        self.get_object(rule_id).delete()
        return Response(status=200)


class RuleList(RuleView):
    def get(self, request):
        return Response(self.page(self.get_queryset(), lambda r: rule_json(r, info=True)))
