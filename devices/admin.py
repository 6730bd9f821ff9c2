"""Admin for profiles, devices, assets, groups and attributes; scoping from TenantScopedAdmin.

Device and asset change pages show the entity's attributes (all scopes) and latest telemetry.
Telemetry has no Django model (see devices/telemetry/storage.py), so it is read through
devices.telemetry rather than registered here.
"""

from types import SimpleNamespace

from django.contrib import admin, messages
from django.db.models import CharField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, Concat
from django.http import HttpResponseRedirect
from django.utils.html import format_html, format_html_join

from devices import attributes, group_owners, membership, telemetry
from devices.device_quota import DevicesLimitReached
from devices.models import (
    Asset,
    AssetProfile,
    Attribute,
    Device,
    DeviceCredentials,
    EntityGroup,
    EntityRelation,
    EntityView,
    SeriesTtl,
    TelemetryKey,
)
from devices.ota import updates
from devices.values import as_text, decode
from tbproject.admin import TenantScopedAdmin, TenantScopedForm, format_ms, is_sysadmin
from tenants.models import Customer, Tenant

Related = admin.RelatedOnlyFieldListFilter


def _table(headers: tuple[str, ...], rows: list[tuple], empty: str) -> str:
    if not rows:
        return format_html("<p>{}</p>", empty)
    head = format_html_join("", "<th>{}</th>", ((h,) for h in headers))
    body = format_html_join("", "<tr>" + "<td>{}</td>" * len(headers) + "</tr>", rows)
    return format_html('<table class="ui-table"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>', head, body)


class _ProfileAdmin(TenantScopedAdmin):
    list_display = ("name", "is_default", "description")
    search_fields = ("name", "description")
    readonly_fields = ("id", "created_time")


admin.site.register(AssetProfile, _ProfileAdmin)
# device profiles (with their firmware/software), OTA packages and device groups' packages
from devices import ota_admin  # noqa: E402, F401


