"""Calculated fields, their debug events and reprocessing jobs in the admin, tenant-scoped by TenantScopedAdmin.

A field's configuration is edited as JSON and checked as the API checks it (entity of the tenant,
configuration, referenced entities, script compiles, no cycle): the same services.save runs."""

from django import forms
from django.contrib import admin

from calculated import index, services
from calculated.models import CalculatedField, CalculatedFieldEvent, Job
from tbproject.admin import TenantScopedAdmin, TenantScopedForm, format_ms


class CalculatedFieldForm(TenantScopedForm):
    class Meta:
        model = CalculatedField
        fields = "__all__"

    def clean(self):
        cleaned = super().clean()
        tenant_id = self.instance.tenant_id
        if self.errors:
            return cleaned
        if tenant_id is None:  # never saved unchecked: services.check needs the tenant
            raise forms.ValidationError("Choose the tenant that owns the calculated field.")
        data = {"name": cleaned.get("name"), "type": cleaned.get("kind"), "configuration": cleaned.get("configuration"),
                "entityId": {"entityType": cleaned.get("entity_type"), "id": str(cleaned.get("entity_id"))},
                "additionalInfo": cleaned.get("additional_info")}
        if not self.instance._state.adding:
            data["id"] = str(self.instance.pk)
        try:
            services.check(tenant_id, data)
        except (services.FieldError, services.EngineUnavailable) as e:
            raise forms.ValidationError(str(e)) from None
        except Exception as e:  # NotFound: the entity is not the tenant's
            raise forms.ValidationError(str(getattr(e, "detail", e))) from None
        return cleaned


@admin.register(CalculatedField)
class CalculatedFieldAdmin(TenantScopedAdmin):
    form = CalculatedFieldForm
    list_display = ("name", "kind", "entity_type", "entity_id", "created")
    list_filter = ("kind", "entity_type")
    search_fields = ("name",)
    readonly_fields = ("id", "version", "created")
    fieldsets = (
        (None, {"fields": ("name", "kind", "entity_type", "entity_id")}),
        ("Configuration", {"fields": ("configuration", "configuration_version")}),
        ("Debug", {"fields": ("debug_failures_enabled", "debug_all_enabled_until")}),
        ("Details", {"fields": ("id", "version", "created", "additional_info"), "classes": ("collapse",)}),
    )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        index.forget()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        index.forget()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        index.forget()

    @admin.display(description="Created", ordering="created_time")
    def created(self, obj) -> str:
        return format_ms(obj.created_time)


@admin.register(CalculatedFieldEvent)
class CalculatedFieldEventAdmin(TenantScopedAdmin):
    read_only = True
    list_display = ("field", "created", "is_error")
    list_filter = ("is_error",)
    readonly_fields = ("id", "field", "created", "is_error", "body")
    fields = readonly_fields

    @admin.display(description="Created", ordering="created_time")
    def created(self, obj) -> str:
        return format_ms(obj.created_time)


@admin.register(Job)
class JobAdmin(TenantScopedAdmin):
    """Reprocessing jobs, read-only: they are started, cancelled and deleted through the API."""

    read_only = True
    list_display = ("entity_name", "kind", "status", "created")
    list_filter = ("kind", "status")
    search_fields = ("entity_name", "key")
    readonly_fields = ("id", "kind", "key", "entity_type", "entity_id", "entity_name", "status", "created",
                       "configuration", "result")
    fields = readonly_fields

    @admin.display(description="Created", ordering="created_time")
    def created(self, obj) -> str:
        return format_ms(obj.created_time)
