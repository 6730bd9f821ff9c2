"""The keys a tenant's devices use, for the device-profile forms (tenant administrators):

    GET /api/deviceProfile/devices/keys/attributes[?deviceProfileId=]   ["firmware", "model", ...]
    GET /api/deviceProfile/devices/keys/timeseries[?deviceProfileId=]   ["humidity", "temperature", ...]

Without ``deviceProfileId`` the keys of the tenant's devices of any profile; another tenant's
profile is a 404. Logic in devices/profile_keys.py (ThingsBoard samples 100 devices).
"""

from django.shortcuts import get_object_or_404
from rest_framework.response import Response
from rest_framework.views import APIView

from devices import profile_keys
from devices.models import DeviceProfile
from tbproject.api.ids import parse_uuid
from tbproject.api.permissions import IsTenantAdmin

__all__ = ["DeviceProfileKeysView"]


class DeviceProfileKeysView(APIView):
    permission_classes = [IsTenantAdmin]
    #: "attributes" or "timeseries"
    kind = "attributes"

    def get(self, request):
        raw = request.query_params.get("deviceProfileId") or None
        profile_id = None
        if raw is not None:
            profile_id = get_object_or_404(DeviceProfile.objects.for_user(request.user), pk=parse_uuid(raw)).pk
        read = profile_keys.attribute_keys if self.kind == "attributes" else profile_keys.timeseries_keys
        return Response(read(request.user.tenant_id, profile_id))
