"""Reporting in the admin, tenant-scoped by TenantScopedAdmin: report templates are edited (the
configuration as JSON, checked as the API checks it); reports, report jobs and blob entities are
read-only records of what was generated (download them through the API)."""

from django.contrib import admin
from rest_framework.exceptions import APIException

from reports import services
from reports.models import BlobEntity, Report, ReportJob, ReportTemplate
from tbproject.admin import TenantScopedAdmin, TenantScopedForm, format_ms


class ReportTemplateForm(TenantScopedForm):
    class Meta:
        model = ReportTemplate
        fields = "__all__"

    def clean(self):
        cleaned = super().clean()
        try:
            cleaned["configuration"] = services.check_template_config(
                cleaned.get("configuration") or {"format": cleaned.get("format")}, cleaned.get("format"))
        except APIException as e:
            detail = e.detail[0] if isinstance(e.detail, list) else e.detail
            self.add_error("configuration", str(detail))
        return cleaned


@admin.register(ReportTemplate)
class ReportTemplateAdmin(TenantScopedAdmin):
    form = ReportTemplateForm
    list_display = ("name", "format", "type", "customer", "created")
    list_filter = ("format", "type")
    search_fields = ("name", "description")
    readonly_fields = ("id", "version")

    @admin.display(description="Created", ordering="created_time")
    def created(self, obj) -> str:
        return format_ms(obj.created_time)


class _Record(TenantScopedAdmin):
    read_only = True
    search_fields = ("name",)

    @admin.display(description="Created", ordering="created_time")
    def created(self, obj) -> str:
        return format_ms(obj.created_time)


@admin.register(Report)
class ReportAdmin(_Record):
    list_display = ("name", "format", "template", "user", "public", "created")
    list_filter = ("format", "public")


@admin.register(ReportJob)
class ReportJobAdmin(_Record):
    list_display = ("key", "status", "template", "report", "error", "created")
    list_filter = ("status",)
    search_fields = ("key",)


@admin.register(BlobEntity)
class BlobEntityAdmin(_Record):
    list_display = ("name", "type", "content_type", "customer", "created")
    list_filter = ("type",)
