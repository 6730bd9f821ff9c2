"""Admin pages of white labeling documents, custom translations and custom menus (tenant-scoped: a tenant
administrator sees and edits its tenant's and its customers' rows; the system administrator every level)."""

from django import forms
from django.contrib import admin
from rest_framework.exceptions import NotFound
from rest_framework.exceptions import ValidationError as ApiValidationError
from unfold.admin import TabularInline

from branding import params
from branding.api.white_labeling import request_host
from branding.levels import Owner
from branding.menu_config import clean_config
from branding.models import CustomMenu, CustomMenuAssignee, CustomTranslation, WhiteLabeling
from branding.translations import checked
from branding.whitelabel import login_domain
from tbproject.admin import TenantScopedAdmin, TenantScopedForm, is_sysadmin

__all__ = ["WhiteLabelingAdmin", "CustomTranslationAdmin", "CustomMenuAdmin"]


def _form_error(error: ApiValidationError) -> forms.ValidationError:
    detail = error.detail
    return forms.ValidationError(str(detail[0] if isinstance(detail, list) and detail else detail))


class _OwnedAdmin(TenantScopedAdmin):
    readonly_fields = ("created_time",)

    def get_exclude(self, request, obj=None):
        exclude = list(super().get_exclude(request, obj) or [])
        return exclude if is_sysadmin(request.user) else [*exclude, "tenant"]

    @admin.display(description="level")
    def level(self, obj):
        return obj.level


class WhiteLabelingForm(TenantScopedForm):
    request_host = ""  # set per request by WhiteLabelingAdmin.get_form

    class Meta:
        model = WhiteLabeling
        fields = ("tenant", "customer", "kind", "domain_name", "settings")

    def clean(self):
        cleaned = super().clean()
        kind, settings = cleaned.get("kind"), cleaned.get("settings")
        try:
            if kind in ("GENERAL", "LOGIN"):
                cleaned["settings"] = params.clean(settings or {}, login=kind == "LOGIN")
                if kind == "LOGIN":
                    customer = cleaned.get("customer")
                    owner = Owner(self.instance.tenant_id, customer.pk if customer else None)
                    login = {**cleaned["settings"], "domainName": cleaned["settings"].get("domainName")
                             or params.host_name(cleaned.get("domain_name") or "") or ""}
                    cleaned["domain_name"] = login_domain(owner, login, self.request_host)
            elif not isinstance(settings, dict):
                raise ApiValidationError("Mail templates must be a JSON object")
        except (ApiValidationError, NotFound) as e:
            raise _form_error(e) from None
        return cleaned


@admin.register(WhiteLabeling)
class WhiteLabelingAdmin(_OwnedAdmin):
    form = WhiteLabelingForm
    list_display = ("kind", "level", "tenant", "customer", "domain_name")
    list_filter = ("kind",)
    search_fields = ("domain_name",)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.request_host = request_host(request)
        return form


class CustomTranslationForm(TenantScopedForm):
    class Meta:
        model = CustomTranslation
        fields = ("tenant", "customer", "locale_code", "value")

    def clean_value(self):
        try:
            return checked(self.cleaned_data.get("value") or {})
        except ApiValidationError as e:
            raise _form_error(e) from None


@admin.register(CustomTranslation)
class CustomTranslationAdmin(_OwnedAdmin):
    form = CustomTranslationForm
    list_display = ("locale_code", "level", "tenant", "customer")
    search_fields = ("locale_code",)


class CustomMenuAssigneeInline(TabularInline):
    model = CustomMenuAssignee
    extra = 0
    fields = ("entity_type", "entity_id")
    readonly_fields = ("entity_type", "entity_id")
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class CustomMenuForm(TenantScopedForm):
    class Meta:
        model = CustomMenu
        fields = ("tenant", "customer", "name", "scope", "config")

    def clean_config(self):
        tenant_id = self.instance.tenant_id or (self.cleaned_data.get("tenant").pk
                                                if self.cleaned_data.get("tenant") else None)
        try:
            return clean_config(self.cleaned_data.get("config"), tenant_id)
        except ApiValidationError as e:
            raise _form_error(e) from None


@admin.register(CustomMenu)
class CustomMenuAdmin(_OwnedAdmin):
    form = CustomMenuForm
    list_display = ("name", "scope", "assignee_type", "level", "tenant", "customer")
    list_filter = ("scope", "assignee_type")
    search_fields = ("name",)
    readonly_fields = ("created_time", "assignee_type")
    inlines = [CustomMenuAssigneeInline]
