"""Device endpoints; see tbproject/api/resources.py for the generic save/detail/list views."""

from django.shortcuts import get_object_or_404

from devices.api.serializers import DeviceSerializer
from devices.models import Device
from tbproject.api.resources import EntityResource

__all__ = ["DeviceResource"]


class DeviceResource(EntityResource):
    model = Device
    serializer_class = DeviceSerializer
    duplicate_message = "Device with such name already exists!"
    sort_fields = {"createdTime": "created_time", "name": "name", "label": "label", "type": "profile__name",
                   "deviceProfileName": "profile__name", "customerTitle": "customer__title"}

    def get_queryset(self):
        return super().get_queryset().select_related("profile")

    def filter_list(self, queryset):
        device_type = self.request.query_params.get("type")
        return queryset.filter(profile__name=device_type) if device_type else queryset

    def lookup_single(self, params):
        if "deviceName" in params:
            return get_object_or_404(self.get_queryset(), name=params["deviceName"])
        return None
