"""OTA packages at ThingsBoard's paths (its OtaPackageController).

    POST   /api/otaPackage                          save the info (SaveOtaPackageInfoRequest) -> OtaPackageInfo
    POST   /api/otaPackage/{id}?checksumAlgorithm=&checksum=   multipart ``file``: the package's bytes
    GET    /api/otaPackage/{id}                     OtaPackage (with ``data``, base64)
    GET    /api/otaPackage/info/{id}                OtaPackageInfo (customer users too)
    GET    /api/otaPackage/{id}/download            the bytes, with the file name
    DELETE /api/otaPackage/{id}                     refused while a device, profile or group uses it
    GET    /api/otaPackages                         page of infos
    GET    /api/otaPackages/{deviceProfileId}/{type}   page of the profile's packages that have data
    GET    /api/otaPackages/group/{groupId}/{type}     the same for the profiles of a device group's devices
"""

from django.conf import settings
from django.http import Http404, HttpResponse
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from devices.api.ota_serializers import DUPLICATE, OtaPackageInfoSerializer, OtaPackageSerializer
from devices.choices import GroupType, OtaPackageType
from devices.models import DeviceProfile, EntityGroup, OtaPackage
from devices.ota import packages
from devices.ota.checksums import ALGORITHMS
from tbproject.api.exceptions import ErrorCode, tb_error
from tbproject.api.ids import parse_uuid
from tbproject.api.params import choice_param
from tbproject.api.permissions import IsTenantAdmin, IsTenantUser
from tbproject.api.resources import DetailView, EntityResource
from tbproject.text import check_text

__all__ = ["OtaPackageResource", "PackageView", "InfoView", "DownloadView", "ListView", "ProfileListView",
           "GroupListView", "check_type"]

#: multipart framing around the file that an upload may add beyond OTA_PACKAGE_MAX_BYTES
_FRAMING = 64 * 1024


def check_type(value: str) -> str:
    """A path's OTA package type, or a 400."""
    if value not in OtaPackageType.values:
        raise ValidationError(f"OTA package type must be one of: {', '.join(OtaPackageType.values)}")
    return value


class OtaPackageResource(EntityResource):
    model = OtaPackage
    serializer_class = OtaPackageInfoSerializer
    permission_classes = [IsTenantAdmin]
    search_field = "title"
    search_lookup = "icontains"
    sort_fields = {"createdTime": "created_time", "title": "title", "version": "package_version", "type": "type",
                   "tag": "tag", "url": "url", "fileName": "file_name", "dataSize": "data_size",
                   "contentType": "content_type", "checksum": "checksum", "checksumAlgorithm": "checksum_algorithm",
                   "deviceProfileName": "device_profile__name"}
    duplicate_message = DUPLICATE

    def get_queryset(self):
        # customer users read infos of their tenant's packages, as ThingsBoard lets them
        return OtaPackage.objects.filter(tenant_id=self.request.user.tenant_id).defer("data")

    def perform_delete(self, obj) -> None:
        packages.check_delete(obj)
        obj.delete()


class PackageView(OtaPackageResource, DetailView):
    """GET (OtaPackage, with data) and DELETE; POST uploads the file."""

    parser_classes = [MultiPartParser, FormParser]

    def get(self, request, pk):
        obj = OtaPackage.objects.filter(tenant_id=request.user.tenant_id, pk=parse_uuid(pk)).first()
        if obj is None:
            raise Http404()
        return Response(OtaPackageSerializer(obj, context={"request": request}).data)

    def post(self, request, pk):
        package = self.get_object(pk)
        cap = settings.OTA_PACKAGE_MAX_BYTES
        if _content_length(request) > cap + _FRAMING:
            return _too_large(cap)
        algorithm = choice_param(request.query_params, "checksumAlgorithm", ALGORITHMS)
        if algorithm is None:
            raise ValidationError("OtaPackage checksum algorithm should be specified!")
        given = request.query_params.get("checksum") or None
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationError("OtaPackage data should be specified! (multipart part 'file')")
        if upload.size > cap:
            return _too_large(cap)
        file_name, content_type = _storable("fileName", upload.name), _storable("contentType", upload.content_type)
        package = OtaPackage.objects.get(pk=package.pk)  # with its data column, for the "has data" check
        try:
            packages.store_data(package, upload.read(), file_name=file_name, content_type=content_type,
                                algorithm=algorithm, given_checksum=_storable("checksum", given) if given else None)
        except packages.PackageTooLarge:
            return _too_large(cap)
        return Response(self.render(package))


def _content_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _too_large(cap: int) -> Response:
    message = f"OTA package file is larger than {cap} bytes (OTA_PACKAGE_MAX_BYTES)"
    return Response(tb_error(413, message, ErrorCode.BAD_REQUEST_PARAMS), status=413)


def _storable(name: str, value) -> str:
    value = value or ""
    try:
        check_text(value)
    except ValueError as e:
        raise ValidationError({name: str(e)}) from None
    if len(value) > 255:
        raise ValidationError({name: "Ensure this field has no more than 255 characters."})
    return value


class InfoView(OtaPackageResource):
    permission_classes = [IsTenantUser]

    def get(self, request, pk):
        return Response(self.render(self.get_object(pk)))


class DownloadView(OtaPackageResource):
    def get(self, request, pk):
        package = OtaPackage.objects.filter(tenant_id=request.user.tenant_id, pk=parse_uuid(pk)).first()
        if package is None:
            raise Http404()
        if package.data is None:
            if package.url:
                raise ValidationError("OTA package has an external URL and no data to download")
            raise Http404("OTA package has no data")
        return package_response(package)


def package_response(package: OtaPackage, data: bytes | None = None) -> HttpResponse:
    """The file (or ``data``, a part of it) with ThingsBoard's headers: the file name in
    Content-Disposition and x-filename, the package's content type."""
    body = bytes(package.data) if data is None else data
    response = HttpResponse(body, content_type=package.content_type or "application/octet-stream")
    name = package.file_name.replace('"', "").replace("\r", "").replace("\n", "")
    response["Content-Disposition"] = f'attachment;filename="{name}"'
    response["x-filename"] = name
    return response


class ListView(OtaPackageResource):
    permission_classes = [IsTenantUser]

    def get(self, request):
        return Response(self.page(self.get_queryset()))


class ProfileListView(OtaPackageResource):
    """The packages that may be assigned to the profile's devices: its own, of the type, with data."""

    permission_classes = [IsTenantUser]

    def get(self, request, device_profile_id, ota_type):
        profile = DeviceProfile.objects.filter(tenant_id=request.user.tenant_id,
                                               pk=parse_uuid(device_profile_id)).first()
        if profile is None:
            raise Http404()
        queryset = self.get_queryset().filter(packages.has_data_filter(), device_profile=profile,
                                              type=check_type(ota_type))
        return Response(self.page(queryset))


class GroupListView(OtaPackageResource):
    """The packages that may be assigned to a device group: of the type, with data, for the profile of
    one of the group's devices."""

    permission_classes = [IsTenantUser]

    def get(self, request, group_id, ota_type):
        group = EntityGroup.objects.for_user(request.user).filter(pk=parse_uuid(group_id),
                                                                  type=GroupType.DEVICE).first()
        if group is None:
            raise Http404()
        profiles = group.devices.values("profile_id")
        queryset = self.get_queryset().filter(packages.has_data_filter(), device_profile_id__in=profiles,
                                              type=check_type(ota_type))
        return Response(self.page(queryset))
