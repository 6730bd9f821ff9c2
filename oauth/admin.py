"""The OAuth 2.0 configuration in the Django admin (system administrators); secrets are masked: the
change form shows "******" and keeps the stored value unless a new one is typed (or the endpoint it goes to
changed). The forms run the API's checks (oauth/validation.py), so the admin stores nothing the API refuses."""

from django import forms
from django.contrib import admin
from rest_framework.exceptions import ValidationError as ApiError

from oauth import validation as v
from oauth.choices import MOBILE_PLATFORMS
from oauth.models import Domain, MobileApp, MobileAppBundle, OAuth2Client, OAuth2ClientTemplate, QrCodeSettings
from oauth.rendering import masked_mapper
from oauth.validation import MASK


class _SecretForm(forms.ModelForm):
    """The model's ``secret_field`` shows the mask; posting the mask back keeps the stored secret. ``check``
    runs the API's validation over the cleaned data (the stored row, None for a new one)."""

    secret_field = ""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance._state.adding and self.secret_field in self.fields:
            self.initial[self.secret_field] = MASK

    def clean(self):
        data = super().clean()
        if self._errors:
            return data
        stored = None if self.instance._state.adding else type(self.instance).objects.filter(
            pk=self.instance.pk).first()
        try:
            self.check(data, stored)
        except ApiError as e:
            detail = e.detail if isinstance(e.detail, list) else [e.detail]
            raise forms.ValidationError("; ".join(str(d) for d in detail)) from None
        return data

    def check(self, data: dict, stored) -> None:
        raise NotImplementedError


class ClientForm(_SecretForm):
    secret_field = "client_secret"

    def check(self, data: dict, stored) -> None:
        info = data.get("additional_info")
        if not isinstance(info, dict) or not isinstance(info.get("providerName"), str) or not info["providerName"]:
            raise ApiError("additionalInfo.providerName is required")
        body = {"title": data.get("title"), "clientId": data.get("client_id"),
                "clientSecret": data.get("client_secret"),
                "authorizationUri": data.get("authorization_uri"), "accessTokenUri": data.get("access_token_uri"),
                "userInfoUri": data.get("user_info_uri"), "jwkSetUri": data.get("jwk_set_uri"),
                "scope": data.get("scope"), "platforms": data.get("platforms"),
                "clientAuthenticationMethod": data.get("client_authentication_method")}
        v.text(body, "title", required=True)
        v.text(body, "clientId", required=True)
        for key in ("authorizationUri", "accessTokenUri"):
            v.url(body, key, required=True)
        for key in ("userInfoUri", "jwkSetUri"):
            v.url(body, key)
        v.string_list(body, "scope", required=True)
        v.platforms(body)
        v.auth_method(body)
        same = stored is not None and (stored.client_id, stored.access_token_uri) == (
            body["clientId"], body["accessTokenUri"])
        data["client_secret"] = v.secret(body, "clientSecret", stored.client_secret if same else None)

    class Meta:
        model = OAuth2Client
        fields = ("title", "additional_info", "client_id", "client_secret", "authorization_uri", "access_token_uri",
                  "scope", "user_info_uri", "user_name_attribute_name", "jwk_set_uri", "client_authentication_method",
                  "login_button_label", "login_button_icon", "platforms")


class AppForm(_SecretForm):
    secret_field = "app_secret"

    def check(self, data: dict, stored) -> None:
        body = {"pkgName": data.get("pkg_name"), "appSecret": data.get("app_secret"),
                "platformType": data.get("platform_type"), "status": data.get("status"),
                "versionInfo": data.get("version_info"), "storeInfo": data.get("store_info")}
        v.text(body, "pkgName", required=True)
        v.choice(body, "platformType", MOBILE_PLATFORMS)
        v.app_status(body)
        v.json_object(body, "versionInfo")
        v.json_object(body, "storeInfo")
        data["app_secret"] = v.secret(body, "appSecret", stored.app_secret if stored is not None else None,
                                      minimum=16)

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
    readonly_fields = ("mapper_config_masked",)
    exclude = ("mapper_config",)  # a custom mapper's password is write-only

    @admin.display(description="mapper config (edit through the API)")
    def mapper_config_masked(self, obj):
        return masked_mapper(obj.mapper_config)


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
