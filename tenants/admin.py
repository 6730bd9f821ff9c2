"""Admin for tenants, customers and users; scoping comes from tbproject.admin.TenantScopedAdmin."""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.urls import path

from tbproject.admin import TenantFormMixin, TenantScopedAdmin, is_sysadmin
from tbproject.clock import now_ms
from tenants import deletion, lockout
from tenants.admin_pages import login as login_page
from tenants.admin_pages import usage as usage_pages
from tenants.admin_pages.profiles import LIMIT_FIELDS, TenantProfileForm
from tenants.choices import Authority
from tenants.models import (
    AdminSettings,
    ApiKey,
    CredentialsToken,
    Customer,
    Tenant,
    TenantProfile,
    TenantUsage,
    TwoFaSettings,
    User,
    UserSettings,
)
from tenants.system import masking

login_page.install(admin.site)  # the per-client limit on failed logins answers 429 on the sign-in page too


@admin.register(TenantProfile)
class TenantProfileAdmin(TenantScopedAdmin):
    """ThingsBoard's tenant profiles: the rate limits of the tenants that use them (system administrators)."""

    sysadmin_only = True
    form = TenantProfileForm
    list_display = ("name", "is_default", "description")
    search_fields = ("name", "description")
    readonly_fields = ("id", "created_time")
    fieldsets = (
        (None, {"fields": ("name", "description", "is_default")}),
        ("Rate limits", {"fields": tuple(LIMIT_FIELDS)}),
        ("Other configuration", {"fields": ("profile_data",), "classes": ("collapse",)}),
        ("Details", {"fields": ("id", "created_time"), "classes": ("collapse",)}),
    )


@admin.register(Tenant)
class TenantAdmin(TenantScopedAdmin):
    sysadmin_only = True
    list_display = ("title", "email", "tenant_profile", "id")
    search_fields = ("title", "email")
    readonly_fields = ("id", "created_time", "version")
    fields = ("title", "email", "tenant_profile", "phone", "country", "state", "city", "address", "address2", "zip",
              "region", "additional_info", "id", "created_time", "version")

    # Deleting a tenant here does what DELETE /api/tenant/{id} does: the tenant goes out of use at once
    # and a background task deletes its rows in batches (tenants/deletion.py), rather than one
    # transaction that collects and locks everything it owns (the confirmation page would list it all).
    def get_queryset(self, request):
        return super().get_queryset(request).filter(deleting_ts__isnull=True)

    def get_deleted_objects(self, objs, request):
        objs = list(objs)
        return [f"{o} (everything it owns is deleted in the background)" for o in objs], \
            {"tenants": len(objs)}, set(), []

    def delete_model(self, request, obj):
        deletion.mark(obj)

    def delete_queryset(self, request, queryset):
        for tenant in queryset:
            deletion.mark(tenant)


@admin.register(TenantUsage)
class TenantUsageAdmin(TenantScopedAdmin):
    """The list is a chart of hourly usage (tenants/admin_pages/usage.py); tenant admins see their own."""

    read_only = True

    def get_queryset(self, request):
        qs = admin.ModelAdmin.get_queryset(self, request)
        return qs if is_sysadmin(request.user) else qs.filter(tenant_id=request.user.tenant_id)

    def has_view_permission(self, request, obj=None):
        return bool(request.user.is_active and request.user.is_staff)

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def changelist_view(self, request, extra_context=None):
        return usage_pages.usage_view(self, request)

    def get_urls(self):
        return [path("", self.admin_site.admin_view(self.changelist_view), name="tenants_tenantusage_changelist"),
                *super().get_urls()]


@admin.register(CredentialsToken)
class CredentialsTokenAdmin(TenantScopedAdmin):
    """Pending activation and password-reset links (system administrators): whose, and until when.
    The token itself is a password's equal and is never shown."""

    sysadmin_only = True
    read_only = True
    list_display = ("user", "purpose", "expires")
    list_filter = ("purpose",)
    search_fields = ("user__email",)
    fields = ("user", "purpose", "expires")
    readonly_fields = fields


@admin.register(AdminSettings)
class AdminSettingsAdmin(TenantScopedAdmin):
    """The system administrator's settings documents, read here with their secrets masked (the mail
    password, the JWT signing key); they are changed through /api/admin/... (README "System settings")."""

    sysadmin_only = True
    read_only = True
    list_display = ("key", "created_time")
    fields = ("key", "masked_value", "created_time")
    readonly_fields = fields

    @admin.display(description="value (secrets masked)")
    def masked_value(self, obj) -> str:
        return masking.masked_json(obj.key, obj.json_value)


@admin.register(ApiKey)
class ApiKeyAdmin(TenantScopedAdmin):
    """Users' API keys: whose, until when, enabled; the value is never stored (only its hash, not shown).
    A system administrator may delete (revoke) one here."""

    sysadmin_only = True
    read_only = True
    list_display = ("description", "user", "enabled", "expiration_time", "created_time")
    list_filter = ("enabled",)
    search_fields = ("description", "user__email")
    fields = ("description", "user", "tenant", "enabled", "expiration_time", "created_time")
    readonly_fields = fields

    def has_delete_permission(self, request, obj=None):
        return self._may_enter(request)


