"""Admin for OTA packages (upload a file, its checksum computed), device groups' packages, and device
profiles with their firmware/software; tenant-scoped like the rest (tbproject/admin.py). Saves run the
checks and the device notifications the REST API runs (devices/ota/)."""

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponseRedirect

from devices.choices import ChecksumAlgorithm
from devices.models import Device, DeviceGroupOtaPackage, DeviceProfile, OtaPackage
from devices.ota import packages, updates
from devices.ota.packages import FIELDS
from tbproject.admin import TenantScopedAdmin, TenantScopedForm, is_sysadmin
from tbproject.clock import now_ms

__all__ = ["OtaPackageAdmin", "DeviceGroupOtaPackageAdmin", "DeviceProfileAdmin"]


class OtaPackageForm(TenantScopedForm):
    upload = forms.FileField(required=False, label="File",
                             help_text="The package's bytes (at most OTA_PACKAGE_MAX_BYTES); not with a URL.")
    upload_checksum_algorithm = forms.ChoiceField(choices=ChecksumAlgorithm.choices, initial="SHA256",
                                                  label="Checksum algorithm")
    upload_checksum = forms.CharField(required=False, max_length=1020, label="Expected checksum",
                                      help_text="Optional: the upload is refused unless the file has it.")

    class Meta:
        model = OtaPackage
        fields = ("device_profile", "type", "title", "package_version", "tag", "url", "additional_info")

    def clean(self):
        cleaned = super().clean()
        profile = cleaned.get("device_profile")
        if profile is not None and self.instance.tenant_id is None:
            self.instance.tenant_id = profile.tenant_id  # a system admin's package is its profile's tenant's
        upload = cleaned.get("upload")
        if upload is not None and cleaned.get("url"):
            raise ValidationError("Give a file or a URL, not both.")
        cap = settings.OTA_PACKAGE_MAX_BYTES
        if upload is not None and upload.size > cap:  # refused before a byte of it is read
            self.add_error("upload", f"OTA package file is larger than {cap} bytes (OTA_PACKAGE_MAX_BYTES)")
        elif upload is not None:
            try:
                packages.prepare_data(self.instance, upload.read(), file_name=upload.name[:255],
                                      content_type=(upload.content_type or "")[:255],
                                      algorithm=cleaned.get("upload_checksum_algorithm") or "SHA256",
                                      given_checksum=cleaned.get("upload_checksum") or None)
            except ValidationError as e:
                self.add_error("upload", e)
        elif cleaned.get("url"):
            self.instance.has_data = True
        return cleaned


