"""Tenant scoping for the Django admin, shared by every ModelAdmin in the project.

Who sees what is decided by the user's ThingsBoard authority, not by Django permission rows:

- SYS_ADMIN sees and edits everything; when adding a tenant-owned row it picks the tenant.
- TENANT_ADMIN sees and edits only its own tenant's rows. New rows get its tenant, and every
  foreign-key and many-to-many choice is limited to its tenant. Another tenant's object URL
  behaves as a missing object (Django redirects to the index with "doesn't exist").
- CUSTOMER_USER never gets in: ``User.is_staff`` is false for it.
"""

from datetime import UTC, datetime

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpResponseRedirect
from unfold.admin import ModelAdmin as ThemedModelAdmin

from tbproject.api import role_hook
from tenants.limits.entities import EntitiesLimitReached, SizeLimitReached
from tenants.models import Tenant, TenantScopedModel, User

__all__ = ["scope", "scoped", "TenantFormMixin", "TenantScopedForm", "TenantScopedAdmin", "is_sysadmin",
           "format_ms"]

admin.site.site_header = "Open Integration Center"
admin.site.site_title = "Open Integration Center"
admin.site.index_title = "Administration"


def _site_permission(request) -> bool:
    """Staff (system and tenant administrators) may enter; a tenant administrator only with full generic rights
    (``{"ALL": ["ALL"]}``, the default "Tenant Administrator" role): the admin's pages do not apply roles row
    by row, so one restricted by its roles (tbproject/api/role_hook.py) uses the REST API only."""
    user = request.user
    if not (user.is_active and user.is_staff):
        return False
    return is_sysadmin(user) or role_hook.permits(user, "ALL", "ALL")


admin.site.has_permission = _site_permission


def is_sysadmin(user) -> bool:
    return bool(getattr(user, "is_sysadmin", False) and user.is_active)


def scope(qs: QuerySet, user) -> QuerySet:
    """Narrow ``qs`` to the rows ``user`` may see in the admin; unknown models are sysadmin-only."""
    if is_sysadmin(user):
        return qs
    if not getattr(user, "is_staff", False):
        return qs.none()
    if hasattr(qs, "for_user"):
        return qs.for_user(user)
    if qs.model is Tenant:
        return qs.filter(pk=user.tenant_id)
    if qs.model is User:
        return qs.filter(tenant_id=user.tenant_id)
    return qs.none()


def scoped(model, user) -> QuerySet:
    return scope(model._default_manager.all(), user)


def _tenant_of(obj):
    if isinstance(obj, Tenant):
        return obj.pk
    return getattr(obj, "tenant_id", None)


class TenantFormMixin:
    """Model-form behaviour for tenant-owned rows.

    ``admin_user`` is set per request by :class:`TenantScopedAdmin`. A tenant admin's new rows
    get its tenant before validation, so per-tenant unique constraints and check constraints
    report form errors instead of failing in the database. Related objects from another tenant
    are rejected (only a system admin can be offered them).
    """

    admin_user = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.admin_user
        instance = self.instance
        if user is not None and not is_sysadmin(user) and hasattr(instance, "tenant_id"):
            if instance._state.adding and instance.tenant_id is None:
                instance.tenant_id = user.tenant_id

    def _get_validation_exclusions(self):
        exclude = super()._get_validation_exclusions()
        if getattr(self.instance, "tenant_id", None) is not None or "tenant" in self.fields:
            exclude.discard("tenant")
        return exclude

    def clean(self):
        cleaned = super().clean()
        if "tenant" in self.fields and isinstance(cleaned.get("tenant"), Tenant):
            # A sysadmin's choice; an editable FK (User.tenant) is set again by construct_instance.
            self.instance.tenant = cleaned["tenant"]
        tenant_id = getattr(self.instance, "tenant_id", None)
        if tenant_id is not None:
            self._reject_foreign_rows(cleaned, tenant_id)
        return cleaned

    def _reject_foreign_rows(self, cleaned: dict, tenant_id) -> None:
        for name, value in list(cleaned.items()):
            if name == "tenant" or value is None:
                continue
            rows = value if isinstance(value, QuerySet | list | tuple) else [value]
            if any(_tenant_of(row) not in (None, tenant_id) for row in rows if isinstance(row, TenantScopedModel)):
                self.add_error(name, "Choose an object of the same tenant.")


class TenantScopedForm(TenantFormMixin, forms.ModelForm):
    """Default form of every :class:`TenantScopedAdmin`."""


