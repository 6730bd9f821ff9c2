"""JSON shapes of devices and assets (and their Info variants), as ThingsBoard's REST API has them."""

from rest_framework import serializers

from devices.api.lookups import resolve_customer, resolve_profile
from devices.api.ota_serializers import OtaIdField
from devices.models import Asset, AssetProfile, Device, DeviceProfile
from devices.ota.packages import check_assignment
from tbproject.api.ids import EntityIdField, entity_id
from tbproject.api.serializers import TbEntitySerializer
from tenants.choices import Authority

__all__ = [
    "DeviceSerializer", "AssetSerializer", "DeviceInfoSerializer", "AssetInfoSerializer", "owner_id",
]


def owner_id(obj) -> dict:
    """ThingsBoard's ownerId: the customer when assigned, else the tenant."""
    return entity_id("CUSTOMER", obj.customer_id) if obj.customer_id else entity_id("TENANT", obj.tenant_id)


class _EntitySerializer(TbEntitySerializer):
    """Common shape of devices and assets: name, label, type (= profile name), profile id, customer.

    Subclasses declare their profile id field (``deviceProfileId``/``assetProfileId``) with
    source ``profile_id`` and set ``profile_model`` and ``kind`` ("Device"/"Asset").
    """

    profile_model = None
    kind = ""

    label = serializers.CharField(max_length=255, required=False, allow_blank=True, allow_null=True)
    type = serializers.CharField(source="profile.name", required=False, allow_null=True, allow_blank=True,
                                 max_length=255)
    customerId = EntityIdField("CUSTOMER", source="customer_id", required=False, allow_null=True)
    ownerId = serializers.SerializerMethodField()

    entity_fields = ("name", "label", "type", "customerId", "ownerId")

    def get_fields(self):
        fields = super().get_fields()
        missing = f"{self.kind} name should be specified!"
        fields["name"] = serializers.CharField(
            max_length=255, error_messages={"required": missing, "blank": missing, "null": missing})
        return fields

    def get_ownerId(self, obj) -> dict:
        return owner_id(obj)

    def validate_name(self, value: str) -> str:
        value = value.strip()
        if not value:
            raise serializers.ValidationError(f"{self.kind} name should be specified!")
        return value

    def save(self, **kwargs):
        data = self.validated_data
        tenant = self.tenant
        profile_type = (data.pop("profile", None) or {}).get("name")
        profile_id = data.pop("profile_id", None)
        if self.instance is None or profile_id or profile_type:
            kwargs["profile"] = resolve_profile(self.profile_model, tenant, profile_id, profile_type)
        if "customer_id" in data:
            kwargs["customer"] = resolve_customer(tenant, data.pop("customer_id"))
        data["label"] = data.get("label") or ""
        if self.instance is None:
            kwargs["tenant"] = tenant
        self.check_packages(kwargs)
        return super().save(**kwargs)

    def check_packages(self, kwargs) -> None:
        """Hook: refuse packages the entity may not have (devices), before anything is written."""


class DeviceSerializer(_EntitySerializer):
    entity_type = "DEVICE"
    profile_model = DeviceProfile
    kind = "Device"

    deviceProfileId = EntityIdField("DEVICE_PROFILE", source="profile_id", required=False, allow_null=True)
    deviceData = serializers.SerializerMethodField()
    # absent: unchanged; null (or ThingsBoard's NULL_UUID): none of its own (its group's or profile's applies)
    firmwareId = OtaIdField(source="firmware_id")
    softwareId = OtaIdField(source="software_id")

    class Meta:
        model = Device
        fields = TbEntitySerializer.base_fields + _EntitySerializer.entity_fields + (
            "deviceProfileId", "deviceData", "firmwareId", "softwareId")

    def get_deviceData(self, obj) -> dict:
        return {"configuration": {"type": "DEFAULT"}, "transportConfiguration": {"type": "DEFAULT"}}

    def check_packages(self, kwargs) -> None:
        profile = kwargs.get("profile") or self.instance.profile
        device = Device(tenant_id=self.tenant.pk, profile_id=profile.pk,
                        firmware_id=self.validated_data.get("firmware_id", getattr(self.instance, "firmware_id", None)),
                        software_id=self.validated_data.get("software_id", getattr(self.instance, "software_id", None)))
        check_assignment(device)


class AssetSerializer(_EntitySerializer):
    entity_type = "ASSET"
    profile_model = AssetProfile
    kind = "Asset"

    assetProfileId = EntityIdField("ASSET_PROFILE", source="profile_id", required=False, allow_null=True)

    class Meta:
        model = Asset
        fields = TbEntitySerializer.base_fields + _EntitySerializer.entity_fields + ("assetProfileId",)


class _InfoMixin(serializers.Serializer):
    """Info = entity + owner and profile names (CE's customerTitle/deviceProfileName, PE's ownerName/groups).

    Expects ``customer``, ``tenant`` and ``profile`` selected and ``groups`` prefetched.
    """

    customerTitle = serializers.SerializerMethodField()
    customerIsPublic = serializers.SerializerMethodField()
    ownerName = serializers.SerializerMethodField()
    groups = serializers.SerializerMethodField()

    info_fields = ("customerTitle", "customerIsPublic", "ownerName", "groups")

    def get_customerTitle(self, obj):
        return obj.customer.title if obj.customer_id else None

    def get_customerIsPublic(self, obj) -> bool:
        return bool(obj.customer_id and obj.customer.additional_info.get("isPublic", False))

    def get_ownerName(self, obj) -> str:
        return obj.customer.title if obj.customer_id else obj.tenant.title

    def get_groups(self, obj) -> list:
        # Groups belong to the tenant; customer users are not shown the tenant's group names.
        if self.context["request"].user.authority != Authority.TENANT_ADMIN:
            return []
        return [{"id": entity_id("ENTITY_GROUP", g.pk), "name": g.name} for g in obj.groups.all()]


class DeviceInfoSerializer(_InfoMixin, DeviceSerializer):
    deviceProfileName = serializers.CharField(source="profile.name", read_only=True)
    active = serializers.SerializerMethodField()

    class Meta(DeviceSerializer.Meta):
        fields = DeviceSerializer.Meta.fields + _InfoMixin.info_fields + ("deviceProfileName", "active")

    def get_active(self, obj) -> bool:
        return bool(getattr(obj, "active", False))


class AssetInfoSerializer(_InfoMixin, AssetSerializer):
    assetProfileName = serializers.CharField(source="profile.name", read_only=True)

    class Meta(AssetSerializer.Meta):
        fields = AssetSerializer.Meta.fields + _InfoMixin.info_fields + ("assetProfileName",)
