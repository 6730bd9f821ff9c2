"""OTA packages of device groups (ThingsBoard PE's DeviceGroupOtaPackageController) and the counts of
devices an assignment would update (its DeviceController's ``devices/count`` endpoints).

    POST   /api/deviceGroupOtaPackage                       {groupId, otaPackageType, otaPackageId} -> saved
    GET    /api/deviceGroupOtaPackage/{groupId}/{firmwareType}   the group's assignment of that type (404: none)
    DELETE /api/deviceGroupOtaPackage/{id}
    GET    /api/devices/count/{otaPackageType}/{deviceProfileId}                 devices of the profile without
                                                                                 their own package of the type
    GET    /api/devices/count/{otaPackageType}/{otaPackageId}/{entityGroupId}    the same for a group's devices
                                                                                 of the package's profile

A save or delete tells the group's devices whose package changed (devices/ota/updates.py).
"""

from django.db import transaction
from django.http import Http404
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from devices.api.ota_packages import check_type
from devices.choices import GroupType
from devices.models import Device, DeviceGroupOtaPackage, DeviceProfile, EntityGroup, OtaPackage
from devices.ota import packages, updates
from tbproject.api.ids import entity_id, parse_uuid
from tbproject.api.permissions import IsTenantAdmin
from tbproject.clock import now_ms

__all__ = ["SaveView", "ByGroupView", "DeleteView", "ProfileCountView", "GroupCountView", "render"]


def render(row: DeviceGroupOtaPackage) -> dict:
    return {"id": str(row.pk), "groupId": entity_id("ENTITY_GROUP", row.group_id),
            "otaPackageType": row.ota_package_type, "otaPackageId": entity_id("OTA_PACKAGE", row.ota_package_id),
            "otaPackageUpdateTime": row.ota_package_update_time}


def _device_group(user, raw_id) -> EntityGroup:
    group = EntityGroup.objects.for_user(user).filter(pk=parse_uuid(raw_id), type=GroupType.DEVICE).first()
    if group is None:
        raise Http404()
    return group


def _raw_id(data: dict, key: str):
    value = data.get(key)
    value = value.get("id") if isinstance(value, dict) else value
    if value in (None, ""):
        raise ValidationError(f"{key} should be specified!")
    return value


class SaveView(APIView):
    permission_classes = [IsTenantAdmin]

    def post(self, request):
        data = request.data
        if not isinstance(data, dict):
            raise ValidationError("Request body must be a JSON object")
        group = _device_group(request.user, _raw_id(data, "groupId"))
        kind = check_type(data.get("otaPackageType") if isinstance(data.get("otaPackageType"), str) else "")
        package = packages.check_package(request.user.tenant_id, packages.ANY_PROFILE,
                                         parse_uuid(_raw_id(data, "otaPackageId")), kind)
        with transaction.atomic():
            row = DeviceGroupOtaPackage.objects.select_for_update().filter(group=group, ota_package_type=kind).first()

            def change():
                nonlocal row
                if row is None:
                    row = DeviceGroupOtaPackage(tenant_id=group.tenant_id, group=group, ota_package_type=kind)
                row.ota_package, row.ota_package_update_time = package, now_ms()
                row.save()

            updates.refresh(group.devices.all(), change)
        return Response(render(row))


class ByGroupView(APIView):
    permission_classes = [IsTenantAdmin]

    def get(self, request, group_id, ota_type):
        group = _device_group(request.user, group_id)
        row = DeviceGroupOtaPackage.objects.filter(group=group, ota_package_type=check_type(ota_type)).first()
        if row is None:
            raise Http404()
        return Response(render(row))


class DeleteView(APIView):
    permission_classes = [IsTenantAdmin]

    def delete(self, request, pk):
        row = DeviceGroupOtaPackage.objects.filter(tenant_id=request.user.tenant_id, pk=parse_uuid(pk)).first()
        if row is None:
            raise Http404()
        with transaction.atomic():
            updates.refresh(Device.objects.filter(groups=row.group_id), row.delete)
        return Response(status=200)


class ProfileCountView(APIView):
    permission_classes = [IsTenantAdmin]

    def get(self, request, ota_type, device_profile_id):
        field = packages.FIELDS[check_type(ota_type)]
        profile = DeviceProfile.objects.filter(tenant_id=request.user.tenant_id,
                                               pk=parse_uuid(device_profile_id)).first()
        if profile is None:
            raise Http404()
        return Response(Device.objects.filter(profile=profile, **{f"{field}_id__isnull": True}).count())


class GroupCountView(APIView):
    permission_classes = [IsTenantAdmin]

    def get(self, request, ota_type, ota_package_id, group_id):
        field = packages.FIELDS[check_type(ota_type)]
        package = OtaPackage.objects.defer("data").filter(tenant_id=request.user.tenant_id,
                                                          pk=parse_uuid(ota_package_id)).first()
        group = _device_group(request.user, group_id)
        if package is None:
            raise Http404()
        devices = group.devices.filter(profile_id=package.device_profile_id, **{f"{field}_id__isnull": True})
        return Response(devices.count())