@admin.register(OtaPackage)
class OtaPackageAdmin(TenantScopedAdmin):
    form = OtaPackageForm
    list_display = ("title", "package_version", "type", "device_profile", "has_data", "data_size", "checksum_algorithm")
    list_filter = ("type", "has_data")
    search_fields = ("title", "package_version", "tag")
    readonly_fields = ("id", "created_time", "has_data", "file_name", "content_type", "checksum_algorithm",
                       "checksum", "data_size")
    _fixed = ("device_profile", "type", "title", "package_version", "tag", "url")

    def get_queryset(self, request):
        return super().get_queryset(request).defer("data")

    def get_readonly_fields(self, request, obj=None):
        # ThingsBoard keeps what identifies a saved package (and its file) as it is
        return (*self.readonly_fields, *(self._fixed if obj is not None else ()))

    def get_fields(self, request, obj=None):
        fields = ["device_profile", "type", "title", "package_version", "tag", "url", "additional_info"]
        if obj is None or not obj.has_data:
            fields += ["upload", "upload_checksum_algorithm", "upload_checksum"]
        return [*fields, *self.readonly_fields]

    def delete_model(self, request, obj):
        packages.check_delete(obj)  # the admin's delete page shows a refused delete as an error
        super().delete_model(request, obj)

    def delete_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, object_id)
        if obj is not None:
            try:
                packages.check_delete(obj)
            except ValidationError as e:
                self.message_user(request, " ".join(e.messages), level="ERROR")
                return HttpResponseRedirect("../change/")
        return super().delete_view(request, object_id, extra_context)

    def get_deleted_objects(self, objs, request):
        """A package in use is shown as protected: the delete pages (one and "delete selected") refuse it."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        for obj in objs:
            try:
                packages.check_delete(obj)
            except ValidationError as e:
                protected = [*protected, f"{obj}: {' '.join(e.messages)}"]
        return deleted, counts, perms_needed, protected

    def delete_queryset(self, request, queryset):
        """"Delete selected": each package checked as one deleted alone (a refusal deletes none)."""
        with transaction.atomic():
            rows = list(queryset)
            for obj in rows:
                packages.check_delete(obj)
            for obj in rows:
                obj.delete()


class _ProfileForm(TenantScopedForm):
    """A profile with its firmware and software offered as choices among the profile's own packages
    with data (the columns hold package ids)."""

    firmware = forms.ModelChoiceField(OtaPackage.objects.none(), required=False)
    software = forms.ModelChoiceField(OtaPackage.objects.none(), required=False)

    class Meta:
        model = DeviceProfile
        exclude = ("firmware_id", "software_id")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        instance = self.instance
        offered = OtaPackage.objects.defer("data").filter(device_profile_id=instance.pk, has_data=True) \
            if not instance._state.adding else OtaPackage.objects.none()
        for field in FIELDS.values():
            self.fields[field].queryset = offered.filter(type=field.upper())
            self.fields[field].initial = getattr(instance, f"{field}_id")

    def clean(self):
        cleaned = super().clean()
        for field in FIELDS.values():
            setattr(self.instance, f"{field}_id", getattr(cleaned.get(field), "pk", None))
        try:
            packages.check_assignment(self.instance)
        except (ValidationError, Http404) as e:
            raise ValidationError(str(e) if isinstance(e, Http404) else e.messages) from None
        return cleaned


class DeviceProfileAdmin(TenantScopedAdmin):
    """Device profiles; a change of firmware/software tells the profile's devices."""

    form = _ProfileForm
    exclude = ("firmware_id", "software_id")  # chosen through the form's firmware/software fields
    list_display = ("name", "is_default", "description")
    search_fields = ("name", "description")
    readonly_fields = ("id", "created_time")

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
            return
        updates.refresh(Device.objects.filter(profile_id=obj.pk),
                        lambda: super(DeviceProfileAdmin, self).save_model(request, obj, form, change))


class _GroupForm(TenantScopedForm):
    def clean(self):
        cleaned = super().clean()
        group, package, kind = cleaned.get("group"), cleaned.get("ota_package"), cleaned.get("ota_package_type")
        if group is not None and group.type != "DEVICE":
            self.add_error("group", "Choose a device group.")
        if package is not None and kind:
            try:
                packages.check_kind(package, kind)
            except ValidationError as e:
                self.add_error("ota_package", e)
        if group is not None:
            self.instance.tenant_id = group.tenant_id
        return cleaned


@admin.register(DeviceGroupOtaPackage)
class DeviceGroupOtaPackageAdmin(TenantScopedAdmin):
    """A device group's packages (PE): the group's devices of the package's profile get it."""

    form = _GroupForm
    list_display = ("group", "ota_package_type", "ota_package", "ota_package_update_time")
    list_filter = ("ota_package_type",)
    fields = ("group", "ota_package_type", "ota_package")

    def get_queryset(self, request):
        queryset = DeviceGroupOtaPackage.objects.select_related("group", "ota_package")
        return queryset if is_sysadmin(request.user) else queryset.filter(tenant_id=request.user.tenant_id)

    def save_model(self, request, obj, form, change):
        obj.ota_package_update_time = now_ms()
        updates.refresh(Device.objects.filter(groups=obj.group_id),
                        lambda: super(DeviceGroupOtaPackageAdmin, self).save_model(request, obj, form, change))

    def delete_model(self, request, obj):
        updates.refresh(Device.objects.filter(groups=obj.group_id), obj.delete)

    def delete_queryset(self, request, queryset):
        """"Delete selected": the groups' devices are told, as when each is deleted alone."""
        rows = list(queryset)
        with transaction.atomic():
            updates.refresh(Device.objects.filter(groups__in={r.group_id for r in rows}).distinct(),
                            lambda: DeviceGroupOtaPackage.objects.filter(pk__in=[r.pk for r in rows]).delete())


admin.site.register(DeviceProfile, DeviceProfileAdmin)
