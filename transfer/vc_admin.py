"""Version control in the admin: a tenant's repository settings (secrets write-only: a blank field
keeps the stored value, none is ever shown), auto-commit settings, and the version requests with
their results (read-only). Imported by transfer/admin.py."""

from django import forms
from django.contrib import admin

from tbproject.admin import TenantScopedAdmin, TenantScopedForm, format_ms
from transfer.models import AutoCommitSettings, ExternalId, RepositorySettings, VersionRequest
from transfer.vc import autocommit
from transfer.vc.repository import SECRETS

__all__ = ["RepositorySettingsAdmin", "AutoCommitSettingsAdmin", "VersionRequestAdmin", "ExternalIdAdmin"]


class _OwnRows:
    """These models have no ``for_user``: a tenant administrator sees its tenant's row."""

    def get_queryset(self, request):
        qs = admin.ModelAdmin.get_queryset(self, request)
        user = request.user
        if getattr(user, "is_sysadmin", False):
            return qs
        return qs.filter(tenant_id=user.tenant_id) if user.is_staff and user.tenant_id else qs.none()

    def _owns(self, request, obj) -> bool:
        return obj is None or getattr(request.user, "is_sysadmin", False) or obj.tenant_id == request.user.tenant_id


class RepositorySettingsForm(TenantScopedForm):
    password = forms.CharField(required=False, widget=forms.PasswordInput(render_value=False),
                               help_text="Leave blank to keep the stored password.")
    private_key = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}),
                                  help_text="Leave blank to keep the stored key; it is never shown.")
    private_key_password = forms.CharField(required=False, widget=forms.PasswordInput(render_value=False),
                                           help_text="Leave blank to keep the stored passphrase.")

    class Meta:
        model = RepositorySettings
        fields = ("tenant", "repository_uri", "auth_method", "username", "password", "private_key_file_name",
                  "private_key", "private_key_password", "default_branch", "read_only", "show_merge_commits",
                  "local_only")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.stored = {f: getattr(self.instance, f, "") for f in SECRETS}
        for field in SECRETS:
            self.initial[field] = ""

    def clean(self):
        cleaned = super().clean()
        for field in SECRETS:
            if not cleaned.get(field):
                cleaned[field] = self.stored[field]
        return cleaned


class RepositorySettingsAdmin(_OwnRows, TenantScopedAdmin):
    form = RepositorySettingsForm
    list_display = ("repository_uri", "auth_method", "default_branch", "read_only")

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        return fields if getattr(request.user, "is_sysadmin", False) else [f for f in fields if f != "tenant"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        autocommit.forget(obj.tenant_id)


class AutoCommitSettingsAdmin(_OwnRows, TenantScopedAdmin):
    list_display = ("__str__",)
    fields = ("tenant", "config")

    def get_fields(self, request, obj=None):
        return self.fields if getattr(request.user, "is_sysadmin", False) else ("config",)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        autocommit.forget(obj.tenant_id)


class VersionRequestAdmin(_OwnRows, TenantScopedAdmin):
    read_only = True
    list_display = ("id", "kind", "done", "created")
    list_filter = ("kind", "done")
    readonly_fields = ("id", "kind", "user", "body", "result", "done", "created")
    fields = readonly_fields

    @admin.display(description="created")
    def created(self, obj) -> str:
        return format_ms(obj.created_time)


class ExternalIdAdmin(_OwnRows, TenantScopedAdmin):
    """Which entity stands for which repository id (set by loading versions)."""

    read_only = True
    list_display = ("entity_type", "external_id", "internal_id")
    list_filter = ("entity_type",)
    fields = readonly_fields = ("entity_type", "external_id", "internal_id")


admin.site.register(RepositorySettings, RepositorySettingsAdmin)
admin.site.register(AutoCommitSettings, AutoCommitSettingsAdmin)
admin.site.register(VersionRequest, VersionRequestAdmin)
admin.site.register(ExternalId, ExternalIdAdmin)
