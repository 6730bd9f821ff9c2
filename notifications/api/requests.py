"""Notification requests at ThingsBoard's paths (NotificationControllerApi):

    POST   /api/notification/request                  send (templateId or an inline template, targets,
                                                      additionalConfig.sendingDelayInSec): NotificationRequest
    GET    /api/notification/requests?pageSize&page&textSearch&sortProperty&sortOrder   the users' requests
    GET    /api/notification/request/{id}, DELETE      NotificationRequestInfo; delete (and its notifications;
                                                      a SCHEDULED one is cancelled)
    POST   /api/notification/request/preview?recipientsPreviewSize   rendered templates, recipient counts
    GET    /api/notification/deliveryMethods           the methods this server delivers
"""

import re

from django.shortcuts import get_object_or_404
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from notifications import recipients, validation
from notifications.api.base import IsAdministrator, OwnedView
from notifications.choices import DELIVERED_METHODS, DELIVERY_METHODS
from notifications.models import NotificationRequest, NotificationTemplate
from notifications.sending import owner_of, submit, targets_of
from notifications.shapes import request_json, template_json
from notifications.templating import recipient_params, render_methods
from tbproject.api.ids import parse_uuid

__all__ = ["RequestCreate", "RequestList", "RequestDetail", "RequestPreview", "DeliveryMethods"]

PREVIEW_MAX = 1000


def _template(user, data: dict) -> tuple[dict, NotificationTemplate | None]:
    """The template JSON a request sends and the stored template it came from (None: inline)."""
    raw = data.get("templateId")
    raw = raw.get("id") if isinstance(raw, dict) else raw
    if raw:
        ref = get_object_or_404(NotificationTemplate.objects.owned_by(user), pk=parse_uuid(raw))
        return template_json(ref), ref
    inline = data.get("template")
    if not isinstance(inline, dict):
        raise ValidationError("Notification template must be specified (templateId or template)")
    name = validation.name_of(inline, required=False)
    # the client's NotificationTemplate needs a name: an inline one without gets ThingsBoard's UI's default
    return {"name": name or "Notification request", "notificationType": validation.notification_type(
        inline.get("notificationType", "GENERAL")), "configuration": validation.template_config(
        inline.get("configuration"))}, None


def _parsed(user, data: dict):
    tenant_id = owner_of(user)
    target_ids = validation.uuid_list(data.get("targets"), "targets", limit=validation.MAX_TARGETS)
    targets = targets_of(tenant_id, target_ids)
    template, ref = _template(user, data)
    return tenant_id, targets, template, ref


class RequestCreate(OwnedView):
    model = NotificationRequest

    def post(self, request):
        data = validation.body_of(request)
        tenant_id, targets, template, ref = _parsed(request.user, data)
        additional = data.get("additionalConfig")
        delay = validation.sending_delay(additional)
        info = data.get("info")
        if info is not None and (not isinstance(info, dict) or not isinstance(info.get("type"), str)):
            raise ValidationError("info must be an object with a type")
        sent = submit(tenant_id, targets, template, template_ref=ref, delay_sec=delay, info=info,
                      additional_config=additional, sender=request.user,
                      originator=("USER", request.user.pk))
        return Response(request_json(sent))


class RequestView(OwnedView):
    model = NotificationRequest
    sort_fields = {"createdTime": "created_time", "status": "status"}
    search_field = "template_ref__name"

    def get_queryset(self):
        return super().get_queryset().filter(rule__isnull=True)


class RequestList(RequestView):
    def get(self, request):
        return Response(self.page(self.get_queryset(), lambda r: request_json(r, info=True)))


class RequestDetail(RequestView):
    def get_queryset(self):
        return NotificationRequest.objects.owned_by(self.request.user)

    def get(self, request, notification_request_id):
        return Response(request_json(self.get_object(notification_request_id), info=True))

    def delete(self, request, notification_request_id):
        self.get_object(notification_request_id).delete()  # its notifications go with it
        return Response(status=200)


class RequestPreview(OwnedView):
    model = NotificationRequest

    def post(self, request):
        data = validation.body_of(request)
        tenant_id, targets, template, _ = _parsed(request.user, data)
        raw = request.query_params.get("recipientsPreviewSize") or "20"
        if not re.fullmatch(r"[0-9]{1,9}", raw) or int(raw) > PREVIEW_MAX:
            raise ValidationError(f"Parameter 'recipientsPreviewSize' must be an integer from 0 to {PREVIEW_MAX}")
        size, counts, preview, seen = int(raw), {}, [], set()
        for target in targets:
            users = recipients.users_of(target.configuration, tenant_id)
            counts[str(target.pk)] = users.count() if target.target_type == "PLATFORM_USERS" else 1
            if target.target_type != "PLATFORM_USERS":
                if len(preview) < size:
                    preview.append(target.name)
                continue
            for pk, email in users.order_by("email").values_list("pk", "email")[:size]:
                if pk not in seen and len(preview) < size:
                    seen.add(pk)
                    preview.append(email)
        # rendered for the caller as the sample recipient, as ThingsBoard previews them
        methods = (template["configuration"] or {}).get("deliveryMethodsTemplates") or {}
        enabled = {m: t for m, t in methods.items() if t.get("enabled", True)}
        return Response({"processedTemplates": render_methods(enabled, recipient_params(request.user)),
                         "totalRecipientsCount": sum(counts.values()), "recipientsCountByTarget": counts,
                         "recipientsPreview": preview})


class DeliveryMethods(OwnedView):
    permission_classes = [IsAdministrator]

    def get(self, request):
        from notifications import chats

        methods = set(DELIVERED_METHODS)
        if chats.slack_token(owner_of(request.user)):
            methods.add("SLACK")
        if chats.sms_sender() is not None:
            methods.add("SMS")
        return Response([m for m in DELIVERY_METHODS if m in methods])
