"""The widget library, resources and images in the admin. A system administrator's rows are system rows
(tenant empty) that every tenant administrator sees read-only beside its own; a tenant administrator's new
rows are its tenant's. Resource bytes are uploaded as a file and checked as the API checks them."""

import secrets

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import APIException

from dashboards import resources
from dashboards.models import BundleWidget, Resource, WidgetsBundle, WidgetType
from tbproject.admin import TenantScopedAdmin, TenantScopedForm, format_ms, is_sysadmin

__all__ = ["LibraryAdmin", "WidgetsBundleAdmin", "WidgetTypeAdmin", "ResourceAdmin", "BundleWidgetAdmin"]


class LibraryAdmin(TenantScopedAdmin):
    """System rows are shown to tenant administrators, never changed by them."""

    def has_view_permission(self, request, obj=None):
        if obj is not None and obj.tenant_id is None:
            return self._may_enter(request)
        return super().has_view_permission(request, obj)

    @admin.display(description="Scope", ordering="tenant")
    def scope_label(self, obj) -> str:
        return "system" if obj.tenant_id is None else str(obj.tenant)

    @admin.display(description="Created", ordering="created_time")
    def created(self, obj) -> str:
        return format_ms(obj.created_time)


def _unique_in_system(form, model, values: dict, field: str, message: str) -> None:
    """A system row (no tenant) unique by ``values``: Django's own check skips the constraints that name
    ``tenant`` (not a form field), so a duplicate is found here, a form error instead of a database error."""
    instance = form.instance
    if instance.tenant_id is not None or any(v in (None, "") for v in values.values()):
        return
    if model.objects.filter(tenant__isnull=True, **values).exclude(pk=instance.pk).exists():
        form.add_error(field if field in form.fields else None, message)


class BundleWidgetInline(admin.TabularInline):
    model = BundleWidget
    extra = 1
    ordering = ("position",)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "widget_type" and formfield is not None and not is_sysadmin(request.user):
            formfield.queryset = WidgetType.objects.for_user(request.user)
        elif db_field.name == "widget_type" and formfield is not None:
            formfield.queryset = WidgetType.objects.filter(tenant__isnull=True)  # a system bundle: system widgets
        return formfield


class WidgetsBundleForm(TenantScopedForm):
    class Meta:
        model = WidgetsBundle
        fields = "__all__"

    def clean(self):
        cleaned = super().clean()
        _unique_in_system(self, WidgetsBundle, {"alias": cleaned.get("alias")}, "alias",
                          "A system widgets bundle with this alias already exists.")
        return cleaned


@admin.register(WidgetsBundle)
class WidgetsBundleAdmin(LibraryAdmin):
    form = WidgetsBundleForm
    list_display = ("title", "alias", "scope_label", "order", "scada", "created")
    list_filter = ("scada",)
    search_fields = ("title", "alias", "description")
    readonly_fields = ("id", "created", "version")
    inlines = [BundleWidgetInline]
    fields = ("title", "alias", "description", "image", "order", "scada", "id", "created", "version")


class WidgetTypeForm(TenantScopedForm):
    class Meta:
        model = WidgetType
        fields = "__all__"
        widgets = {"descriptor_text": forms.Textarea(attrs={"rows": 20, "class": "vLargeTextField"}),
                   "image": forms.Textarea(attrs={"rows": 2}), "description": forms.Textarea(attrs={"rows": 3})}
        labels = {"descriptor_text": "Descriptor (JSON)"}

    def clean(self):
        cleaned = super().clean()
        _unique_in_system(self, WidgetType, {"fqn": cleaned.get("fqn")}, "fqn",
                          "A system widget type with this fqn already exists.")
        return cleaned


@admin.register(WidgetType)
class WidgetTypeAdmin(LibraryAdmin):
    form = WidgetTypeForm
    list_display = ("name", "fqn", "scope_label", "widget_kind", "deprecated", "scada", "created")
    list_filter = ("deprecated", "scada", "widget_kind")
    search_fields = ("name", "fqn", "description")
    readonly_fields = ("id", "created", "version", "widget_kind")
    fields = ("name", "fqn", "deprecated", "scada", "description", "image", "tags", "descriptor_text", "widget_kind",
              "id", "created", "version")


class ResourceForm(TenantScopedForm):
    upload = forms.FileField(required=False, help_text="The resource's bytes (replaces them on a change)")

    class Meta:
        model = Resource
        fields = ("title", "resource_type", "resource_sub_type", "resource_key", "file_name", "is_public")
        widgets = {"resource_type": forms.Select(choices=[(t, t) for t in resources.RESOURCE_TYPES]),
                   "resource_sub_type": forms.Select(choices=[("", "-")] + [(t, t) for t in resources.SUB_TYPES])}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("resource_key", "file_name"):
            self.fields[name].required = False
            self.fields[name].help_text = "Empty: the uploaded file's name"

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("upload")
        instance = self.instance
        if upload is None and instance._state.adding:
            raise DjangoValidationError({"upload": "Upload the resource's file."})
        kind = cleaned.get("resource_type") or instance.resource_type
        retyped = not instance._state.adding and kind != instance.resource_type
        if upload is not None or retyped or (kind == "IMAGE" and not (instance.media_type or "").startswith("image/")):
            # new bytes, or the stored ones under a new type: checked as the API checks them (an LwM2M
            # model's XML never becomes an "image" served inline, publicly)
            instance.resource_type = kind
            instance.resource_sub_type = cleaned.get("resource_sub_type") or None
            try:
                if upload is not None:
                    resources.check_size(upload.size)
                resources.store(instance, upload.read() if upload is not None else bytes(instance.data or b""))
            except APIException as e:
                if upload is not None:
                    raise DjangoValidationError({"upload": str(e.detail)}) from None
                raise DjangoValidationError({"resource_type": f"The stored file cannot be a {kind}: {e.detail}. "
                                                              "Upload a file of that type."}) from None
            if upload is not None:
                cleaned["file_name"] = cleaned.get("file_name") or upload.name
            cleaned["resource_sub_type"] = instance.resource_sub_type
        key = cleaned.get("resource_key") or cleaned.get("file_name") or instance.resource_key
        cleaned["resource_key"] = resources.safe_key(key) if key else key
        if kind == "IMAGE" and not instance.public_resource_key:
            instance.public_resource_key = secrets.token_urlsafe(24)
        _unique_in_system(self, Resource, {"resource_type": kind, "resource_key": cleaned["resource_key"]},
                          "resource_key", "A system resource of this type with this key already exists.")
        return cleaned


@admin.register(Resource)
class ResourceAdmin(LibraryAdmin):
    form = ResourceForm
    list_display = ("title", "resource_type", "resource_key", "scope_label", "media_type", "size", "is_public",
                    "created")
    list_filter = ("resource_type", "is_public")
    search_fields = ("title", "resource_key", "file_name")
    readonly_fields = ("id", "created", "version", "etag", "media_type", "size", "public_resource_key")

    @admin.display(description="Size (bytes)")
    def size(self, obj) -> int:
        return len(obj.data or b"")


@admin.register(BundleWidget)
class BundleWidgetAdmin(LibraryAdmin):
    """The rows behind a bundle's widget list; edited in the bundle's page."""

    sysadmin_only = True
    list_display = ("bundle", "widget_type", "position")
