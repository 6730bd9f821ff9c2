"""The notification center in the admin, tenant-scoped by TenantScopedAdmin (a tenant administrator
sees its tenant's rows, the system administrator every row; an empty tenant is the system's own).
Configurations are edited as JSON and checked as the API checks them; a Teams target's webhook URL is
shown masked (notifications/secrets.py); the notification settings, which hold Slack's bot token, are shown
masked and not edited here."""

import json

from django import forms
from django.contrib import admin
from rest_framework.exceptions import APIException
from rest_framework.exceptions import ValidationError as ApiError

from notifications import validation
from notifications.models import (
    ApiUsageStatus,
    Notification,
    NotificationRequest,
    NotificationRule,
    NotificationSettings,
    NotificationTarget,
    NotificationTemplate,
)
from notifications.secrets import kept_target, masked_settings, shown_target
from notifications.sending import targets_of
from tbproject.admin import TenantScopedAdmin, TenantScopedForm, format_ms


def _checked(form, field: str, check):
    try:
        return check(form.cleaned_data.get(field))
    except ApiError as e:
        raise forms.ValidationError(" ".join(str(d) for d in (e.detail if isinstance(e.detail, list) else [e.detail])))


class TargetForm(TenantScopedForm):
    class Meta:
        model = NotificationTarget
        fields = ("name", "configuration")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "configuration" in self.initial:  # a Teams webhook URL is a secret: shown masked, kept when left so
            self.initial["configuration"] = shown_target(self.initial["configuration"])

    def clean_configuration(self):
        system = self.instance.tenant_id is None and getattr(self.admin_user, "is_sysadmin", False)
        stored = None if self.instance._state.adding else self.instance.configuration  # not yet replaced by the form's
        return _checked(self, "configuration",
                        lambda v: validation.target_config(kept_target(v, stored), system=system))


class TemplateForm(TenantScopedForm):
    class Meta:
        model = NotificationTemplate
        fields = ("name", "notification_type", "configuration")

    def clean_configuration(self):
        return _checked(self, "configuration", validation.template_config)


class RuleForm(TenantScopedForm):
    class Meta:
        model = NotificationRule
        fields = ("name", "enabled", "template", "trigger_type", "trigger_config", "recipients_config")

    def clean(self):
        cleaned = super().clean()
        trigger = cleaned.get("trigger_type")
        try:
            cleaned["trigger_config"] = validation.trigger_config(trigger, cleaned.get("trigger_config"))
            cleaned["recipients_config"], ids = validation.recipients_config(trigger, cleaned.get("recipients_config"))
            targets_of(self.instance.tenant_id, ids)
            template = cleaned.get("template")
            if template is not None and template.tenant_id != self.instance.tenant_id:
                raise ApiError("Choose a template of the rule's own tenant.")
        except APIException as e:
            raise forms.ValidationError(str(e.detail[0] if isinstance(e.detail, list) else e.detail)) from None
        return cleaned


class _Owned(TenantScopedAdmin):
    readonly_fields = ("id", "created")

    @admin.display(description="Created", ordering="created_time")
    def created(self, obj) -> str:
        return format_ms(obj.created_time)

    @admin.display(description="Owner")
    def owner(self, obj) -> str:
        return str(obj.tenant) if obj.tenant_id else "System"


@admin.register(NotificationTarget)
class TargetAdmin(_Owned):
    form = TargetForm
    list_display = ("name", "kind", "owner", "created")
    search_fields = ("name",)

    @admin.display(description="Type")
    def kind(self, obj) -> str:
        users = (obj.configuration.get("usersFilter") or {}).get("type")
        return f"{obj.target_type} ({users})" if users else obj.target_type


@admin.register(NotificationTemplate)
class TemplateAdmin(_Owned):
    form = TemplateForm
    list_display = ("name", "notification_type", "methods_", "owner", "created")
    list_filter = ("notification_type",)
    search_fields = ("name",)

    @admin.display(description="Delivery methods")
    def methods_(self, obj) -> str:
        return ", ".join(obj.methods())


@admin.register(NotificationRule)
class RuleAdmin(_Owned):
    form = RuleForm
    list_display = ("name", "trigger_type", "enabled", "template", "owner", "created")
    list_filter = ("trigger_type", "enabled")
    search_fields = ("name",)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "template" and formfield is not None:
            formfield.queryset = NotificationTemplate.objects.for_user(request.user)
        return formfield


@admin.register(NotificationRequest)
class RequestAdmin(_Owned):
    """Requests are made through the API or by rules; the admin shows and deletes them."""

    read_only = True
    list_display = ("__str__", "status", "sent", "owner", "created")
    list_filter = ("status",)
    readonly_fields = ("id", "created", "status", "template_json", "targets", "stats", "info", "rule", "sender",
                       "send_at")
    exclude = ("template", "template_ref", "additional_config", "originator_type", "originator_id")

    def has_delete_permission(self, request, obj=None):
        return self._may_enter(request) and self._owns(request, obj)

    @admin.display(description="Sent")
    def sent(self, obj) -> int:
        return (obj.stats or {}).get("totalSent", 0)

    @admin.display(description="Template")
    def template_json(self, obj) -> str:
        return json.dumps(obj.template, indent=2)


@admin.register(Notification)
class NotificationAdmin(TenantScopedAdmin):
    """The signed-in user's own inbox rows, read-only: as in the API (/api/notifications), nobody reads
    another user's notifications, a tenant or system administrator included."""

    read_only = True
    list_display = ("subject", "recipient", "type", "status", "created")
    list_filter = ("status", "type")
    search_fields = ("subject", "text")
    readonly_fields = ("id", "created", "recipient", "request", "type", "delivery_method", "subject", "text",
                       "status", "info")
    exclude = ("additional_config",)

    def get_queryset(self, request):
        rows = Notification.objects.select_related("recipient")
        return rows.filter(recipient_id=request.user.pk) if request.user.is_staff else rows.none()

    def _owns(self, request, obj) -> bool:
        return obj is None or obj.recipient_id == request.user.pk

    @admin.display(description="Created", ordering="created_time")
    def created(self, obj) -> str:
        return format_ms(obj.created_time)


@admin.register(NotificationSettings)
class SettingsAdmin(TenantScopedAdmin):
    """Delivery method settings, shown masked (Slack's bot token is a secret); edited through the API."""

    read_only = True
    sysadmin_only = True
    list_display = ("__str__",)
    readonly_fields = ("tenant", "configs")
    exclude = ("delivery_methods_configs",)

    @admin.display(description="Delivery method settings")
    def configs(self, obj) -> str:
        return json.dumps(masked_settings(obj.delivery_methods_configs), indent=2)


@admin.register(ApiUsageStatus)
class ApiUsageStatusAdmin(TenantScopedAdmin):
    """Each tenant's last API usage state per feature (API_USAGE_LIMIT notifications), read-only."""

    read_only = True
    sysadmin_only = True
    list_display = ("tenant", "feature", "status", "updated")
    list_filter = ("feature", "status")
    readonly_fields = ("tenant", "feature", "status", "updated")

    @admin.display(description="Updated", ordering="updated_time")
    def updated(self, obj) -> str:
        return format_ms(obj.updated_time)
