"""Devices, assets, their profiles and groups, and their attributes.

Telemetry lives in tables created by devices/telemetry/storage.py (one storage kind per
database), not in Django models, because the partitioned and hypertable layouts cannot be
expressed as ordinary models.
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from devices import group_owners, group_types
from devices.choices import AttributeScope, ChecksumAlgorithm, CredentialsType, GroupType, OtaPackageType
from tbproject.clock import now_ms
from tenants.models import Customer, TenantScopedModel

__all__ = ["DeviceProfile", "AssetProfile", "Device", "Asset", "EntityGroup", "Attribute", "TelemetryKey", "SeriesTtl",
           "EntityRelation", "DeviceCredentials", "EntityView", "OtaPackage", "DeviceGroupOtaPackage"]

DEFAULT_PROFILE = "default"


class _Profile(TenantScopedModel):
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    is_default = models.BooleanField(default=False)

    customer_lookup = None  # profiles have no customer; customer users see none

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DeviceProfile(_Profile):
    """A device type. Every tenant has one named "default"; converters create others by name.

    ThingsBoard's profile JSON lives in ``additional_info`` (devices/api/profiles.py); its
    ``provisionDeviceKey`` is copied to a column on every save, because devices provisioning
    themselves (devices/device_provision.py) find their profile by it alone, across tenants, and
    ThingsBoard keeps it unique on the whole server."""

    provision_device_key = models.CharField(max_length=255, null=True, blank=True, unique=True,
                                            editable=False)
    # the OtaPackage ids every device of the profile gets unless it has its own (devices/ota/). Ids, not
    # foreign keys: a package belongs to a profile, and a key back would make a cycle of references that
    # tenants/deletion.py cannot order; a package in use is never deleted (devices/ota/packages.py).
    firmware_id = models.UUIDField(null=True, blank=True, db_index=True)
    software_id = models.UUIDField(null=True, blank=True, db_index=True)

    class Meta(_Profile.Meta):
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="device_profile_name_per_tenant")]

    def save(self, *args, **kwargs):
        key = (self.additional_info or {}).get("provisionDeviceKey")
        self.provision_device_key = key if isinstance(key, str) and key else None
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "additional_info" in update_fields:
            kwargs["update_fields"] = {*update_fields, "provision_device_key"}
        super().save(*args, **kwargs)


class AssetProfile(_Profile):
    """An asset type. Every tenant has one named "default"."""

    class Meta(_Profile.Meta):
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="asset_profile_name_per_tenant")]


class _Entity(TenantScopedModel):
    name = models.CharField(max_length=255)
    label = models.CharField(max_length=255, blank=True)
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def from_db(cls, db, field_names, values):
        entity = super().from_db(db, field_names, values)
        group_owners.remember_owner(entity, field_names)  # an owner change leaves the old owner's groups
        return entity


class Device(_Entity):
    """A device, unique by name within its tenant."""

    profile = models.ForeignKey(DeviceProfile, on_delete=models.PROTECT, related_name="devices")
    # the device's own OTA package ids, ahead of its groups' and its profile's (devices/ota/; ids, as on
    # DeviceProfile)
    firmware_id = models.UUIDField(null=True, blank=True, db_index=True)
    software_id = models.UUIDField(null=True, blank=True, db_index=True)

    class Meta(_Entity.Meta):
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="device_name_per_tenant")]

    @classmethod
    def from_db(cls, db, field_names, values):
        device = super().from_db(db, field_names, values)
        # what devices/ota/signals.py compares a save against (the effective package may change)
        if {"profile_id", "firmware_id", "software_id"} <= set(field_names):
            device._ota_loaded = (device.profile_id, device.firmware_id, device.software_id)
        return device

    @property
    def type(self) -> str:
        return self.profile.name


class DeviceCredentials(TenantScopedModel):
    """How a device authenticates, one row per device (ThingsBoard's device_credentials): an
    access token by default, made when the device is (devices/credentials.py). ``credentials_id``
    (the token, a certificate's hash, an MQTT user name) is unique across the whole server, as
    ThingsBoard's transports look a device up by it alone."""

    device = models.OneToOneField(Device, on_delete=models.CASCADE, related_name="credentials")
    credentials_type = models.CharField(max_length=32, choices=CredentialsType.choices,
                                        default=CredentialsType.ACCESS_TOKEN)
    credentials_id = models.CharField(max_length=255, unique=True)
    credentials_value = models.TextField(null=True, blank=True)  # noqa: DJ001  (null for an access token)

    customer_lookup = "device__customer_id"

    class Meta:
        verbose_name_plural = "device credentials"

    def __str__(self) -> str:
        return f"{self.credentials_type} of device {self.device_id}"


class Asset(_Entity):
    """An asset (building, vehicle, field...), unique by name within its tenant."""

    profile = models.ForeignKey(AssetProfile, on_delete=models.PROTECT, related_name="assets")

    class Meta(_Entity.Meta):
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="asset_name_per_tenant")]

    @property
    def type(self) -> str:
        return self.profile.name


