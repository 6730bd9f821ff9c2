"""Device and asset profiles (`/api/deviceProfile...`, `/api/assetProfile...`).

ThingsBoard's profile JSON has many fields this product keeps no column for (transport type,
profileData, default rule chain...). They are kept verbatim in the profile's ``additional_info``
(which ThingsBoard's profile JSON does not expose), so a client's round trip loses nothing.
"""

import copy

from django.db import transaction
from django.db.models import F, ProtectedError
from django.http import Http404
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from devices.api.ota_serializers import OtaIdField
from devices.models import AssetProfile, DeviceProfile
from devices.ota.packages import check_assignment
from devices.ota.profiles import ota_state_before, ota_state_changed
from tbproject.api.ids import entity_id, parse_id_list, parse_uuid
from tbproject.api.params import bool_param, choice_param
from tbproject.api.permissions import IsTenantAdmin, IsTenantUser
from tbproject.api.resources import EntityResource
from tbproject.api.serializers import TbEntitySerializer
from tbproject.text import check_json

__all__ = [
    "DeviceProfileResource", "AssetProfileResource", "InfoListView", "InfoDetailView", "DefaultInfoView",
    "SetDefaultView", "InfoByIdsView", "NamesView",
]

PROVISION_KEY_MAX = 255  # DeviceProfile.provision_device_key's column
DUPLICATE_KEY = "Device profile with such provision device key already exists!"
TRANSPORT_TYPES = ("DEFAULT", "MQTT", "COAP", "LWM2M", "SNMP")
PROVISION_TYPES = ("DISABLED", "ALLOW_CREATE_NEW_DEVICES", "CHECK_PRE_PROVISIONED_DEVICES", "X509_CERTIFICATE_CHAIN")
DEFAULT_PROFILE_DATA = {
    "configuration": {"type": "DEFAULT"},
    "transportConfiguration": {"type": "DEFAULT"},
    "provisionConfiguration": {"type": "DISABLED", "provisionDeviceSecret": None},
    "alarms": None,
}
_ID_KEYS = ("defaultRuleChainId", "defaultDashboardId", "defaultEdgeRuleChainId", "firmwareId", "softwareId")
_COMMON_STORED = {"image": None, "defaultRuleChainId": None, "defaultDashboardId": None,
                  "defaultQueueName": None, "defaultEdgeRuleChainId": None}


def _check_id(key, value):
    if value is None:
        return None
    if not isinstance(value, dict) or "id" not in value:
        raise ValidationError({key: 'must be {"entityType": ..., "id": ...} or null'})
    try:
        return {"entityType": value.get("entityType"), "id": str(parse_uuid(value["id"]))}
    except ValidationError as exc:
        raise ValidationError({key: exc.detail}) from None


def _check_profile_data(value):
    if value is None:
        return copy.deepcopy(DEFAULT_PROFILE_DATA)
    if not isinstance(value, dict):
        raise ValidationError({"profileData": "must be a JSON object"})
    for part in ("configuration", "transportConfiguration", "provisionConfiguration"):
        sub = value.get(part)
        if sub is not None and not (isinstance(sub, dict) and isinstance(sub.get("type"), str)):
            raise ValidationError({"profileData": f"{part} must be a JSON object with a 'type'"})
    if value.get("alarms") is not None and not isinstance(value["alarms"], list):
        raise ValidationError({"profileData": "alarms must be a JSON list or null"})
    return {**{k: v for k, v in DEFAULT_PROFILE_DATA.items() if value.get(k) is None}, **value}


def _check_storable(key: str, value) -> None:
    """Refuse what no column holds (PostgreSQL refuses NUL characters in text and in jsonb, and a
    provision key longer than its column), as a 400 rather than the database's error."""
    try:
        check_json(value)
    except ValueError as e:
        raise ValidationError({key: str(e)}) from None
    if key == "provisionDeviceKey" and isinstance(value, str) and len(value) > PROVISION_KEY_MAX:
        raise ValidationError({key: f"Ensure this field has no more than {PROVISION_KEY_MAX} characters."})


