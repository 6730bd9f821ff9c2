"""Admin for integrations (secrets masked, kept when left as the mask) and dead letters (replayable).

The integration page is guided: type first, then the type's settings as a form built from its
configuration schema (static/ui/integration-form.js writes the JSON field); its change page shows
the uplink URL with a copy button, the status, a sparkline of messages and live debug events."""

import json

from django import forms
from django.contrib import admin
from django.urls import path
from django.utils.html import format_html
from unfold.widgets import UnfoldAdminPasswordInput, UnfoldAdminTextareaWidget

from converters import history
from converters.admin import DebugAllAdminMixin, DebugAllFormMixin
from converters.choices import ConverterType
from integrations import expiry
from integrations.admin_pages import converter_health
from integrations.admin_pages import dead_letters as dead_letter_pages
from integrations.admin_pages import integration_page as page
from integrations.admin_rows import ms_column, with_integration  # also registers the read-only bookkeeping rows
from integrations.api.serializers import ROUTING_KEY_RE
from integrations.models import (
    DeadLetter,
    Integration,
    RemoteStatus,
)
from integrations.types import TYPES
from integrations.types.base import MASK, ConfigError
from tbproject.admin import TenantScopedAdmin, TenantScopedForm, format_ms

MONOSPACE = {"style": "font-family: ui-monospace, Menlo, Consolas, monospace; width: 90%;", "rows": 18,
             "spellcheck": "false"}
#: request headers whose values a dead letter's metadata never shows
CREDENTIAL_HEADERS = ("Header:authorization", "Header:x-authorization", "Header:cookie", "Header:proxy-authorization")
PREVIEW_BYTES = 4096


