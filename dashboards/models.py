"""Dashboards, kept as ThingsBoard keeps them so that a user moving from ThingsBoard keeps theirs.

A dashboard may join entity groups of type DASHBOARD (ThingsBoard PE); the relation is declared
here, as devices/ (where groups live) stands below dashboards/ and registers it by name
(``DashboardsConfig.ready``).

Nothing here renders a dashboard: the widgets, states and entity aliases of ``configuration`` are
stored as the JSON text the client sent (key order and all, as ThingsBoard's ``configuration``
column keeps it) and served back unchanged.
"""

import json
import uuid

from django.db import models

from tbproject.jsontext import compact
from tenants.models import Customer, Tenant, TenantScopedModel, now_ms

__all__ = ["Dashboard", "WidgetsBundle", "WidgetType", "BundleWidget", "Resource"]


class Dashboard(TenantScopedModel):
    """A tenant's dashboard (ThingsBoard's Dashboard), shown to the customers it is assigned to
    (any number of them, as in ThingsBoard); unique by nothing, as ThingsBoard's titles are not."""

    title = models.CharField(max_length=255)
    image = models.TextField(null=True, blank=True, help_text="Thumbnail for mobile grids (a URL or data URL)")  # noqa: DJ001
    mobile_hide = models.BooleanField(default=False)
    mobile_order = models.IntegerField(null=True, blank=True)
    #: the configuration JSON as compact text; "null" when the dashboard has none
    configuration_text = models.TextField(default="null", blank=True)
    assigned_customers = models.ManyToManyField(Customer, blank=True, related_name="+")
    #: PE's dashboard entity groups (type DASHBOARD); devices/ finds them through EntityGroup.dashboards
    groups = models.ManyToManyField("devices.EntityGroup", blank=True, related_name="dashboards")
    external_id = models.UUIDField(null=True, blank=True, editable=False)

    customer_lookup = "assigned_customers"  # a customer user sees the dashboards assigned to its customer
    group_name_field = "title"  # what group listings show, search and sort as the member's name

    class Meta:
        ordering = ["title", "created_time"]
        indexes = [models.Index(fields=["tenant", "title"], name="dashboard_tenant_title")]

    def __str__(self) -> str:
        return self.title

    @property
    def configuration(self):
        return json.loads(self.configuration_text) if self.configuration_text else None

    @configuration.setter
    def configuration(self, value) -> None:
        self.configuration_text = compact(value)

    def clean(self) -> None:
        # The API checks its input in the serializer; the admin's text area comes here.
        from django.core.exceptions import ValidationError

        super().clean()
        try:
            value = json.loads(self.configuration_text or "null")
        except ValueError as e:
            raise ValidationError({"configuration_text": f"Not JSON: {e}"}) from None
        if value is not None and not isinstance(value, dict):
            raise ValidationError({"configuration_text": "The configuration must be a JSON object."})
        self.configuration = value


# --- the widget library, resources and images (ThingsBoard's widgets bundles, widget types, TbResource) ----


class LibraryQuerySet(models.QuerySet):
    def for_user(self, user):
        """What ``user`` reads: its tenant's rows and the system's (tenant null), as every ThingsBoard
        tenant reads the system widget library and images; a system administrator reads the system's."""
        if user is None or not user.is_authenticated:
            return self.none()
        if user.tenant_id is None:
            return self.filter(tenant__isnull=True)
        return self.filter(models.Q(tenant_id=user.tenant_id) | models.Q(tenant__isnull=True))


class LibraryModel(models.Model):
    """Base of what exists at system level (``tenant`` null: the system administrator's, read-only to
    every tenant) or at tenant level."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                               editable=False, help_text="Empty: a system item every tenant reads")
    created_time = models.BigIntegerField(default=now_ms, editable=False)
    version = models.BigIntegerField(default=1, editable=False)

    objects = LibraryQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            self.version = (self.version or 0) + 1
        super().save(*args, **kwargs)

    @property
    def scope(self) -> str:
        """ThingsBoard's scope qualifier: "system" or "tenant"."""
        return "system" if self.tenant_id is None else "tenant"