class _ProfileSerializer(TbEntitySerializer):
    """Name, description and the default flag are columns; ``stored`` fields live in additional_info."""

    kind = ""
    stored: dict = {}
    enums: dict = {}

    description = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    default = serializers.BooleanField(source="is_default", read_only=True)

    profile_fields = ("id", "createdTime", "tenantId", "version", "name", "description", "default")

    def get_fields(self):
        fields = super().get_fields()
        missing = f"{self.kind} name should be specified!"
        fields["name"] = serializers.CharField(
            max_length=255, error_messages={"required": missing, "blank": missing, "null": missing})
        return fields

    def validate_name(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError(f"{self.kind} name should be specified!")
        return value.strip()

    def to_internal_value(self, data):
        validated = super().to_internal_value(data)
        extras = {}
        for key in self.stored:
            if key not in data:
                continue
            value = data[key]
            if key in self.enums and value is not None and value not in self.enums[key]:
                raise ValidationError({key: f"must be one of: {', '.join(self.enums[key])}"})
            if key in _ID_KEYS:
                value = _check_id(key, value)
            elif key == "profileData":
                value = _check_profile_data(value)
            elif value is not None and not isinstance(value, str):
                raise ValidationError({key: "must be a string"})
            _check_storable(key, value)
            extras[key] = value
        validated["extras"] = extras
        return validated

    def to_representation(self, instance):
        out = super().to_representation(instance)
        for key, default in self.stored.items():
            out[key] = instance.additional_info.get(key, copy.deepcopy(default))
        return out

    def save(self, **kwargs):
        extras = self.validated_data.pop("extras", {})
        self.validated_data["description"] = self.validated_data.get("description") or ""
        base = self.instance.additional_info if self.instance is not None else {}
        kwargs["additional_info"] = {**base, **extras}
        if self.instance is None:
            kwargs["tenant"] = self.tenant
        return super().save(**kwargs)


class DeviceProfileSerializer(_ProfileSerializer):
    entity_type = "DEVICE_PROFILE"
    kind = "Device profile"
    stored = {**_COMMON_STORED, "type": "DEFAULT", "transportType": "DEFAULT", "provisionType": "DISABLED",
              "profileData": DEFAULT_PROFILE_DATA, "provisionDeviceKey": None}
    enums = {"type": ("DEFAULT",), "transportType": TRANSPORT_TYPES, "provisionType": PROVISION_TYPES}
    # columns (devices/ota/): absent keeps them, null clears them
    firmwareId = OtaIdField(source="firmware_id")
    softwareId = OtaIdField(source="software_id")

    class Meta:
        model = DeviceProfile
        fields = (*_ProfileSerializer.profile_fields, "firmwareId", "softwareId")

    def save(self, **kwargs):
        data, instance = self.validated_data, self.instance
        check_assignment(DeviceProfile(
            pk=instance.pk if instance is not None else None, tenant_id=self.tenant.pk,
            firmware_id=data.get("firmware_id", getattr(instance, "firmware_id", None)),
            software_id=data.get("software_id", getattr(instance, "software_id", None))))
        return super().save(**kwargs)


class AssetProfileSerializer(_ProfileSerializer):
    entity_type = "ASSET_PROFILE"
    kind = "Asset profile"
    stored = _COMMON_STORED

    class Meta:
        model = AssetProfile
        fields = _ProfileSerializer.profile_fields


class ProfileResource(EntityResource):
    """A profile kind. Subclasses set ``model``, ``serializer_class``, ``entity_type``, ``kind``,
    ``members`` (the related name of the entities using it), ``info_keys`` and ``ids_param``."""

    permission_classes = [IsTenantAdmin]
    search_lookup = "icontains"
    sort_fields = {"createdTime": "created_time", "name": "name", "description": "description",
                   "isDefault": "is_default"}
    entity_type = ""
    kind = ""
    members = ""
    member_kind = ""
    info_keys: tuple = ()
    ids_param = ""

    @property
    def duplicate_message(self) -> str:
        return f"{self.kind} with such name already exists!"

    def filter_infos(self, queryset):
        """Hook for Info-only query parameters (e.g. ?transportType=)."""
        return queryset

    def info_queryset(self):
        # Customer users may read profile infos of their tenant (ThingsBoard allows it).
        return self.model.objects.filter(tenant_id=self.request.user.tenant_id)

    def render_info(self, objects, many=False):
        if many:
            return [self.render_info(obj) for obj in objects]
        data = self.serializer_class(objects, context={"request": self.request}).data
        return {"id": data["id"], "name": data["name"], "tenantId": data["tenantId"],
                **{key: data[key] for key in self.info_keys}}

    def perform_delete(self, obj) -> None:
        if obj.is_default:
            raise ValidationError(f"Deletion of Default {self.kind.title()} is prohibited!")
        in_use = f"The {self.kind.lower()} referenced by the {self.member_kind} cannot be deleted!"
        if getattr(obj, self.members).exists():
            raise ValidationError(in_use)
        try:
            obj.delete()
        except ProtectedError:  # an entity took the profile between the check and the delete
            raise ValidationError(in_use) from None


class DeviceProfileResource(ProfileResource):
    model = DeviceProfile
    serializer_class = DeviceProfileSerializer
    entity_type = "DEVICE_PROFILE"
    kind = "Device profile"
    members = "devices"
    member_kind = "devices"
    info_keys = ("image", "defaultDashboardId", "type", "transportType")
    ids_param = "deviceProfileIds"

    def before_save(self, serializer) -> None:
        self._ota_before = ota_state_before(serializer)
        # unique on the whole server (devices provisioning themselves find their profile by it alone)
        key = serializer.validated_data.get("extras", {}).get("provisionDeviceKey")
        others = DeviceProfile.objects.filter(provision_device_key=key)
        if serializer.instance is not None:
            others = others.exclude(pk=serializer.instance.pk)
        if key and others.exists():
            raise ValidationError(DUPLICATE_KEY)

    def after_save(self, obj) -> None:
        super().after_save(obj)
        ota_state_changed(obj, getattr(self, "_ota_before", None))

    def perform_save(self, serializer):
        key = serializer.validated_data.get("extras", {}).get("provisionDeviceKey")
        try:
            return super().perform_save(serializer)
        except ValidationError:
            # the check above passed, then a concurrent save took the key first: the unique index refused
            # ours (the base class answers the name's message for any IntegrityError); say which it was
            others = DeviceProfile.objects.filter(provision_device_key=key)
            if serializer.instance is not None:
                others = others.exclude(pk=serializer.instance.pk)
            if key and others.exists():
                raise ValidationError(DUPLICATE_KEY) from None
            raise

    def filter_infos(self, queryset):
        transport = choice_param(self.request.query_params, "transportType", TRANSPORT_TYPES)
        if transport is None:
            return queryset
        if transport == "DEFAULT":
            return queryset.exclude(additional_info__has_key="transportType") | queryset.filter(
                additional_info__transportType="DEFAULT")
        return queryset.filter(additional_info__transportType=transport)


class AssetProfileResource(ProfileResource):
    model = AssetProfile
    serializer_class = AssetProfileSerializer
    entity_type = "ASSET_PROFILE"
    kind = "Asset profile"
    members = "assets"
    member_kind = "assets"
    info_keys = ("image", "defaultDashboardId")
    ids_param = "assetProfileIds"


class InfoListView(ProfileResource):
    """`GET /api/deviceProfileInfos`: a page of profile infos."""

    permission_classes = [IsTenantUser]

    def get(self, request):
        return Response(self.page(self.filter_infos(self.info_queryset()), render=self.render_info))


class InfoDetailView(ProfileResource):
    """`GET /api/deviceProfileInfo/{id}`"""

    permission_classes = [IsTenantUser]

    def get(self, request, pk):
        obj = self.info_queryset().filter(pk=parse_uuid(pk)).first()
        if obj is None:
            raise Http404()
        return Response(self.render_info(obj))


class DefaultInfoView(ProfileResource):
    """`GET /api/deviceProfileInfo/default`"""

    permission_classes = [IsTenantUser]

    def get(self, request):
        obj = self.info_queryset().filter(is_default=True).first()
        if obj is None:
            raise Http404(f"Default {self.kind.lower()} wasn't found!")
        return Response(self.render_info(obj))


class InfoByIdsView(ProfileResource):
    """`GET /api/deviceProfileInfos/list?deviceProfileIds=a,b`"""

    permission_classes = [IsTenantUser]

    def get(self, request):
        ids = parse_id_list(request.query_params, self.ids_param)
        found = {obj.pk: obj for obj in self.info_queryset().filter(pk__in=ids)}
        return Response(self.render_info([found[i] for i in dict.fromkeys(ids) if i in found], many=True))


class NamesView(ProfileResource):
    """`GET /api/deviceProfile/names?activeOnly=`: EntityInfo {id, name}; activeOnly = profiles in use."""

    permission_classes = [IsTenantUser]

    def get(self, request):
        queryset = self.info_queryset().order_by("name")
        if bool_param(request.query_params, "activeOnly", False):
            queryset = queryset.filter(**{f"{self.members}__isnull": False}).distinct()
        return Response([{"id": entity_id(self.entity_type, p.pk), "name": p.name} for p in queryset])


class SetDefaultView(ProfileResource):
    """`POST /api/deviceProfile/{id}/default`: make it the tenant's default; answers the profile."""

    def post(self, request, pk):
        obj = self.get_object(pk)
        with transaction.atomic():
            self.make_default(obj)
        return Response(self.render(obj))

    def make_default(self, obj) -> None:
        if not obj.is_default:
            others = self.model.objects.filter(tenant_id=obj.tenant_id, is_default=True)
            others.update(is_default=False, version=F("version") + 1)
            obj.is_default = True
            obj.save()
