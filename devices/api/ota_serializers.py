"""JSON shapes of OTA packages (ThingsBoard's OtaPackageInfo, OtaPackage, SaveOtaPackageInfoRequest)
and of a package id on a device or profile (``firmwareId``/``softwareId``)."""

import base64

from django.http import Http404
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from devices.choices import OtaPackageType
from devices.models import DeviceProfile, OtaPackage
from tbproject.api.ids import EntityIdField, entity_id
from tbproject.api.serializers import TbEntitySerializer

__all__ = ["OtaIdField", "OtaPackageInfoSerializer", "OtaPackageSerializer"]

DUPLICATE = "OtaPackage with such title and version already exists!"
#: what a saved package keeps: ThingsBoard refuses to change these (its OtaPackageInfo validator)
FIXED = {"type": "type", "title": "title", "package_version": "version", "device_profile_id": "deviceProfile",
         "tag": "tag"}


class OtaIdField(EntityIdField):
    """``firmwareId``/``softwareId``: {"entityType": "OTA_PACKAGE", "id"} or null, as ThingsBoard writes
    them; reads a bare uuid, the object, null or ThingsBoard's NULL_UUID (= none)."""

    def __init__(self, **kwargs):
        super().__init__("OTA_PACKAGE", required=False, allow_null=True, **kwargs)

    def get_attribute(self, instance):
        return serializers.Field.get_attribute(self, instance)


def _text(**kwargs):
    return serializers.CharField(max_length=255, **kwargs)


class OtaPackageInfoSerializer(TbEntitySerializer):
    """OtaPackageInfo: the package without its bytes. Saves take SaveOtaPackageInfoRequest: ``usesUrl``
    (or ``isURL``) with ``url`` makes a package whose file lives elsewhere."""

    entity_type = "OTA_PACKAGE"

    deviceProfileId = EntityIdField("DEVICE_PROFILE", source="device_profile_id",
                                    error_messages={"null": "OtaPackage should be assigned to device profile!"})
    type = serializers.ChoiceField(OtaPackageType.values, error_messages={"required": "Type should be specified!"})
    title = _text(error_messages={"required": "OtaPackage title should be specified!",
                                  "blank": "OtaPackage title should be specified!"})
    version = _text(source="package_version", error_messages={"required": "OtaPackage version should be specified!",
                                    "blank": "OtaPackage version should be specified!"})
    tag = _text(required=False, allow_blank=True, allow_null=True)
    url = _text(required=False, allow_blank=True, allow_null=True)
    hasData = serializers.BooleanField(source="has_data", read_only=True)
    fileName = serializers.SerializerMethodField()
    contentType = serializers.SerializerMethodField()
    checksumAlgorithm = serializers.SerializerMethodField()
    checksum = serializers.SerializerMethodField()
    dataSize = serializers.IntegerField(source="data_size", read_only=True)
    name = serializers.CharField(source="title", read_only=True)

    class Meta:
        model = OtaPackage
        fields = ("id", "createdTime", "additionalInfo", "tenantId", "deviceProfileId", "type", "title", "version",
                  "tag", "url", "hasData", "fileName", "contentType", "checksumAlgorithm", "checksum", "dataSize",
                  "name")

    def get_fileName(self, obj):
        return obj.file_name or None

    def get_contentType(self, obj):
        return obj.content_type or None

    def get_checksumAlgorithm(self, obj):
        return obj.checksum_algorithm or None

    def get_checksum(self, obj):
        return obj.checksum or None

    def to_representation(self, instance):
        out = super().to_representation(instance)
        out["tag"] = instance.tag or None
        out["url"] = instance.url or None
        return out

    def validate(self, attrs):
        data = self.initial_data
        uses_url = data.get("usesUrl", data.get("isURL"))
        if uses_url is not None and not isinstance(uses_url, bool):
            raise ValidationError({"usesUrl": "must be true or false"})
        url = attrs.get("url") or ""
        if uses_url and not url:
            raise ValidationError("Ota package URL should be specified!")
        if uses_url is False:
            attrs["url"] = ""
        for key in ("url", "tag"):  # absent from an update: kept as they are
            if key in attrs or self.instance is None:
                attrs[key] = attrs.get(key) or ""
        if self.instance is not None:
            self._check_fixed(attrs)
        return attrs

    def _check_fixed(self, attrs) -> None:
        for field, label in FIXED.items():
            if field in attrs and attrs[field] != getattr(self.instance, field):
                if field == "device_profile_id":
                    raise ValidationError("Updating otaPackage deviceProfile is prohibited!")
                raise ValidationError(f"Updating otaPackage {label} is prohibited!" if field != "type"
                                      else "Updating type is prohibited!")
        if self.instance.has_data and "url" in attrs and attrs["url"] != self.instance.url:
            raise ValidationError("Updating otaPackage url is prohibited!")

    def save(self, **kwargs):
        data = self.validated_data
        if self.instance is None:
            profile = DeviceProfile.objects.filter(tenant=self.tenant, pk=data["device_profile_id"]).first()
            if profile is None:
                raise Http404("Requested item wasn't found!")
            kwargs["tenant"] = self.tenant
        if data.get("url") and (self.instance is None or not self.instance.has_data):
            kwargs["has_data"] = True  # a package without a file may still be pointed at one
            self._url_checksum(kwargs)
        return super().save(**kwargs)

    def _url_checksum(self, kwargs) -> None:
        """A URL package may carry the file's checksum (ThingsBoard shows it to the devices as is)."""
        data = self.initial_data
        algorithm, checksum = data.get("checksumAlgorithm"), data.get("checksum")
        if not self.validated_data.get("url"):
            return
        from devices.ota.checksums import ALGORITHMS

        if algorithm is not None and algorithm not in ALGORITHMS:
            raise ValidationError({"checksumAlgorithm": f"must be one of: {', '.join(ALGORITHMS)}"})
        if checksum is not None and (not isinstance(checksum, str) or len(checksum) > 1020 or "\x00" in checksum):
            raise ValidationError({"checksum": "must be a string of at most 1020 characters"})
        kwargs["checksum_algorithm"], kwargs["checksum"] = algorithm or "", checksum or ""


class OtaPackageSerializer(OtaPackageInfoSerializer):
    """OtaPackage: the info and the file's bytes (base64, as Jackson writes a byte buffer)."""

    data = serializers.SerializerMethodField()

    class Meta(OtaPackageInfoSerializer.Meta):
        fields = (*OtaPackageInfoSerializer.Meta.fields[:-1], "data", "name")

    def get_data(self, obj):
        return base64.b64encode(bytes(obj.data)).decode("ascii") if obj.data is not None else None


def package_id(package) -> dict:
    return entity_id("OTA_PACKAGE", package.pk)
