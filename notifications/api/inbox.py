"""Each user's own notifications and settings (NotificationControllerApi):

    GET    /api/notifications?pageSize&page&textSearch&sortProperty&sortOrder&unreadOnly&deliveryMethod
    GET    /api/notifications/unread/count?deliveryMethod     an integer
    PUT    /api/notification/{id}/read, PUT /api/notifications/read?deliveryMethod (all)
    DELETE /api/notification/{id}
    GET/POST /api/notification/settings        delivery method settings (administrators; Slack's botToken
                                               is write-only: answered masked, kept when posted back masked or
                                               left out: notifications/secrets.py)
    GET/POST /api/notification/settings/user   the caller's UserNotificationSettings (prefs per type)

Only the caller's own notifications are reached; another user's id is a 404.
"""

from dataclasses import replace

from django.db.models import Q
from django.shortcuts import get_object_or_404
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from notifications import chats, user_prefs, validation
from notifications.api.base import IsAdministrator
from notifications.choices import DELIVERY_METHODS
from notifications.models import Notification, NotificationSettings, NotificationStatus
from notifications.secrets import MASK, SETTINGS_SECRETS, kept_settings, masked_settings
from notifications.sending import owner_of
from notifications.shapes import notification_json
from tbproject.api.ids import parse_uuid
from tbproject.api.pagination import page_data, page_request
from tbproject.api.params import bool_param, choice_param

__all__ = ["Inbox", "UnreadCount", "ReadAll", "ReadOne", "DeleteOne", "Settings", "UserSettings", "MASK"]


def _mine(request):
    rows = Notification.objects.filter(recipient=request.user)
    method = choice_param(request.query_params, "deliveryMethod", DELIVERY_METHODS)
    return rows.filter(delivery_method=method) if method else rows


class Inbox(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request):
        rows = _mine(request)
        if bool_param(request.query_params, "unreadOnly", False):
            rows = rows.filter(status=NotificationStatus.SENT)
        req = page_request(request.query_params)
        if req.text_search:
            rows = rows.filter(Q(subject__icontains=req.text_search) | Q(text__icontains=req.text_search))
        req = replace(req, text_search="")  # searched above, in the subject and the text
        return Response(page_data(rows, req, search_field="subject", render=lambda r: [notification_json(n) for n in r],
                                  sort_fields={"createdTime": "created_time", "status": "status",
                                               "subject": "subject", "type": "type"}))


class UnreadCount(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response(_mine(request).filter(status=NotificationStatus.SENT).count())


class ReadAll(APIView):
    permission_classes = [IsAuthenticated]

    def put(self, request):
        _mine(request).filter(status=NotificationStatus.SENT).update(status=NotificationStatus.READ)
        return Response(status=200)


class ReadOne(APIView):
    permission_classes = [IsAuthenticated]

    def put(self, request, notification_id):
        row = get_object_or_404(Notification.objects.filter(recipient=request.user), pk=parse_uuid(notification_id))
        if row.status != NotificationStatus.READ:
            Notification.objects.filter(pk=row.pk).update(status=NotificationStatus.READ)
        return Response(status=200)


class DeleteOne(APIView):
    permission_classes = [IsAuthenticated]

    def delete(self, request, notification_id):
        row = get_object_or_404(Notification.objects.filter(recipient=request.user), pk=parse_uuid(notification_id))
        row.delete()
        return Response(status=200)


class Settings(APIView):
    permission_classes = [IsAdministrator]

    def row(self):
        tenant_id = owner_of(self.request.user)
        return NotificationSettings.objects.filter(tenant_id=tenant_id).first() or NotificationSettings(
            tenant_id=tenant_id)

    def get(self, request):
        return Response({"deliveryMethodsConfigs": masked_settings(self.row().delivery_methods_configs)})

    def post(self, request):
        data = validation.body_of(request)
        configs = data.get("deliveryMethodsConfigs")
        if not isinstance(configs, dict):
            raise ValidationError("deliveryMethodsConfigs must be an object")
        row = self.row()
        stored = row.delivery_methods_configs or {}
        cleaned = {}
        for method, config in configs.items():
            if method not in SETTINGS_SECRETS:
                raise ValidationError(f"Unsupported delivery method settings: {str(method)[:32]}; "
                                      f"use one of: {', '.join(SETTINGS_SECRETS)}")
            if not isinstance(config, dict) or config.get("method", method) != method:
                raise ValidationError(f"deliveryMethodsConfigs.{method} must be an object of method {method}")
            config = kept_settings(method, {**config, "method": method}, stored)
            if method == "SLACK" and (not isinstance(config.get("botToken"), str) or not config["botToken"]):
                raise ValidationError("deliveryMethodsConfigs.SLACK.botToken must be specified")
            if method == "SLACK" and not chats.token_ok(config["botToken"]):  # never echoed: it is a secret
                raise ValidationError("deliveryMethodsConfigs.SLACK.botToken must not contain whitespace, control or "
                                      "non-ASCII characters")
            cleaned[method] = config
        row.delivery_methods_configs = cleaned
        row.save()
        return Response({"deliveryMethodsConfigs": masked_settings(cleaned)})


class UserSettings(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response(user_prefs.get(request.user))

    def post(self, request):
        return Response(user_prefs.save(request.user, validation.body_of(request)))
