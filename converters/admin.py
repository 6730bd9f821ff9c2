"""Admin for converters and debug events (read-only).

The change page is the converter editor: the script in CodeMirror (static/ui/converter-editor.js;
the textarea stays the submitted field, compiled on save, its error shown at its line), the
"Test decoder/encoder function" panels calling the testUpLink / testDownLink API, and the
converter's live debug events (static/ui/ui.js)."""

import json

from django import forms
from django.contrib import admin
from django.urls import path
from django.utils.html import format_html
from unfold.widgets import UnfoldAdminSelectWidget, UnfoldAdminTextInputWidget, UnfoldBooleanSwitchWidget

from converters import engine, scripts, stored_tests
from converters.admin_pages import converter_panels
from converters.choices import ScriptLang
from converters.events import all_enabled_until
from converters.models import Converter, ConverterHealth, ConverterTest, ConverterVersion, DebugEvent
from tbproject.admin import TenantScopedAdmin, TenantScopedForm, format_ms, is_sysadmin
from tbproject.api.exceptions import ServiceUnavailable
from tbproject.clock import now_ms

MONOSPACE = {"style": "font-family: ui-monospace, Menlo, Consolas, monospace; width: 90%;", "rows": 24,
             "spellcheck": "false"}


class DebugAllFormMixin(forms.Form):
    """The "debug all messages" switch of converters and integrations (ThingsBoard 3.9+ policy):
    on sets ``debug_all_enabled_until`` to now + DEBUG_ALL_DURATION_MINUTES unless it runs already,
    off clears it."""

    debug_all = forms.BooleanField(required=False, label="Debug all messages", widget=UnfoldBooleanSwitchWidget,
                                   help_text="On: every message is recorded for the next DEBUG_ALL_DURATION_MINUTES "
                                             "(15 by default), then only failures (when Debug failures is on).")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance._state.adding:
            self.initial.setdefault("debug_all", self.instance.debug_all_active())

    def save(self, commit=True):
        instance = self.instance
        if self.cleaned_data.get("debug_all"):
            if not instance.debug_all_active():
                instance.debug_all_enabled_until = all_enabled_until()
        else:
            instance.debug_all_enabled_until = 0
        return super().save(commit)


def debug_all_until(obj) -> str:
    """When "debug all" ends; while it runs, the page counts the time left down (data-until-ms)."""
    if not obj.debug_all_enabled_until:
        return "off"
    if obj.debug_all_enabled_until <= now_ms():
        return format_ms(obj.debug_all_enabled_until) + " (ended)"
    return format_html('{} <span class="ui-muted" data-until-ms="{}"></span>',
                       format_ms(obj.debug_all_enabled_until), obj.debug_all_enabled_until)


class DebugAllAdminMixin:
    """The "Debug all" column of converter and integration lists."""

    @admin.display(description="Debug all", boolean=True)
    def debug_all(self, obj) -> bool:
        return obj.debug_all_active()


#: what a new converter's editor starts with: an uplink decoder for JSON bodies
STARTER_DECODER = """// payload: the message as an array of bytes; metadata: integrationName, headers, ...
var data = JSON.parse(String.fromCharCode.apply(null, payload));
return {
    deviceName: data.deviceName,
    deviceType: "sensor",
    telemetry: {temperature: data.temperature}
};
"""

#: ... and when its type is switched to downlink before anything was typed: an encoder to JSON
STARTER_ENCODER = """// msg: the rule-engine message; metadata: its metadata (deviceName, deviceType, ...)
return {
    contentType: "JSON",
    data: JSON.stringify(msg),
    metadata: {deviceName: metadata.deviceName}
};
"""