class TenantScopedAdmin(ThemedModelAdmin):
    """Base ModelAdmin: querysets, choices and permissions follow the user's authority.

    Subclasses may set ``sysadmin_only`` (tenant admins neither see nor reach the model),
    ``read_only`` (nobody adds, changes or deletes) and ``add_fieldsets``. Override
    ``get_queryset`` for models without ``for_user`` other than Tenant and User (see ``scope()``).
    """

    form = TenantScopedForm
    sysadmin_only = False
    read_only = False
    add_fieldsets = None  # fieldsets of the add page when they differ from the change page's

    # --- rows --------------------------------------------------------------------------------
    def get_queryset(self, request):
        return scope(super().get_queryset(request), request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if formfield is not None and hasattr(formfield, "queryset"):
            formfield.queryset = scope(formfield.queryset, request.user)
            if is_sysadmin(request.user) and issubclass(formfield.queryset.model, TenantScopedModel):
                # a system admin is offered every tenant's rows: say whose each one is
                formfield.queryset = formfield.queryset.select_related("tenant")
                formfield.label_from_instance = lambda row: f"{row} ({row.tenant})"
        return formfield

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        formfield = super().formfield_for_manytomany(db_field, request, **kwargs)
        if formfield is not None and hasattr(formfield, "queryset"):
            formfield.queryset = scope(formfield.queryset, request.user)
        return formfield

    def save_model(self, request, obj, form, change):
        if not change and hasattr(obj, "tenant_id") and obj.tenant_id is None and not is_sysadmin(request.user):
            obj.tenant_id = request.user.tenant_id
        super().save_model(request, obj, form, change)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # a row past the tenant profile's maxAssets, maxCustomers... or byte limits is refused when saved
        # (tenants/limits/entities.py), after the form was valid: say so on the page instead of a 500
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (EntitiesLimitReached, SizeLimitReached) as e:
            self.message_user(request, str(e), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    # --- permissions ---------------------------------------------------------------------------
    def _may_enter(self, request) -> bool:
        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        return is_sysadmin(user) or not self.sysadmin_only

    def _owns(self, request, obj) -> bool:
        if obj is None or is_sysadmin(request.user):
            return True
        return _tenant_of(obj) == request.user.tenant_id

    def has_module_permission(self, request):
        return self._may_enter(request)

    def has_view_permission(self, request, obj=None):
        return self._may_enter(request) and self._owns(request, obj)

    def has_add_permission(self, request, *args):
        return not self.read_only and self._may_enter(request)

    def has_change_permission(self, request, obj=None):
        return not self.read_only and self._may_enter(request) and self._owns(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self.read_only and self._may_enter(request) and self._owns(request, obj)

    # --- the tenant column, for system admins only ------------------------------------------------
    @property
    def _tenant_owned(self) -> bool:
        return issubclass(self.model, TenantScopedModel)

    def get_list_display(self, request):
        columns = tuple(super().get_list_display(request))
        if self._tenant_owned and is_sysadmin(request.user) and "tenant" not in columns:
            columns += ("tenant",)
        return columns

    def get_list_filter(self, request):
        filters = tuple(super().get_list_filter(request))
        if self._tenant_owned and is_sysadmin(request.user):
            filters = (("tenant", admin.RelatedOnlyFieldListFilter), *filters)
        return filters

    def get_exclude(self, request, obj=None):
        exclude = list(super().get_exclude(request, obj) or [])
        # TenantScopedModel.tenant is not editable: a ModelForm may only carry it as a declared
        # field (the sysadmin's add form), never as a model field.
        return [*exclude, "tenant"] if self._tenant_owned else exclude or None

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        if self._tenant_owned and obj is not None and is_sysadmin(request.user):
            fields = ("tenant", *fields)
        return fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        if self._tenant_owned and obj is None and is_sysadmin(request.user):
            base = kwargs.get("form", self.form)
            kwargs["form"] = type(base.__name__, (base,), {
                "tenant": forms.ModelChoiceField(Tenant.objects.all(), help_text="The tenant that owns the new row."),
            })
        form = super().get_form(request, obj, change=change, **kwargs)
        form.admin_user = request.user  # modelform_factory built a new class: nothing is shared
        return form

    def get_fieldsets(self, request, obj=None):
        if obj is None and self.add_fieldsets:
            fieldsets = self.add_fieldsets
        else:
            fieldsets = super().get_fieldsets(request, obj)
        fieldsets = [(name, dict(opts)) for name, opts in fieldsets]
        if self._tenant_owned and is_sysadmin(request.user) and fieldsets:
            # first in the first section: chosen on add, shown read-only on change
            fields = [f for f in fieldsets[0][1]["fields"] if f != "tenant"]
            fieldsets[0][1]["fields"] = ["tenant", *fields]
        return fieldsets


def format_ms(ts_ms: int | None) -> str:
    """A millisecond timestamp as UTC text for admin pages; "" when there is none."""
    if ts_ms is None:
        return ""
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"
