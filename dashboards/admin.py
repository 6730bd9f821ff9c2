"""Dashboards in the admin, tenant-scoped by TenantScopedAdmin; the configuration is edited as JSON text."""

from django import forms
from django.contrib import admin

from dashboards.models import Dashboard
from devices.choices import GroupType
from tbproject.admin import TenantScopedAdmin, TenantScopedForm, format_ms


class DashboardForm(TenantScopedForm):
    class Meta:
        model = Dashboard
        fields = "__all__"
        widgets = {"configuration_text": forms.Textarea(attrs={"rows": 20, "class": "vLargeTextField"}),
                   "image": forms.Textarea(attrs={"rows": 2})}
        labels = {"configuration_text": "Configuration (JSON)"}


@admin.register(Dashboard)
class DashboardAdmin(TenantScopedAdmin):
    form = DashboardForm
    list_display = ("title", "mobile_hide", "mobile_order", "customers", "created")
    list_filter = ("mobile_hide",)
    search_fields = ("title",)
    filter_horizontal = ("assigned_customers", "groups")
    readonly_fields = ("id", "created", "version")
    fieldsets = (
        (None, {"fields": ("title", "assigned_customers", "groups", "image", "mobile_hide", "mobile_order")}),
        ("Configuration", {"fields": ("configuration_text",)}),
        ("Details", {"fields": ("id", "created", "version", "additional_info"), "classes": ("collapse",)}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("assigned_customers")

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        formfield = super().formfield_for_manytomany(db_field, request, **kwargs)
        if db_field.name == "groups" and formfield is not None:
            formfield.queryset = formfield.queryset.filter(type=GroupType.DASHBOARD)  # PE's dashboard groups
        return formfield

    @admin.display(description="Customers")
    def customers(self, obj) -> str:
        return ", ".join(sorted(c.title for c in obj.assigned_customers.all())) or "-"

    @admin.display(description="Created", ordering="created_time")
    def created(self, obj) -> str:
        return format_ms(obj.created_time)
from dashboards import library_admin  # noqa: E402,F401  (widgets bundles, widget types, resources)