class IntegrationForm(DebugAllFormMixin, TenantScopedForm):
    """``configuration`` is edited as JSON text showing every secret as the mask, ``secret`` in a
    password input showing the mask; a mask left in place keeps the stored value."""

    config_text = forms.CharField(label="Configuration", required=False, strip=False,
                                  widget=UnfoldAdminTextareaWidget(attrs=MONOSPACE),
                                  help_text=f"The type's configuration as JSON. Secrets show as {MASK}; "
                                            "leave them so to keep the stored values.")
    secret_text = forms.CharField(label="Secret", required=False, strip=False,
                                  widget=UnfoldAdminPasswordInput(render_value=True,
                                                                  attrs={"autocomplete": "off"}),
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
        if cleaned.get("pinned_converter_version") is not None and cleaned.get("default_converter") is not None:
            try:
                history.check_pin(cleaned["default_converter"], cleaned["pinned_converter_version"])
            except ValueError as e:
                self.add_error("pinned_converter_version", str(e))
        secret = cleaned.get("secret_text") or ""
        if secret != MASK:
            self.instance.secret = secret
        return cleaned


@admin.register(Integration)
class IntegrationAdmin(DebugAllAdminMixin, TenantScopedAdmin):
    form = IntegrationForm
    change_form_before_template = "admin/integrations/integration/overview.html"
    change_form_outer_after_template = "admin/integrations/integration/panels.html"
    list_display = ("name", "type", "enabled", "routing_key", "default_converter", "status", "debug_all")
    list_filter = ("type", "enabled", "remote")
    search_fields = ("name", "=routing_key")
    readonly_fields = ("endpoint", "id", "created_time", "version", "connected", "last_message",
                       "last_error", "last_error_when", "service_id", "remote_runner")
    fieldsets = (
        (None, {"fields": ("name", "type", "enabled", "allow_create_devices_or_assets", "default_converter",
                           "pinned_converter_version", "downlink_converter", "routing_key", "endpoint",
                           "config_text")}),
        ("Debug", {"fields": ("debug_failures_enabled", "debug_all")}),
        ("Remote", {"fields": ("remote", "secret_text", "remote_runner"), "classes": ("collapse",)}),
        ("Status", {"fields": ("connected", "last_message", "last_error", "last_error_when", "service_id")}),
        ("Details", {"classes": ("collapse",),
                     "fields": ("additional_info", "edge_template", "id", "created_time", "version")}),
    )
    #: type first: the settings below follow the chosen type's schema
    add_fieldsets = (
        ("Type", {"fields": ("type",)}),
        (None, {"fields": ("name", "enabled", "allow_create_devices_or_assets", "default_converter",
                           "downlink_converter", "routing_key", "config_text")}),
        ("Debug", {"fields": ("debug_failures_enabled", "debug_all")}),
        ("Remote", {"fields": ("remote", "secret_text"), "classes": ("collapse",)}),
    )

    class Media:
        js = ("ui/ui.js", "ui/integration-form.js")

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["ui_type_schemas"] = page.type_schemas()
        if obj is not None:
            path = page.endpoint_path(obj)
            context["ui_endpoint_url"] = request.build_absolute_uri(path) if path else ""
            context["ui_status"] = page.status_summary(obj)
            context["ui_sparkline"] = page.sparkline_svg(obj)
            context["ui_converter_health"] = converter_health.health_panel(obj)
            context["ui_credential_warnings"] = page.credential_warnings(obj)
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        expiry.warn(obj)  # credentials expiring within 30 days: an LC_EVENT now, as the API does

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        direction = {"default_converter": ConverterType.UPLINK, "downlink_converter": ConverterType.DOWNLINK}
        if formfield is not None and db_field.name in direction:
            formfield.queryset = formfield.queryset.filter(type=direction[db_field.name])
        return formfield

    @admin.display(description="Status")
    def status(self, obj) -> str:
        return page.status_badge(obj)

    @admin.display(description="Uplink URL")
    def endpoint(self, obj) -> str:
        return page.endpoint_path(obj) or "-"

    @admin.display(description="Last message")
    def last_message(self, obj) -> str:
        return format_ms(obj.last_message_ts) or "never"

    @admin.display(description="Last error at")
    def last_error_when(self, obj) -> str:
        return format_ms(obj.last_error_ts)

    @admin.display(description="Remote runner")
    def remote_runner(self, obj) -> str:
        status = RemoteStatus.objects.filter(integration=obj).first() if obj is not None and obj.pk else None
        if status is None:
            return "never connected"
        state = "connected" if status.connected else "disconnected"
        return (f"{state}: {status.host or status.address} (version {status.version or '?'}), last seen "
                f"{format_ms(status.last_seen_ts) or 'never'}; outbox {status.outbox_depth} waiting, "
                f"{status.dropped} dropped")


@admin.register(DeadLetter)
class DeadLetterAdmin(TenantScopedAdmin):
    """Read-only rows written by the pipeline; replayed by the "Replay selected" action or the
    time-range form (integrations/admin_pages/dead_letters.py, the same service as the replay API)."""

    read_only = True
    list_before_template = "admin/integrations/deadletter/list_before.html"
    actions = ("replay_selected",)
    list_display = ("received", "integration", "stage", "short_error", "short_payload", "attempts", "replayed")
    list_filter = ("stage",)
    search_fields = ("error",)
    fields = ("id", "integration", "received", "stage", "error", "converter_version", "attempts", "replayed",
              "content_type", "payload_preview", "metadata_display")
    readonly_fields = fields

    def get_queryset(self, request):
        return with_integration(self, request, "tenant_id")  # DeadLetter carries a tenant but no for_user()

    received = ms_column("received_ts", "Received")

    @admin.action(description="Replay selected dead letters")
    def replay_selected(self, request, queryset):
        dead_letter_pages.replay_selected(request, queryset)

    def get_urls(self):
        view = self.admin_site.admin_view(lambda request: dead_letter_pages.replay_range_view(self, request))
        return [path("replay/", view, name="integrations_deadletter_replay_range"), *super().get_urls()]

    @admin.display(description="Payload")
    def short_payload(self, obj) -> str:
        head = bytes(obj.payload or b"")[:80]
        try:
            return head.decode("utf-8")
        except UnicodeDecodeError:
            return head.hex(" ")

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
