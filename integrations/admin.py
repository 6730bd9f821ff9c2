"""Admin for integrations (secrets masked, kept when left as the mask) and dead letters (read-only)."""

import json

from django import forms
from django.contrib import admin
from django.utils.html import format_html

from converters.admin import DebugAllAdminMixin, DebugAllFormMixin
from converters.choices import ConverterType
from integrations.api.serializers import ROUTING_KEY_RE, integration_status
from integrations.models import DeadLetter, Integration, IntegrationLease, IntegrationStats
from integrations.types import TYPES
from integrations.types.base import MASK, ConfigError, PushIntegration
from tbproject.admin import TenantScopedAdmin, TenantScopedForm, format_ms, is_sysadmin

MONOSPACE = {"style": "font-family: ui-monospace, Menlo, Consolas, monospace; width: 90%;", "rows": 18,
             "spellcheck": "false"}
#: request headers whose values a dead letter's metadata never shows
CREDENTIAL_HEADERS = ("Header:authorization", "Header:x-authorization", "Header:cookie", "Header:proxy-authorization")
PREVIEW_BYTES = 4096


class IntegrationForm(DebugAllFormMixin, TenantScopedForm):
    """``configuration`` is edited as JSON text showing every secret as the mask, ``secret`` in a
    password input showing the mask; a mask left in place keeps the stored value."""

    config_text = forms.CharField(label="Configuration", required=False, strip=False,
                                  widget=forms.Textarea(attrs=MONOSPACE),
                                  help_text=f"The type's configuration as JSON. Secrets show as {MASK}; "
                                            "leave them so to keep the stored values.")
    secret_text = forms.CharField(label="Secret", required=False, strip=False,
                                  widget=forms.PasswordInput(render_value=True, attrs={"autocomplete": "off"}),
                                  help_text="Remote-integration secret; leave the mask to keep the stored one.")

    class Meta:
        model = Integration
        exclude = ("configuration", "secret")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        instance = self.instance
        configuration = instance.configuration or {}
        if instance.type in TYPES:
            configuration = TYPES.load(instance.type).masked(configuration)
        self.initial.setdefault("config_text", json.dumps(configuration, indent=2, ensure_ascii=False))
        self.initial.setdefault("secret_text", MASK if instance.secret else "")

    def clean_routing_key(self):
        key = (self.cleaned_data.get("routing_key") or "").strip()
        if not ROUTING_KEY_RE.fullmatch(key):
            raise forms.ValidationError("Use 1 to 255 letters, digits and - . _ ~ (it is part of the endpoint URL).")
        return key

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("type")
        try:
            configuration = json.loads(cleaned.get("config_text") or "{}")
        except ValueError as e:
            self.add_error("config_text", f"Not valid JSON: {e}")
            return cleaned
        if not isinstance(configuration, dict):
            self.add_error("config_text", "The configuration must be a JSON object.")
        elif kind in TYPES:
            type_class = TYPES.load(kind)
            try:
                self.instance.configuration = type_class.validate(
                    type_class.keep_secrets(configuration, self.instance.configuration or {}))
            except ConfigError as e:
                self.add_error("config_text", str(e))
        secret = cleaned.get("secret_text") or ""
        if secret != MASK:
            self.instance.secret = secret
        return cleaned


@admin.register(Integration)
class IntegrationAdmin(DebugAllAdminMixin, TenantScopedAdmin):
    form = IntegrationForm
    list_display = ("name", "type", "enabled", "routing_key", "default_converter", "status", "debug_all")
    list_filter = ("type", "enabled", "remote")
    search_fields = ("name", "=routing_key")
    readonly_fields = ("endpoint", "id", "created_time", "version", "connected", "last_message",
                       "last_error", "last_error_when", "service_id")
    fieldsets = (
        (None, {"fields": ("name", "type", "enabled", "allow_create_devices_or_assets", "default_converter",
                           "downlink_converter", "routing_key", "endpoint", "config_text")}),
        ("Debug", {"fields": ("debug_failures_enabled", "debug_all")}),
        ("Remote", {"fields": ("remote", "secret_text"), "classes": ("collapse",)}),
        ("Status", {"fields": ("connected", "last_message", "last_error", "last_error_when", "service_id")}),
        ("Details", {"fields": ("additional_info", "edge_template", "id", "created_time", "version")}),
    )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        direction = {"default_converter": ConverterType.UPLINK, "downlink_converter": ConverterType.DOWNLINK}
        if formfield is not None and db_field.name in direction:
            formfield.queryset = formfield.queryset.filter(type=direction[db_field.name])
        return formfield

    @admin.display(description="Status")
    def status(self, obj) -> str:
        status = integration_status(obj)
        if status is None:
            return "-"
        return "ok" if status["success"] else f"error: {status['error'][:80]}"

    @admin.display(description="Uplink URL")
    def endpoint(self, obj) -> str:
        type_class = TYPES.load(obj.type) if obj.type in TYPES else None
        if obj.pk is None or type_class is None or not issubclass(type_class, PushIntegration):
            return "-"
        return f"/api/v1/integrations/{type_class.endpoint}/{obj.routing_key}"

    @admin.display(description="Last message")
    def last_message(self, obj) -> str:
        return format_ms(obj.last_message_ts) or "never"

    @admin.display(description="Last error at")
    def last_error_when(self, obj) -> str:
        return format_ms(obj.last_error_ts)


