"""Notification center endpoints at ThingsBoard's paths; what each does is in config.py, requests.py
and inbox.py beside this. Literal segments come before ids (``notification/target/recipients``
before ``notification/target/{id}``, ``notification/settings`` before ``notification/{id}``)."""

from django.urls import path

from notifications.api import config, inbox, limit_requests, requests, slack

__all__ = ["urlpatterns"]

urlpatterns = [
    path("notification/target/recipients", config.Recipients.as_view(), name="notification-target-recipients"),
    path("notification/target", config.TargetSave.as_view(), name="notification-target-save"),
    path("notification/target/<str:target_id>", config.TargetDetail.as_view(), name="notification-target"),
    path("notification/targets/list", config.TargetsByIds.as_view(), name="notification-targets-by-ids"),
    path("notification/targets/notificationType/<str:notification_type>", config.TargetsByType.as_view(),
         name="notification-targets-by-type"),
    path("notification/targets", config.TargetList.as_view(), name="notification-targets"),
    path("notification/template", config.TemplateSave.as_view(), name="notification-template-save"),
    path("notification/template/<str:template_id>", config.TemplateDetail.as_view(), name="notification-template"),
    path("notification/templates", config.TemplateList.as_view(), name="notification-templates"),
    path("notification/rule", config.RuleSave.as_view(), name="notification-rule-save"),
    path("notification/rule/<str:rule_id>", config.RuleDetail.as_view(), name="notification-rule"),
    path("notification/rules", config.RuleList.as_view(), name="notification-rules"),
    path("notification/request/preview", requests.RequestPreview.as_view(), name="notification-request-preview"),
    path("notification/request", requests.RequestCreate.as_view(), name="notification-request-save"),
    path("notification/request/<str:notification_request_id>", requests.RequestDetail.as_view(),
         name="notification-request"),
    path("notification/requests", requests.RequestList.as_view(), name="notification-requests"),
    path("notification/entitiesLimitIncreaseRequest/<str:limited_type>",
         limit_requests.EntitiesLimitIncreaseRequest.as_view(), name="notification-entities-limit-increase-request"),
    path("notification/deliveryMethods", requests.DeliveryMethods.as_view(), name="notification-delivery-methods"),
    path("notification/slack/conversations", slack.SlackConversations.as_view(),
         name="notification-slack-conversations"),
    path("notification/settings/user", inbox.UserSettings.as_view(), name="notification-user-settings"),
    path("notification/settings", inbox.Settings.as_view(), name="notification-settings"),
    path("notifications/unread/count", inbox.UnreadCount.as_view(), name="notifications-unread-count"),
    path("notifications/read", inbox.ReadAll.as_view(), name="notifications-read-all"),
    path("notifications", inbox.Inbox.as_view(), name="notifications"),
    path("notification/<str:notification_id>/read", inbox.ReadOne.as_view(), name="notification-read"),
    path("notification/<str:notification_id>", inbox.DeleteOne.as_view(), name="notification-delete"),
]