@admin.register(TwoFaSettings)
class TwoFaSettingsAdmin(TenantScopedAdmin):
    """Which 2FA providers a user configured (tenants/two_factor/); never the TOTP secret or the backup codes.
    A system administrator may delete a user's settings here (a user who lost every factor)."""

    sysadmin_only = True
    read_only = True
    list_display = ("user", "providers", "created_time")
    search_fields = ("user__email",)
    fields = ("user", "tenant", "providers", "created_time")
    readonly_fields = fields

    @admin.display(description="providers")
    def providers(self, obj) -> str:
        return ", ".join(sorted(obj.configs)) if isinstance(obj.configs, dict) else ""

    def has_delete_permission(self, request, obj=None):
        return self._may_enter(request)


@admin.register(UserSettings)
class UserSettingsAdmin(TenantScopedAdmin):
    """Users' own settings documents (GET/PUT /api/user/settings/...), for a system administrator to look at."""

    sysadmin_only = True
    read_only = True
    list_display = ("user", "type")
    list_filter = ("type",)
    search_fields = ("user__email",)
    fields = ("user", "type", "settings")
    readonly_fields = fields


@admin.register(Customer)
class CustomerAdmin(TenantScopedAdmin):
    list_display = ("title", "email", "country", "city")
    search_fields = ("title", "email", "city")
    readonly_fields = ("id", "created_time")  # every editable field is shown, in model order


class _UserFormMixin(TenantFormMixin):
    """Email is the login: stored lower-case, unique regardless of case; owners match the authority."""

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError("A user with this email already exists.")
        return email

    def clean(self):
        cleaned = super().clean()
        authority = cleaned.get("authority", self.instance.authority)
        tenant = cleaned.get("tenant") if "tenant" in self.fields else self.instance.tenant
        customer = cleaned.get("customer")
        if authority == Authority.SYS_ADMIN and (tenant or customer):
            self.add_error("authority", "A system administrator belongs to no tenant and no customer.")
        elif authority == Authority.TENANT_ADMIN and customer:
            self.add_error("customer", "A tenant administrator has no customer; leave it empty.")
        elif authority in (Authority.TENANT_ADMIN, Authority.CUSTOMER_USER) and not tenant:
            self.add_error("tenant" if "tenant" in self.fields else None, "Choose the user's tenant.")
        elif authority == Authority.CUSTOMER_USER and not customer:
            self.add_error("customer", "A customer user needs a customer.")
        return cleaned


class UserAddForm(_UserFormMixin, AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class UserEditForm(_UserFormMixin, UserChangeForm):
    class Meta:
        model = User
        fields = ("email",)


@admin.register(User)
class UserAdmin(TenantScopedAdmin, DjangoUserAdmin):
    """Users by authority. Tenant admins manage their own tenant's users and cannot make system
    admins; Django's groups, permission rows and superuser flag are not offered, because the
    authority decides what a user may do."""

    form = UserEditForm
    add_form = UserAddForm
    list_display = ("email", "first_name", "last_name", "authority", "customer", "is_active")
    list_filter = ("authority", "is_active", ("customer", admin.RelatedOnlyFieldListFilter))
    search_fields = ("email", "first_name", "last_name")
    ordering = ("email",)
    readonly_fields = ("id", "last_login", "created_time")
    filter_horizontal = ()

    def get_fieldsets(self, request, obj=None):
        owner = ("authority", "tenant", "customer") if is_sysadmin(request.user) else ("authority", "customer")
        if obj is None:
            login = ("email", "usable_password", "password1", "password2")
            return ((None, {"classes": ("wide",), "fields": login + owner + ("first_name", "last_name")}),)
        return (
            (None, {"fields": ("email", "password")}),
            ("Personal info", {"fields": ("first_name", "last_name")}),
            ("Authority", {"fields": (*owner, "is_active")}),
            ("Details", {"fields": ("id", "last_login", "created_time")}),
        )

    def get_list_display(self, request):
        columns = super().get_list_display(request)
        return (*columns, "tenant") if is_sysadmin(request.user) else columns

    def save_model(self, request, obj, form, change):
        if change and "is_active" in form.changed_data and not obj.is_active:
            obj.credentials_changed = now_ms()  # as the API's disable: the user's tokens stay dead
        elif change and "is_active" in form.changed_data:
            lockout.forget_failures(obj)  # as the API's enable: a locked user's count of wrong passwords starts again
        super().save_model(request, obj, form, change)

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "authority" and not is_sysadmin(request.user):
            kwargs["choices"] = [(a.value, a.label) for a in (Authority.TENANT_ADMIN, Authority.CUSTOMER_USER)]
        return super().formfield_for_choice_field(db_field, request, **kwargs)