class ConverterForm(DebugAllFormMixin, TenantScopedForm):
    """Edits the script that runs (the configuration field chosen by type x language) as text;
    the rest of ``configuration`` is kept as it is."""

    script_lang = forms.ChoiceField(label="Script language", choices=ScriptLang.choices, initial=ScriptLang.JS,
                                    widget=UnfoldAdminSelectWidget)
    script = forms.CharField(widget=forms.Textarea(attrs=MONOSPACE), strip=False,
                             help_text="The body of Decoder(payload, metadata) for an uplink converter, of "
                                       "Encoder(msg, metadata, msgType, integrationMetadata) for a downlink one.")
    update_only_keys = forms.CharField(required=False, widget=UnfoldAdminTextInputWidget,
                                       help_text="Comma-separated keys stored only when changed.")
    force = forms.BooleanField(required=False, label="Save even if stored tests break",
                               widget=UnfoldBooleanSwitchWidget,
                               help_text="A change that makes a passing stored test fail is refused unless this "
                                         "is on.")

    class Meta:
        model = Converter
        exclude = ("configuration",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        instance = self.instance
        if instance._state.adding:
            self.initial.setdefault("script", STARTER_DECODER)
        else:
            self.initial.setdefault("script_lang", instance.script_lang)
            self.initial.setdefault("script", instance.script)
            self.initial.setdefault("update_only_keys", ", ".join(instance.update_only_keys))

    def clean(self):
        cleaned = super().clean()
        converter_type, lang = cleaned.get("type"), cleaned.get("script_lang")
        if not converter_type or not lang or "script" not in cleaned:
            return cleaned
        configuration = dict(self.instance.configuration or {})
        configuration["scriptLang"] = lang
        configuration[scripts.target_field(converter_type, lang)] = cleaned["script"]
        configuration["updateOnlyKeys"] = [k.strip() for k in cleaned.get("update_only_keys", "").split(",")
                                           if k.strip()]
        try:
            configuration = scripts.clean_configuration(converter_type, configuration)
            scripts.check_compiles(converter_type, configuration)
        except scripts.ConfigurationError as e:
            self.add_error("script_lang" if e.field == "scriptLang" else "script", e.message)
        except engine.EngineError:
            self.add_error("script", "The script engine cannot start right now; try again.")
        self.instance.configuration = configuration
        self._run_stored_tests(cleaned)
        return cleaned

    def _run_stored_tests(self, cleaned) -> None:
        """Beyond ThingsBoard: the stored tests run on the change before it is saved (converters.stored_tests)."""
        self.test_results = None
        instance = self.instance
        if self.errors or instance._state.adding or not stored_tests.tests_of(instance).exists():
            return
        candidate = stored_tests.candidate_of(instance, {**cleaned, "configuration": instance.configuration})
        try:
            self.test_results = stored_tests.check_save(candidate, force=bool(cleaned.get("force")))
        except stored_tests.TestsBroken as e:
            self.add_error("force", str(e.detail).replace("Save with force=true", "Switch this on"))
        except ServiceUnavailable as e:
            self.add_error("script", str(e.detail))


@admin.register(Converter)
class ConverterAdmin(DebugAllAdminMixin, TenantScopedAdmin):
    form = ConverterForm
    change_form_outer_after_template = "admin/converters/converter/panels.html"
    starter_scripts = {"UPLINK": STARTER_DECODER, "DOWNLINK": STARTER_ENCODER}

    class Media:
        js = ("ui/vendor/codemirror.js", "ui/ui.js", "ui/converter-editor.js", "ui/converter-history.js")

    list_display = ("name", "type", "integration_type", "converter_version", "debug_failures_enabled", "debug_all")
    list_filter = ("type", "integration_type", "converter_version")
    search_fields = ("name",)
    readonly_fields = ("id", "created_time", "version", "script_version", "version_number", "debug_all_until_display")
    fieldsets = (
        (None, {"fields": ("name", "type", "integration_type", "converter_version", "script_lang", "script",
                           "update_only_keys", "force")}),
        ("Debug", {"fields": ("debug_failures_enabled", "debug_all", "debug_all_until_display")}),
        ("Details", {"classes": ("collapse",), "fields": ("additional_info", "edge_template", "id", "created_time",
                                                           "version", "script_version", "version_number")}),
    )

    list_before_template = "admin/converters/converter/list_before.html"

    def save_model(self, request, obj, form, change):
        obj.changed_by = request.user  # the new version's author
        super().save_model(request, obj, form, change)
        if getattr(form, "test_results", None) is not None:
            stored_tests.record(form.test_results, obj.version_number)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["ui_versions"] = converter_panels.versions_panel(obj)
            context["ui_tests"] = converter_panels.tests_panel(obj)
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    @admin.display(description="Debug all until")
    def debug_all_until_display(self, obj) -> str:
        return debug_all_until(obj)

    def get_urls(self):
        from converters.admin_pages.converter_library import library_view

        view = self.admin_site.admin_view(lambda request: library_view(self, request))
        return [path("library/", view, name="converters_converter_library"), *super().get_urls()]


@admin.register(DebugEvent)
class DebugEventAdmin(TenantScopedAdmin):
    """Read-only: events are written by converters and integrations, and expire on a schedule."""

    read_only = True
    list_display = ("created", "event_type", "entity_type", "entity_id", "kind", "is_error", "server")
    list_filter = ("event_type", "entity_type", "is_error")
    search_fields = ("=entity_id", "server")
    fields = ("id", "created", "event_type", "entity_type", "entity_id", "server", "is_error", "pretty_body")
    readonly_fields = fields

    @admin.display(description="Time", ordering="created_time")
    def created(self, obj) -> str:
        return format_ms(obj.created_time)

    @admin.display(description="Type")
    def kind(self, obj) -> str:
        return (obj.body or {}).get("type", "") if isinstance(obj.body, dict) else ""

    @admin.display(description="Body")
    def pretty_body(self, obj) -> str:
        text = json.dumps(obj.body, indent=2, ensure_ascii=False)
        return format_html('<pre style="white-space: pre-wrap; max-width: 100ch;">{}</pre>', text)


class _ConverterRowAdmin(TenantScopedAdmin):
    """Read-only rows shown on the converter editor (versions, stored tests) or written by the
    engine's callers (health); listed here for search and audit."""

    read_only = True
    list_select_related = ("converter",)


@admin.register(ConverterVersion)
class ConverterVersionAdmin(_ConverterRowAdmin):
    list_display = ("converter", "number", "saved", "author_name", "rolled_back_from")
    search_fields = ("converter__name", "author_name")
    fields = ("converter", "number", "saved", "author_name", "type", "integration_type", "converter_version",
              "configuration", "rolled_back_from")
    readonly_fields = fields

    @admin.display(description="Saved", ordering="created_time")
    def saved(self, obj) -> str:
        return format_ms(obj.created_time)


@admin.register(ConverterTest)
class ConverterTestAdmin(_ConverterRowAdmin):
    list_display = ("converter", "name", "last_passed", "last_version")
    list_filter = ("last_passed",)
    search_fields = ("converter__name", "name")
    fields = ("converter", "name", "metadata", "expected", "last_passed", "last_error", "last_differences",
              "last_version")
    readonly_fields = fields


@admin.register(ConverterHealth)
class ConverterHealthAdmin(_ConverterRowAdmin):
    list_display = ("converter", "hour", "executions", "errors")
    fields = ("converter", "hour", "executions", "errors", "total_us")
    readonly_fields = fields

    def get_queryset(self, request):
        # ConverterHealth has no tenant column: scope it through its converter
        queryset = admin.ModelAdmin.get_queryset(self, request).select_related("converter")
        if is_sysadmin(request.user):
            return queryset
        return queryset.filter(converter__tenant_id=request.user.tenant_id) if request.user.is_staff \
            else queryset.none()

    @admin.display(description="Hour", ordering="period_ts")
    def hour(self, obj) -> str:
        return format_ms(obj.period_ts)