class EntityGroup(TenantScopedModel):
    """A named group of devices, assets, entity views, dashboards or users; an entity may be in several groups."""

    name = models.CharField(max_length=255)
    type = models.CharField(max_length=16, choices=GroupType.choices)
    description = models.TextField(blank=True)
    devices = models.ManyToManyField(Device, blank=True, related_name="groups")
    assets = models.ManyToManyField(Asset, blank=True, related_name="groups")
    entity_views = models.ManyToManyField("EntityView", blank=True, related_name="groups")
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="entity_groups")
    # a device group with an OTA package (DeviceGroupOtaPackage), kept by devices/ota/signals.py: adding
    # members to a group without one (integrations do it per uplink batch) costs no OTA query
    ota_assigned = models.BooleanField(default=False, editable=False)
    # the owner: the tenant (None) or one of its customers ("Customer Users" of each customer, roles/defaults.py)
    customer = models.ForeignKey("tenants.Customer", null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="+")
    # the owner's "All" group of its type: every entity of the owner, kept by devices/all_groups.py
    group_all = models.BooleanField(default=False, editable=False)

    customer_lookup = "customer_id"  # customer users see their customer's groups (and what roles/ shares)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "type", "name"], condition=models.Q(customer=None),
                                    name="group_name_per_tenant_type"),
            models.UniqueConstraint(fields=["customer", "type", "name"], condition=models.Q(customer__isnull=False),
                                    name="group_name_per_customer_type"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.type})"

    @property
    def members(self):
        """The related manager of this group's members, whatever its type (devices/group_types.py)."""
        return getattr(self, group_types.relation(self.type))


class Attribute(models.Model):
    """One attribute value of an entity in one scope, typed like ThingsBoard's attribute_kv."""

    entity_id = models.UUIDField(db_index=False)
    scope = models.CharField(max_length=16, choices=AttributeScope.choices)
    key = models.CharField(max_length=255)
    bool_v = models.BooleanField(null=True)
    long_v = models.BigIntegerField(null=True)
    dbl_v = models.FloatField(null=True)
    str_v = models.TextField(null=True)  # noqa: DJ001  (null = "not this type")
    json_v = models.TextField(null=True)  # noqa: DJ001
    last_update_ts = models.BigIntegerField(default=now_ms)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["entity_id", "scope", "key"], name="attribute_entity_scope_key")]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}"


class TelemetryKey(models.Model):
    """Dictionary of telemetry key names: the time-series tables store the small integer id."""

    key = models.CharField(max_length=255, unique=True)

    def __str__(self) -> str:
        return self.key


class SeriesTtl(models.Model):
    """How long one entity's time series of one key is kept (ThingsBoard's per-message TTL: the
    save-timeseries rule node's ``defaultTTL`` or the message's ``TTL`` metadata). The last TTL
    written for a series wins; devices/telemetry/series_ttl.py deletes its older points."""

    entity_id = models.UUIDField()
    key = models.ForeignKey(TelemetryKey, on_delete=models.CASCADE, related_name="+")
    ttl_ms = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["entity_id", "key"], name="series_ttl_per_key")]

    def __str__(self) -> str:
        return f"{self.entity_id}/{self.key_id}: {self.ttl_ms} ms"


