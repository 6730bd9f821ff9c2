"""Secrets in the admin: the value is write-only (a password field that never shows what is stored, or a
file upload for TEXT_FILE); the list and the change page show that a value is set, never the value."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from tbproject.admin import TenantScopedAdmin, TenantScopedForm, format_ms
from vault import services
from vault.choices import SecretType
from vault.crypto import encrypt
from vault.models import Secret

MASK = "******"


class SecretForm(TenantScopedForm):
    value = forms.CharField(required=False, strip=False, widget=forms.PasswordInput(render_value=False),
                            help_text="Write-only: the stored value is never shown. Leave empty to keep it.")
    value_file = forms.FileField(required=False, label="Value file",
                                 help_text="For a File (TEXT_FILE) secret: the file's text becomes the value.")

    class Meta:
        model = Secret
        fields = ("name", "type", "description")

    def clean_name(self):
        try:
            return services.check_name(self.cleaned_data.get("name"))
        except services.SecretRefused as e:
            raise ValidationError(str(e)) from None

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("value_file")
        if upload is not None:
            try:
                cleaned["value"] = upload.read(services.MAX_VALUE_CHARS + 1).decode("utf-8")
            except UnicodeDecodeError:
                self.add_error("value_file", "The file must be UTF-8 text (a PEM certificate or key)")
            cleaned["file_name"] = upload.name[:255]
        value = cleaned.get("value") or None
        if value is None and self.instance._state.adding:
            self.add_error("value", "Secret value should be specified!")
        elif value is not None and len(value) > services.MAX_VALUE_CHARS:
            self.add_error("value", f"Secret value is longer than {services.MAX_VALUE_CHARS} characters")
        cleaned["value"] = value
        return cleaned


@admin.register(Secret)
class SecretAdmin(TenantScopedAdmin):
    form = SecretForm
    list_display = ("name", "type", "description", "stored_value", "created")
    list_filter = ("type",)
    search_fields = ("name", "description")
    fields = ("name", "type", "description", "value", "value_file", "stored_value", "file_name", "id", "created")

    def get_readonly_fields(self, request, obj=None):
        fixed = ("name", "type") if obj is not None else ()  # ThingsBoard: only value and description change
        return (*super().get_readonly_fields(request, obj), *fixed, "stored_value", "file_name", "id", "created")

    @admin.display(description="Value")
    def stored_value(self, obj):
        return f"{MASK} (encrypted)" if obj.encrypted_value else "-"

    @admin.display(description="Created")
    def created(self, obj):
        return format_ms(obj.created_time)

    def save_model(self, request, obj, form, change):
        value = form.cleaned_data.get("value")
        if value is not None:
            obj.encrypted_value = encrypt(value, obj.pk)
            if form.cleaned_data.get("file_name"):
                obj.file_name = form.cleaned_data["file_name"]
        elif not obj.type:
            obj.type = SecretType.TEXT
        super().save_model(request, obj, form, change)
        if value is not None:
            services.value_changed(obj)
