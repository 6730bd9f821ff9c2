"""Tenants at ThingsBoard's paths (TenantController); the rules are in tenants/services.py:

    POST   /api/tenant                                   save (system administrator)
    GET    /api/tenant/{tenantId}, /api/tenant/info/{id} Tenant / TenantInfo (system administrator; a tenant
                                                         administrator its own tenant)
    DELETE /api/tenant/{tenantId}                        the tenant and everything it owns (system administrator):
                                                         answered at once, deleted in the background
    GET    /api/tenants?pageSize&page&textSearch&sortProperty&sortOrder     PageData of Tenant
    GET    /api/tenantInfos?...                          PageData of TenantInfo (adds tenantProfileName)
    GET    /api/tenants/list?tenantIds=a,b               the tenants among those ids

JSON: ``{id, createdTime, title, name, region, country, state, city, address, address2, zip,
phone, email, tenantProfileId, additionalInfo, version}``; textSearch is a substring of the title.
Lists are the system administrator's: anyone else gets 403, as ThingsBoard answers; an id
another user may not see is a 404.
"""

from functools import cached_property

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from tbproject.api.ids import EntityIdField, entity_id, parse_uuid
from tbproject.api.json_body import json_body
from tbproject.api.permissions import IsSysAdmin, RoleChecked
from tbproject.api.resources import ByIdsView, EntityResource
from tenants import services
from tenants.accounts import NO_PERMISSION, AccountError
from tenants.choices import Authority
from tenants.models import Tenant

__all__ = ["TenantSerializer", "TenantInfoSerializer", "TenantResource", "TenantSaveView", "TenantView",
           "TenantInfoView", "TenantListView", "TenantInfoListView", "TenantByIdsView"]


class TenantSerializer(serializers.ModelSerializer):
    id = EntityIdField("TENANT", source="pk", read_only=True)
    createdTime = serializers.IntegerField(source="created_time", read_only=True)
    name = serializers.CharField(source="title", read_only=True)
    tenantProfileId = serializers.SerializerMethodField()
    additionalInfo = serializers.JSONField(source="additional_info", read_only=True)

    class Meta:
        model = Tenant
        fields = ("id", "createdTime", "title", "name", "region", "country", "state", "city", "address", "address2",
                  "zip", "phone", "email", "tenantProfileId", "additionalInfo", "version")

    @cached_property
    def _default_profile(self):
        # once per answer: a page's child serializer is one instance for all its rows
        return services.default_profile()

    def _profile(self, obj):
        # no profile of its own means the default one
        return obj.tenant_profile if obj.tenant_profile_id else self._default_profile

    def get_tenantProfileId(self, obj) -> dict | None:
        profile = self._profile(obj)
        return entity_id("TENANT_PROFILE", profile.pk) if profile else None


class TenantInfoSerializer(TenantSerializer):
    tenantProfileName = serializers.SerializerMethodField()

    class Meta(TenantSerializer.Meta):
        fields = (*TenantSerializer.Meta.fields, "tenantProfileName")

    def get_tenantProfileName(self, obj) -> str | None:
        profile = self._profile(obj)
        return profile.name if profile else None


class TenantResource(EntityResource):
    model = Tenant
    serializer_class = TenantSerializer
    permission_classes = [IsSysAdmin]
    search_field = "title"
    search_lookup = "icontains"
    sort_fields = {"createdTime": "created_time", "title": "title", "name": "title", "email": "email",
                   "country": "country", "state": "state", "city": "city", "address": "address",
                   "address2": "address2", "zip": "zip", "phone": "phone", "region": "region",
                   "tenantProfileName": "tenant_profile__name"}

    def get_queryset(self):
        user = self.request.user
        rows = Tenant.objects.live().select_related("tenant_profile")
        if user.authority == Authority.SYS_ADMIN:
            return rows
        return rows.filter(pk=user.tenant_id) if user.authority == Authority.TENANT_ADMIN else rows.none()


class TenantSaveView(TenantResource):
    permission_classes = [IsAuthenticated, RoleChecked]  # the service answers 403 with ThingsBoard's message

    def post(self, request):
        body = json_body(request)
        if isinstance(body, HttpResponse):
            return body  # 400 or 413, ThingsBoard's error JSON
        tenant = services.save_tenant(request.user, body)
        return Response(self.render(Tenant.objects.select_related("tenant_profile").get(pk=tenant.pk)))


class _TenantReadView(TenantResource):
    """A system administrator reads any tenant, a tenant administrator its own (others' are 404);
    customer users get 403, as ThingsBoard answers them."""

    permission_classes = [IsAuthenticated, RoleChecked]

    def get(self, request, pk):
        if request.user.authority == Authority.CUSTOMER_USER:
            raise AccountError(NO_PERMISSION, 403)
        return Response(self.render(get_object_or_404(self.get_queryset(), pk=parse_uuid(pk))))


class TenantView(_TenantReadView):
    def delete(self, request, pk):
        services.delete_tenant(request.user, parse_uuid(pk))
        return Response(status=200)


class TenantInfoView(_TenantReadView):
    serializer_class = TenantInfoSerializer


class TenantListView(TenantResource):
    def get(self, request):
        return Response(self.page(self.get_queryset()))


class TenantInfoListView(TenantListView):
    serializer_class = TenantInfoSerializer


class TenantByIdsView(ByIdsView, TenantResource):
    ids_param = "tenantIds"
