"""JSON shapes of devices, assets and profiles, as ThingsBoard's REST API has them."""

from django.shortcuts import get_object_or_404
from rest_framework import serializers

from devices.models import DEFAULT_PROFILE, Device, DeviceProfile
from tbproject.api.ids import EntityIdField, entity_id
from tbproject.api.serializers import TbEntitySerializer
from tenants.models import Customer

__all__ = ["DeviceSerializer", "resolve_profile", "resolve_customer"]


def resolve_profile(model, tenant, profile_id, type_name):
    """Profile by id (404 if not the tenant's), else by name (created if missing), else default."""
    if profile_id:
        return get_object_or_404(model.objects.filter(tenant=tenant), pk=profile_id)
    name = (type_name or DEFAULT_PROFILE).strip() or DEFAULT_PROFILE
    profile, _ = model.objects.get_or_create(tenant=tenant, name=name)
    return profile


def resolve_customer(tenant, customer_id):
    if customer_id is None:
        return None
    return get_object_or_404(Customer.objects.filter(tenant=tenant), pk=customer_id)


class DeviceSerializer(TbEntitySerializer):
    entity_type = "DEVICE"

    name = serializers.CharField(max_length=255)
    label = serializers.CharField(max_length=255, required=False, allow_blank=True, allow_null=True)
    type = serializers.CharField(source="profile.name", required=False, allow_null=True, max_length=255)
    deviceProfileId = EntityIdField("DEVICE_PROFILE", source="profile_id", required=False, allow_null=True)
    customerId = EntityIdField("CUSTOMER", source="customer_id", required=False, allow_null=True)
    ownerId = serializers.SerializerMethodField()
    deviceData = serializers.SerializerMethodField()

    class Meta:
        model = Device
        fields = TbEntitySerializer.base_fields + (
            "name", "label", "type", "deviceProfileId", "customerId", "ownerId", "deviceData",
        )

    def get_ownerId(self, obj) -> dict:
        return entity_id("CUSTOMER", obj.customer_id) if obj.customer_id else entity_id("TENANT", obj.tenant_id)

    def get_deviceData(self, obj) -> dict:
        return {"configuration": {"type": "DEFAULT"}, "transportConfiguration": {"type": "DEFAULT"}}

    def validate_name(self, value: str) -> str:
        value = value.strip()
        if not value:
            raise serializers.ValidationError("Device name should be specified!")
        return value

    def save(self, **kwargs):
        data = self.validated_data
        tenant = self.tenant
        profile_type = data.pop("profile", {}).get("name")
        profile_id = data.pop("profile_id", None)
        if self.instance is None or profile_id or profile_type:
            kwargs["profile"] = resolve_profile(DeviceProfile, tenant, profile_id, profile_type)
        if "customer_id" in data:
            kwargs["customer"] = resolve_customer(tenant, data.pop("customer_id"))
        data["label"] = data.get("label") or ""
        if self.instance is None:
            kwargs["tenant"] = tenant
        return super().save(**kwargs)