@admin.register(DeadLetter)
class DeadLetterAdmin(TenantScopedAdmin):
    """Read-only: dead letters are written by the pipeline and replayed through the API."""

    read_only = True
    list_display = ("received", "integration", "stage", "short_error", "attempts", "replayed")
    list_filter = ("stage",)
    search_fields = ("error",)
    fields = ("id", "integration", "received", "stage", "error", "attempts", "replayed", "content_type",
              "payload_preview", "metadata_display")
    readonly_fields = fields

    def get_queryset(self, request):
        # DeadLetter carries a tenant but no for_user(): scope it here
        queryset = admin.ModelAdmin.get_queryset(self, request).select_related("integration")
        if is_sysadmin(request.user):
            return queryset
        if not request.user.is_staff:
            return queryset.none()
        return queryset.filter(tenant_id=request.user.tenant_id)

    @admin.display(description="Received", ordering="received_ts")
    def received(self, obj) -> str:
        return format_ms(obj.received_ts)

    @admin.display(description="Replayed")
    def replayed(self, obj) -> str:
        return format_ms(obj.replayed_ts) or "-"

    @admin.display(description="Error")
    def short_error(self, obj) -> str:
        return obj.error[:100]

    @admin.display(description="Payload")
    def payload_preview(self, obj) -> str:
        payload = bytes(obj.payload or b"")
        head = payload[:PREVIEW_BYTES]
        try:
            text = head.decode("utf-8")
        except UnicodeDecodeError:
            text = head.hex(" ")
        more = f"\n... {len(payload) - PREVIEW_BYTES} more bytes" if len(payload) > PREVIEW_BYTES else ""
        return format_html('<pre style="white-space: pre-wrap; max-width: 100ch;">{}{}</pre>', text, more)

    @admin.display(description="Metadata")
    def metadata_display(self, obj) -> str:
        metadata = dict(obj.metadata or {})
        for key in CREDENTIAL_HEADERS:
            if key in metadata:
                metadata[key] = MASK
        text = json.dumps(metadata, indent=2, ensure_ascii=False)
        return format_html('<pre style="white-space: pre-wrap; max-width: 100ch;">{}</pre>', text)


class _IntegrationRowAdmin(TenantScopedAdmin):
    """Read-only rows that belong to a tenant through their integration (system bookkeeping)."""

    read_only = True

    def get_queryset(self, request):
        queryset = admin.ModelAdmin.get_queryset(self, request).select_related("integration")
        if is_sysadmin(request.user):
            return queryset
        if not request.user.is_staff:
            return queryset.none()
        return queryset.filter(integration__tenant_id=request.user.tenant_id)

    def _owns(self, request, obj) -> bool:
        return obj is None or is_sysadmin(request.user) or obj.integration.tenant_id == request.user.tenant_id


@admin.register(IntegrationStats)
class IntegrationStatsAdmin(_IntegrationRowAdmin):
    """Hourly counters written by the pipeline."""

    list_display = ("integration", "period", "messages_processed", "errors_occurred", "debug_events", "persisted")
    list_filter = ("persisted",)
    fields = ("integration", "period", "messages_processed", "errors_occurred", "debug_events", "persisted")
    readonly_fields = fields

    @admin.display(description="Hour", ordering="period_ts")
    def period(self, obj) -> str:
        return format_ms(obj.period_ts)


@admin.register(IntegrationLease)
class IntegrationLeaseAdmin(_IntegrationRowAdmin):
    """Which runintegrations host runs each listener integration, until when."""

    list_display = ("integration", "holder", "expires_at")
    fields = ("integration", "holder", "expires_at")
    readonly_fields = fields