class WidgetsBundle(LibraryModel):
    """A widgets bundle (ThingsBoard's WidgetsBundle): an ordered set of widget types."""

    alias = models.CharField(max_length=255)
    title = models.CharField(max_length=255)
    image = models.TextField(null=True, blank=True)  # noqa: DJ001 - ThingsBoard's null
    description = models.TextField(null=True, blank=True)  # noqa: DJ001
    order = models.IntegerField(null=True, blank=True)
    scada = models.BooleanField(default=False)
    widget_types = models.ManyToManyField("WidgetType", through="BundleWidget", related_name="bundles", blank=True)

    class Meta:
        ordering = ["title", "created_time"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "alias"], name="widgets_bundle_alias_per_tenant"),
            models.UniqueConstraint(fields=["alias"], condition=models.Q(tenant__isnull=True),
                                    name="widgets_bundle_alias_system"),
        ]

    def __str__(self) -> str:
        return self.title


class WidgetType(LibraryModel):
    """A widget type (ThingsBoard's WidgetTypeDetails): ``descriptor`` kept as the JSON text the client
    sent (key order and all), as dashboards keep their configuration."""

    fqn = models.CharField(max_length=255)
    name = models.CharField(max_length=255)
    deprecated = models.BooleanField(default=False)
    scada = models.BooleanField(default=False)
    image = models.TextField(null=True, blank=True)  # noqa: DJ001
    description = models.TextField(null=True, blank=True)  # noqa: DJ001
    tags = models.JSONField(null=True, blank=True)
    descriptor_text = models.TextField(default="{}", blank=True)
    #: descriptor.type (timeseries, latest, rpc, alarm, static), for WidgetTypeInfo and the type filter
    widget_kind = models.CharField(max_length=32, blank=True, default="")

    class Meta:
        ordering = ["name", "created_time"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "fqn"], name="widget_type_fqn_per_tenant"),
            models.UniqueConstraint(fields=["fqn"], condition=models.Q(tenant__isnull=True),
                                    name="widget_type_fqn_system"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def descriptor(self):
        return json.loads(self.descriptor_text) if self.descriptor_text else None

    def clean(self) -> None:
        # The API checks its input itself; the admin's text area comes here.
        from django.core.exceptions import ValidationError

        super().clean()
        try:
            value = json.loads(self.descriptor_text or "null")
        except ValueError as e:
            raise ValidationError({"descriptor_text": f"Not JSON: {e}"}) from None
        if not isinstance(value, dict):
            raise ValidationError({"descriptor_text": "The descriptor must be a JSON object."})
        kind = value.get("type")
        self.widget_kind = kind if isinstance(kind, str) and len(kind) <= 32 else ""


class BundleWidget(models.Model):
    """A widget type's place in a bundle."""

    bundle = models.ForeignKey(WidgetsBundle, on_delete=models.CASCADE, related_name="rows")
    widget_type = models.ForeignKey(WidgetType, on_delete=models.CASCADE, related_name="bundle_rows")
    position = models.IntegerField(default=0)

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["bundle", "widget_type"], name="bundle_widget_once")]

    def __str__(self) -> str:
        return f"{self.widget_type_id} in {self.bundle_id}"


class Resource(LibraryModel):
    """A resource (ThingsBoard's TbResource): a JS module, a key store, an LwM2M model, an image...
    The bytes are kept in the database; ``etag`` is their SHA-256."""

    title = models.CharField(max_length=255)
    resource_type = models.CharField(max_length=16)
    resource_sub_type = models.CharField(max_length=16, null=True, blank=True)  # noqa: DJ001
    resource_key = models.CharField(max_length=255)
    file_name = models.CharField(max_length=255)
    media_type = models.CharField(max_length=100, blank=True, default="")
    data = models.BinaryField(editable=False)
    etag = models.CharField(max_length=64, editable=False)
    descriptor = models.JSONField(null=True, blank=True)
    is_public = models.BooleanField(default=False)
    public_resource_key = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)

    class Meta:
        ordering = ["title", "created_time"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "resource_type", "resource_key"], name="resource_key_per_tenant"),
            models.UniqueConstraint(fields=["resource_type", "resource_key"], condition=models.Q(tenant__isnull=True),
                                    name="resource_key_system"),
        ]

    def __str__(self) -> str:
        return self.title
