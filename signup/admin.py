from django import forms
from django.contrib import admin

from signup import params
from signup.models import SelfRegistration, SignUp
from tbproject.admin import TenantScopedAdmin, TenantScopedForm
from tenants.accounts import AccountError


class SelfRegistrationForm(TenantScopedForm):
    """The captcha secret key is write-only: never rendered, kept when left empty."""

    captcha_secret_key = forms.CharField(required=False, widget=forms.PasswordInput(render_value=False),
                                         help_text="Write-only: leave empty to keep the stored key")

    class Meta:
        model = SelfRegistration
        fields = "__all__"

    def clean_domain_name(self):
        try:
            return params.check_domain(self.cleaned_data.get("domain_name"))
        except AccountError as e:
            raise forms.ValidationError(str(e)) from None

    def clean(self):
        """What the API checks of the JSON fields and of the caller's rights (signup/params.py)."""
        cleaned = super().clean()
        try:
            cleaned["sign_up_fields"] = params.check_fields(cleaned.get("sign_up_fields"))
            if self.instance.tenant_id is not None:
                cleaned["permissions"] = params.check_permissions(self.instance.tenant_id, cleaned.get("permissions"))
            stored = self.instance if self.instance.pk else None
            if (self.admin_user is not None and params.grants_roles(stored, cleaned.get("permissions"))
                    and not params.may_grant(self.admin_user)):
                raise AccountError("Granting roles at sign-up needs the GROUP_PERMISSION WRITE and ROLE READ "
                                   "permissions")
        except AccountError as e:
            raise forms.ValidationError(str(e)) from None
        return cleaned

    def clean_captcha_secret_key(self):
        value = self.cleaned_data.get("captcha_secret_key") or ""
        if not value and self.instance.pk:
            return SelfRegistration.objects.get(pk=self.instance.pk).captcha_secret_key
        if not value:
            raise forms.ValidationError("The captcha secret key is required")
        return value


@admin.register(SelfRegistration)
class SelfRegistrationAdmin(TenantScopedAdmin):
    form = SelfRegistrationForm
    list_display = ("domain_name", "tenant", "enabled", "customer_title_prefix", "captcha_version")
    list_filter = ("enabled",)
    search_fields = ("domain_name",)
    readonly_fields = ("id", "created_time")


@admin.register(SignUp)
class SignUpAdmin(TenantScopedAdmin):
    """Who signed up, and whether its account is activated: read-only (users are managed as users)."""

    read_only = True
    list_display = ("user", "customer", "tenant", "created_time", "activated_time")
    list_select_related = ("user", "customer", "tenant")
    readonly_fields = ("id", "user", "customer", "created_time", "activated_time")
    exclude = ("client",)
