"""Tenant profiles, as ThingsBoard's TenantProfileController (system administrators only):

    POST   /api/tenantProfile                        save (the rate limits are checked)
    GET    /api/tenantProfile/{id}                   fetch;  DELETE: refused while tenants use it
    GET    /api/tenantProfiles?pageSize&page&...     PageData
    GET    /api/tenantProfileInfo/default            {id, name} of the default profile
    GET    /api/tenantProfileInfo/{id}               {id, name} (EntityInfo)
    GET    /api/tenantProfileInfos?pageSize&page&... PageData of EntityInfo
    GET    /api/tenantProfiles/list?ids=a,b          the profiles among those ids
    POST   /api/tenantProfile/{id}/default           make it the default

JSON: ``{id, createdTime, name, description, default, isolatedTbRuleEngine, profileData:
{configuration: {type: "DEFAULT", <ThingsBoard's keys>...}, queueConfiguration}}``. Other users
get 404 for an id (nothing of another scope is confirmed to exist) and 403 for the rest.
"""

from django.db import transaction
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from tbproject.api.ids import entity_id
from tbproject.api.permissions import IsSysAdmin
from tbproject.api.resources import EntityResource
from tbproject.api.serializers import StorableJSONField
from tenants.choices import Authority
from tenants.limits import LIMIT_KEYS, validate
from tenants.models import TenantProfile

__all__ = ["TenantProfileSerializer", "TenantProfileResource", "DefaultInfoView", "MakeDefaultView",
           "ProfileInfoSerializer", "InfoResource", "InfoByIdView"]


class TenantProfileSerializer(serializers.ModelSerializer):
    id = serializers.SerializerMethodField()
    createdTime = serializers.IntegerField(source="created_time", read_only=True)
    default = serializers.BooleanField(source="is_default", read_only=True)
    isolatedTbRuleEngine = serializers.BooleanField(source="isolated_tb_rule_engine", required=False)
    description = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    profileData = StorableJSONField(source="profile_data", required=False)

    class Meta:
        model = TenantProfile
        fields = ("id", "createdTime", "name", "description", "default", "isolatedTbRuleEngine", "profileData")

    def get_id(self, obj) -> dict:
        return entity_id("TENANT_PROFILE", obj.pk)

    def validate_description(self, value):
        return value or ""

    def validate_profileData(self, value):
        if value is None:
            return {"configuration": {"type": "DEFAULT"}}
        configuration = value.get("configuration") if isinstance(value, dict) else None
        if not isinstance(configuration, dict):
            raise serializers.ValidationError("profileData.configuration must be a JSON object")
        problems = [f"{key}: {problem}" for key in LIMIT_KEYS
                    if (problem := validate(configuration.get(key) or ""))]
        if problems:
            raise serializers.ValidationError("; ".join(problems))
        return {"configuration": {"type": "DEFAULT", **configuration},
                "queueConfiguration": value.get("queueConfiguration")}

    def to_representation(self, instance):
        data = super().to_representation(instance)
        profile_data = dict(data.get("profileData") or {})
        profile_data.setdefault("configuration", {"type": "DEFAULT"})
        profile_data.setdefault("queueConfiguration", None)
        data["profileData"] = profile_data
        return data


class ProfileInfoSerializer(serializers.Serializer):
    """ThingsBoard's EntityInfo of a tenant profile: only its id and name."""

    id = serializers.SerializerMethodField()
    name = serializers.CharField()

    def get_id(self, obj) -> dict:
        return entity_id("TENANT_PROFILE", obj.pk)


class TenantProfileResource(EntityResource):
    model = TenantProfile
    serializer_class = TenantProfileSerializer
    search_lookup = "icontains"
    sort_fields = {"createdTime": "created_time", "name": "name", "description": "description",
                   "isDefault": "is_default"}
    permission_classes = [IsSysAdmin]
    duplicate_message = "Tenant profile with such name already exists!"

    def get_queryset(self):
        user = self.request.user
        return TenantProfile.objects.all() if user.authority == Authority.SYS_ADMIN else TenantProfile.objects.none()

    def perform_delete(self, obj) -> None:
        if obj.is_default:
            raise ValidationError("The default tenant profile can't be deleted!")
        if obj.tenants.exists():
            raise ValidationError("The tenant profile is used by tenants and can't be deleted!")
        obj.delete()


class ByIdResource(TenantProfileResource):
    """Id routes answer 404 (not 403) to everyone but the system administrator."""

    permission_classes = [IsAuthenticated]


class InfoResource(TenantProfileResource):
    serializer_class = ProfileInfoSerializer


class InfoByIdView(ByIdResource):
    serializer_class = ProfileInfoSerializer

    def get(self, request, pk):
        return Response(self.render(self.get_object(pk)))


class DefaultInfoView(TenantProfileResource):
    def get(self, request):
        profile = TenantProfile.objects.filter(is_default=True).first()
        if profile is None:
            return Response(None)
        return Response({"id": entity_id("TENANT_PROFILE", profile.pk), "name": profile.name})


class MakeDefaultView(ByIdResource):
    def post(self, request, pk):
        profile = self.get_object(pk)
        with transaction.atomic():
            TenantProfile.objects.filter(is_default=True).exclude(pk=profile.pk).update(is_default=False)
            profile.is_default = True
            profile.save()  # post_save: the limits and route caches forget the old default
        return Response(self.render(profile))