class EntityRelation(models.Model):
    """A typed, directed link between two entities (ThingsBoard's ``relation`` table): an asset
    "Contains" a device, a customer "Manages" an asset. Ends are (type, id) pairs without foreign
    keys, as ThingsBoard stores them; devices/signals.py removes an entity's relations with it."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+", editable=False)
    from_type = models.CharField(max_length=32)
    from_id = models.UUIDField()
    to_type = models.CharField(max_length=32)
    to_id = models.UUIDField(db_index=True)
    type = models.CharField(max_length=255)
    type_group = models.CharField(max_length=32, default="COMMON")
    additional_info = models.JSONField(null=True, blank=True)

    customer_lookup = None  # reached through the entities at its ends, never listed for customers

    class Meta:
        constraints = [models.UniqueConstraint(fields=["from_id", "from_type", "type_group", "type", "to_id",
                                                       "to_type"], name="relation_unique")]

    def __str__(self) -> str:
        return f"{self.from_type} {self.from_id} -[{self.type}]-> {self.to_type} {self.to_id}"


def _no_keys() -> dict:
    return {"timeseries": [], "attributes": {"cs": [], "ss": [], "sh": []}}


class EntityView(TenantScopedModel):
    """A named window onto one device's or asset's data (ThingsBoard's entity view): only the
    listed time-series and attribute keys, only inside [start_time_ms, end_time_ms] (0 = open).
    Time series are read through from the viewed entity; attributes are copied onto the view
    (devices/entity_views.py, and the "copy to view" rule node), as ThingsBoard keeps them.
    The viewed entity is a (type, id) pair of the same tenant, unique by name per tenant."""

    name = models.CharField(max_length=255)
    type = models.CharField(max_length=255)
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    entity_type = models.CharField(max_length=16, choices=[("DEVICE", "Device"), ("ASSET", "Asset")])
    entity_id = models.UUIDField(db_index=True)
    keys = models.JSONField(default=_no_keys, blank=True)
    start_time_ms = models.BigIntegerField(default=0)
    end_time_ms = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="entity_view_name_per_tenant")]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def from_db(cls, db, field_names, values):
        view = super().from_db(db, field_names, values)
        group_owners.remember_owner(view, field_names)  # an owner change leaves the old owner's groups
        return view

    def clean(self) -> None:
        # The API checks this in its serializer; the admin form comes here (a view of another
        # tenant's device would read that tenant's time series).
        super().clean()
        model = {"DEVICE": Device, "ASSET": Asset}.get(self.entity_type)
        if model is None or self.entity_id is None or self.tenant_id is None:
            return  # the field errors say what is missing
        if not model.objects.filter(tenant_id=self.tenant_id, pk=self.entity_id).exists():
            raise ValidationError({"entity_id": f"No {self.entity_type.lower()} of this tenant has this id."})


class OtaPackage(TenantScopedModel):
    """A firmware or software package for the devices of one profile (ThingsBoard's ota_package):
    unique by title and version per tenant. Its bytes are kept in ``data`` (at most
    OTA_PACKAGE_MAX_BYTES), or it points at an external ``url``; ``has_data`` says either is there,
    which a package needs before it can be assigned (devices/ota/packages.py)."""

    device_profile = models.ForeignKey(DeviceProfile, on_delete=models.CASCADE, related_name="ota_packages")
    type = models.CharField(max_length=16, choices=OtaPackageType.choices)
    title = models.CharField(max_length=255)
    # ThingsBoard's "version" (``version`` is the row's optimistic-locking counter here)
    package_version = models.CharField(max_length=255)
    tag = models.CharField(max_length=255, blank=True)
    url = models.CharField(max_length=255, blank=True)
    has_data = models.BooleanField(default=False, editable=False)
    file_name = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=255, blank=True)
    checksum_algorithm = models.CharField(max_length=16, choices=ChecksumAlgorithm.choices, blank=True)
    checksum = models.CharField(max_length=1020, blank=True)
    data_size = models.BigIntegerField(null=True, blank=True, editable=False)
    data = models.BinaryField(null=True, blank=True, editable=False)

    customer_lookup = None  # tenant-level; customer users read infos only (devices/api/ota_packages.py)

    class Meta:
        ordering = ["-created_time"]
        constraints = [models.UniqueConstraint(fields=["tenant", "title", "package_version"],
                                               name="ota_package_title_version_per_tenant")]

    def __str__(self) -> str:
        return f"{self.title} {self.package_version} ({self.type})"


class DeviceGroupOtaPackage(models.Model):
    """A package assigned to a device group (ThingsBoard PE's device_group_ota_package): the group's
    devices of the package's profile get it unless they have their own; one per group and type."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+", editable=False)
    group = models.ForeignKey(EntityGroup, on_delete=models.CASCADE, related_name="ota_packages")
    ota_package_type = models.CharField(max_length=16, choices=OtaPackageType.choices)
    ota_package = models.ForeignKey(OtaPackage, on_delete=models.CASCADE, related_name="group_assignments")
    ota_package_update_time = models.BigIntegerField(default=now_ms)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "ota_package_type"],
                                               name="group_ota_package_per_type")]

    def __str__(self) -> str:
        return f"{self.ota_package_type} of group {self.group_id}"
