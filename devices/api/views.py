"""Device and asset resources; the endpoints they get are in devices/api/entities.py and urls.py."""

from django.db.models import Exists, OuterRef

from devices.api.entities import OwnedEntityResource
from devices.api.serializers import AssetInfoSerializer, AssetSerializer, DeviceInfoSerializer, DeviceSerializer
from devices.choices import AttributeScope
from devices.models import Asset, AssetProfile, Attribute, Device, DeviceProfile
from tbproject.api.params import bool_param

__all__ = ["DeviceResource", "AssetResource"]


class DeviceResource(OwnedEntityResource):
    model = Device
    serializer_class = DeviceSerializer
    info_serializer_class = DeviceInfoSerializer
    profile_model = DeviceProfile
    entity_type = "DEVICE"
    kind = "Device"
    name_param = "deviceName"
    profile_param = "deviceProfileId"
    sort_fields = {**OwnedEntityResource.sort_fields, "deviceProfileName": "profile__name"}

    def info_queryset(self):
        # ThingsBoard keeps device activity in the server-scope attribute "active".
        active = Attribute.objects.filter(entity_id=OuterRef("pk"), scope=AttributeScope.SERVER_SCOPE,
                                          key="active", bool_v=True)
        return super().info_queryset().annotate(active=Exists(active))

    def filter_infos(self, queryset):
        active = bool_param(self.request.query_params, "active")
        return queryset if active is None else queryset.filter(active=active)


class AssetResource(OwnedEntityResource):
    model = Asset
    serializer_class = AssetSerializer
    info_serializer_class = AssetInfoSerializer
    profile_model = AssetProfile
    entity_type = "ASSET"
    kind = "Asset"
    name_param = "assetName"
    profile_param = "assetProfileId"
    sort_fields = {**OwnedEntityResource.sort_fields, "assetProfileName": "profile__name"}
