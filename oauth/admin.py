"""The OAuth 2.0 configuration in the Django admin (system administrators); secrets are masked: the
change form shows "******" and keeps the stored value unless a new one is typed."""

from django import forms
from django.contrib import admin

from oauth.models import Domain, MobileApp, MobileAppBundle, OAuth2Client, OAuth2ClientTemplate, QrCodeSettings
from oauth.rendering import masked_mapper
from oauth.validation import MASK


class _SecretForm(forms.ModelForm):
    """The model's ``secret_field`` shows the mask; posting the mask back keeps the stored secret."""

    secret_field = ""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.secret_field in self.fields:
            self.initial[self.secret_field] = MASK

    def clean(self):
        data = super().clean()
        if self.instance.pk and data.get(self.secret_field) in (MASK, "", None):
            data[self.secret_field] = type(self.instance).objects.get(pk=self.instance.pk).__dict__[self.secret_field]
        return data


class ClientForm(_SecretForm):
    secret_field = "client_secret"

    class Meta:
        model = OAuth2Client
        fields = ("title", "additional_info", "client_id", "client_secret", "authorization_uri", "access_token_uri",
                  "scope", "user_info_uri", "user_name_attribute_name", "jwk_set_uri", "client_authentication_method",
                  "login_button_label", "login_button_icon", "platforms")


class AppForm(_SecretForm):
    secret_field = "app_secret"

    class Meta:
        model = MobileApp
        fields = ("pkg_name", "title", "app_secret", "platform_type", "status", "version_info", "store_info")


class _SysAdminOnly(admin.ModelAdmin):
    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_sysadmin

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    has_change_permission = has_add_permission = has_delete_permission = has_view_permission


@admin.register(OAuth2Client)
class OAuth2ClientAdmin(_SysAdminOnly):
    form = ClientForm
    list_display = ("title", "client_id", "provider", "login_button_label", "mapper_type")
    search_fields = ("title", "client_id")
    readonly_fields = ("mapper_config_masked",)
    exclude = ("mapper_config",)

    @admin.display(description="provider")
    def provider(self, obj):
        return (obj.additional_info or {}).get("providerName", "")

    @admin.display(description="mapper")
    def mapper_type(self, obj):
        return (obj.mapper_config or {}).get("type", "")

    @admin.display(description="mapper config (edit through the API)")
    def mapper_config_masked(self, obj):
        return masked_mapper(obj.mapper_config)


@admin.register(OAuth2ClientTemplate)
class OAuth2ClientTemplateAdmin(_SysAdminOnly):
    list_display = ("provider_id", "login_button_label", "authorization_uri")
    search_fields = ("provider_id",)


@admin.register(Domain)
class DomainAdmin(_SysAdminOnly):
    list_display = ("name", "oauth2_enabled", "propagate_to_edge")
    search_fields = ("name",)
    filter_horizontal = ("oauth2_clients",)


@admin.register(MobileApp)
class MobileAppAdmin(_SysAdminOnly):
    form = AppForm
    list_display = ("pkg_name", "platform_type", "status", "title")
    list_filter = ("platform_type", "status")
    search_fields = ("pkg_name", "title")


@admin.register(MobileAppBundle)
class MobileAppBundleAdmin(_SysAdminOnly):
    list_display = ("title", "android_app", "ios_app", "oauth2_enabled")
    search_fields = ("title",)
    filter_horizontal = ("oauth2_clients",)


@admin.register(QrCodeSettings)
class QrCodeSettingsAdmin(_SysAdminOnly):
    list_display = ("__str__", "use_system_settings", "use_default_app", "mobile_app_bundle")