class _EntityAdmin(TenantScopedAdmin):
    """Devices and assets; the change page adds a live chart per numeric key (static/ui/device-charts.js)."""

    change_form_outer_before_template = "admin/devices/charts.html"
    list_display = ("name", "label", "profile", "customer")
    list_filter = (("profile", Related), ("customer", Related))
    list_select_related = ("profile", "customer", "tenant")
    search_fields = ("name", "label")
    readonly_fields = ("id", "created_time", "attributes_table", "telemetry_table")

    add_fieldsets = ((None, {"fields": ("name", "label", "profile", "customer", "additional_info")}),)
    fieldsets = (
        *add_fieldsets,
        ("Latest telemetry", {"fields": ("telemetry_table",)}),
        ("Attributes", {"fields": ("attributes_table",)}),
        ("Details", {"fields": ("id", "created_time"), "classes": ("collapse",)}),
    )

    class Media:
        css = {"all": ("ui/vendor/uplot.css",)}  # ui/ui.css comes on every page (UNFOLD["STYLES"])
        js = ("ui/vendor/uplot.js", "ui/ui.js", "ui/device-charts.js")

    @admin.display(description="Attributes")
    def attributes_table(self, obj) -> str:
        rows = [(a["scope"], a["key"], as_text(a["value"]), format_ms(a["lastUpdateTs"]))
                for a in attributes.get_attributes(obj.id)]
        return _table(("Scope", "Key", "Value", "Last update"), rows, "No attributes.")

    @admin.display(description="Latest telemetry")
    def telemetry_table(self, obj) -> str:
        values = telemetry.latest(obj.id)
        rows = [(key, as_text(value), format_ms(ts)) for key, (ts, value) in sorted(values.items())]
        return _table(("Key", "Value", "Time"), rows, "No telemetry.")

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # a device past the tenant profile's maxDevices is refused where every creation is checked
        # (devices/device_quota.py), after the form was valid: say so on the page instead of a 500
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DevicesLimitReached as e:
            self.message_user(request, str(e), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


admin.site.register(Device, _EntityAdmin)
admin.site.register(Asset, _EntityAdmin)


@admin.register(EntityView)
class EntityViewAdmin(TenantScopedAdmin):
    """Entity views; the API (devices/api/entity_views.py) also copies the listed attributes on save."""

    list_display = ("name", "type", "entity_type", "entity_id", "customer")
    list_filter = ("entity_type", ("customer", Related))
    list_select_related = ("customer", "tenant")
    search_fields = ("name", "type")
    readonly_fields = ("id", "created_time")
    fields = ("name", "type", "customer", "entity_type", "entity_id", "keys", "start_time_ms", "end_time_ms",
              "additional_info", "id", "created_time")


class EntityGroupForm(TenantScopedForm):
    def clean(self):
        """A group holds its owner's entities only (devices/group_owners.py): the tenant's group its devices."""
        relations = ("devices", "assets", "entity_views")
        chosen = {relation: self.cleaned_data.get(relation) or () for relation in relations}  # before the mixin
        data = super().clean()
        owner, named = self.instance.customer_id, SimpleNamespace(name=data.get("name") or self.instance.name)
        tenant = self.instance.tenant_id  # set by the mixin's clean (a system admin's chosen tenant)
        for relation in relations:
            # owner and tenant, as group_owners.foreign_member: a tenant group takes no other tenant's devices
            foreign = next((m for m in chosen[relation] if m.customer_id != owner or m.tenant_id != tenant), None)
            if foreign is not None:
                self.add_error(relation, group_owners.not_owned_message(foreign.pk, named))
        return data


@admin.register(EntityGroup)
class EntityGroupAdmin(TenantScopedAdmin):
    form = EntityGroupForm
    list_display = ("__str__", "type", "description")
    list_filter = ("type",)
    search_fields = ("name", "description")
    filter_horizontal = ("devices", "assets", "entity_views")
    readonly_fields = ("id", "created_time")
    fields = ("name", "type", "description", "devices", "assets", "entity_views", "additional_info", "id",
              "created_time")

    def get_readonly_fields(self, request, obj=None):
        """An owner's "All" group (devices/all_groups.py) keeps its name and members: every entity of its owner."""
        fields = tuple(super().get_readonly_fields(request, obj))
        if obj is not None and obj.group_all:
            return (*fields, "name", "type", "devices", "assets", "entity_views")
        return fields

    def has_delete_permission(self, request, obj=None):
        return not (obj is not None and obj.group_all) and super().has_delete_permission(request, obj)

    def save_related(self, request, form, formsets, change):
        """The members chosen; those that changed are sent as devices/membership.py's ``group_members_changed``
        (read before and after only when a receiver listens)."""
        group = form.instance
        relation = {"DEVICE": "devices", "ASSET": "assets", "ENTITY_VIEW": "entity_views"}.get(group.type)
        if relation is None or not membership.listened(group.type):
            self._save_members(request, form, formsets, change)
            return
        touched = {*(getattr(group, relation).all() if change else ()), *form.cleaned_data.get(relation, ())}
        membership.track([group], list(touched), lambda: self._save_members(request, form, formsets, change))

    def _save_members(self, request, form, formsets, change):
        group = form.instance
        if not (change and group.type == "DEVICE" and group.ota_assigned):
            super().save_related(request, form, formsets, change)
            return
        # members in or out of a group with an OTA package: tell those whose package changed
        touched = {*group.devices.values_list("pk", flat=True), *(d.pk for d in form.cleaned_data.get("devices", ()))}
        updates.refresh(Device.objects.filter(pk__in=touched),
                        lambda: super(EntityGroupAdmin, self).save_related(request, form, formsets, change))


def _entity_label():
    """One SQL expression naming the entity an attribute row belongs to ("Device: T1")."""

    def named(model, field, kind):
        rows = model.objects.filter(pk=OuterRef("entity_id"))
        return Subquery(rows.values(entity_label=Concat(Value(f"{kind}: "), field, output_field=CharField()))[:1])

    return Coalesce(named(Device, "name", "Device"), named(Asset, "name", "Asset"),
                    named(Customer, "title", "Customer"), named(Tenant, "title", "Tenant"),
                    Value("?"), output_field=CharField())


@admin.register(Attribute)
class AttributeAdmin(TenantScopedAdmin):
    """Read-only listing; a tenant admin sees the attributes of its devices, assets, customers
    and of its tenant itself."""

    read_only = True
    list_display = ("entity", "scope", "key", "value", "last_update")
    list_filter = ("scope",)
    search_fields = ("key",)
    fields = ("entity", "entity_id", "scope", "key", "value", "last_update")
    readonly_fields = fields

    def get_queryset(self, request):
        qs = admin.ModelAdmin.get_queryset(self, request).annotate(entity_label=_entity_label())
        user = request.user
        if is_sysadmin(user):
            return qs
        if not user.is_staff:
            return qs.none()
        owned = (Q(entity_id__in=Device.objects.for_user(user).values("id"))
                 | Q(entity_id__in=Asset.objects.for_user(user).values("id"))
                 | Q(entity_id__in=Customer.objects.for_user(user).values("id"))
                 | Q(entity_id=user.tenant_id))
        return qs.filter(owned)

    def _owns(self, request, obj) -> bool:
        return obj is None or self.get_queryset(request).filter(pk=obj.pk).exists()

    @admin.display(description="Entity", ordering="entity_label")
    def entity(self, obj) -> str:
        return getattr(obj, "entity_label", "")

    @admin.display(description="Value")
    def value(self, obj) -> str:
        return as_text(decode(obj.bool_v, obj.long_v, obj.dbl_v, obj.str_v, obj.json_v))

    @admin.display(description="Last update", ordering="last_update_ts")
    def last_update(self, obj) -> str:
        return format_ms(obj.last_update_ts)


@admin.register(DeviceCredentials)
class DeviceCredentialsAdmin(TenantScopedAdmin):
    """Read-only: a device's credentials are made with it and changed through the API (their rules
    are in devices/credentials.py). ThingsBoard shows the access token to the tenant admin too."""

    read_only = True
    list_display = ("device", "credentials_type", "credentials_id")
    list_filter = ("credentials_type",)
    list_select_related = ("device", "tenant")
    search_fields = ("device__name",)
    fields = ("device", "credentials_type", "credentials_id", "credentials_value", "id", "created_time", "version")
    readonly_fields = fields

    def has_delete_permission(self, request, obj=None):
        # Never on its own pages (a device keeps its credentials), but the admin asks this of the
        # rows a device's deletion cascades to: refusing there would make devices undeletable.
        match = getattr(request, "resolver_match", None)
        own_page = bool(match and (match.url_name or "").startswith("devices_devicecredentials_"))
        return not own_page and self._may_enter(request) and self._owns(request, obj)


@admin.register(TelemetryKey, SeriesTtl)
class TelemetryInternalsAdmin(TenantScopedAdmin):
    """Storage bookkeeping shared by all tenants: system admins may look, nobody edits."""

    sysadmin_only = True
    read_only = True


@admin.register(EntityRelation)
class EntityRelationAdmin(TenantScopedAdmin):
    """Read-only listing of a tenant's relations; they are made through the API or rule chains."""

    read_only = True
    list_display = ("from_type", "from_id", "type", "to_type", "to_id", "type_group")
    list_filter = ("type_group", "from_type", "to_type")
    search_fields = ("type",)

    def get_queryset(self, request):
        qs = admin.ModelAdmin.get_queryset(self, request)
        user = request.user
        if is_sysadmin(user):
            return qs
        return qs.filter(tenant_id=user.tenant_id) if user.is_staff else qs.none()
