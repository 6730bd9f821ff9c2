"""Entity views at ThingsBoard's paths (CE's and PE's, as tb-rest-client and tb-pe-client call them):

    POST   /api/entityView                           save (id in body = update); name unique per tenant
    GET    /api/entityView/{id}, DELETE the same      fetch, delete
    GET    /api/entityView/info/{id}                  EntityViewInfo (+ customerTitle, customerIsPublic, ownerName)
    GET    /api/entityView/types                      EntitySubtype list of the tenant's view types
    GET    /api/tenant/entityViews?type&textSearch... page (tenant admin); ?entityViewName= returns one
    GET    /api/tenant/entityView?entityViewName=     one by name
    GET    /api/user/entityViews, /api/customer/{customerId}/entityViews      pages
    GET    /api/entityViewInfos/all, /api/tenant/entityViewInfos, /api/customer/{customerId}/entityViewInfos
    GET    /api/entityViews/list?entityViewIds=a,b    the visible ones among these ids
    POST   /api/entityViews                           EntityViewSearchQuery {parameters, relationType, entityViewTypes}
    POST   /api/customer/{customerId}/entityView/{id} assign; DELETE /api/customer/entityView/{id} unassign
    GET    /api/entityGroup/{groupId}/entityViews     page of an ENTITY_VIEW group's members (tenant admin)

Saving with ?entityGroupId= / ?entityGroupIds=a,b also adds the view to those ENTITY_VIEW groups.

The data a view shows is read through /api/plugins/telemetry/ENTITY_VIEW/{id}/... (devices/entity_views.py).
"""

import copy
import math
import re

from django.urls import path
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from devices.api.entities import (
    AssignView,
    ByNameView,
    CustomerListView,
    GroupListView,
    InfoDetailView,
    InfoListView,
    OwnedEntityResource,
    UnassignView,
)
from devices.api.lookups import resolve_customer
from devices.api.relation_queries import search_body
from devices.api.serializers import _InfoMixin, owner_id
from devices.api.telemetry import TelemetryView
from devices.entity_views import SCOPE_KEYS, VIEWED_TYPES, copy_attributes
from devices.models import EntityView
from devices.values import check_text
from tbproject.api.ids import EntityIdField, entity_id, parse_uuid
from tbproject.api.permissions import IsTenantAdmin, IsTenantUser
from tbproject.api.resources import ByIdsView, DetailView, ListView, SaveView, as_view
from tbproject.api.serializers import TbEntitySerializer

__all__ = ["EntityViewSerializer", "EntityViewInfoSerializer", "EntityViewResource", "entity_view_patterns"]

_MAX_KEYS = 1000
_INTEGER_TEXT = re.compile(r"\s*[+-]?[0-9]{1,19}\s*")


def _key_list(value, what: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(k, str) and 0 < len(k) <= 255 for k in value):
        raise serializers.ValidationError(f"'{what}' must be a list of keys (non-empty texts of up to 255 characters)")
    if len(value) > _MAX_KEYS:
        raise serializers.ValidationError(f"'{what}' lists more than {_MAX_KEYS} keys")
    for key in value:
        try:
            check_text(key)  # PostgreSQL's jsonb and text columns refuse NUL
        except ValueError as e:
            raise serializers.ValidationError(f"'{what}': {e}") from None
    return list(dict.fromkeys(value))


class _KeysField(serializers.Field):
    """``keys``: {timeseries: [...], attributes: {cs: [...], ss: [...], sh: [...]}}, each list optional."""

    def to_representation(self, value):
        value = value if isinstance(value, dict) else {}
        groups = value.get("attributes") if isinstance(value.get("attributes"), dict) else {}
        return {"timeseries": list(value.get("timeseries") or []),
                "attributes": {g: list(groups.get(g) or []) for g in SCOPE_KEYS.values()}}

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError("'keys' must be a JSON object {timeseries, attributes}")
        groups = data.get("attributes")
        if groups is not None and not isinstance(groups, dict):
            raise serializers.ValidationError("'keys.attributes' must be a JSON object {cs, ss, sh}")
        groups = groups or {}
        return {"timeseries": _key_list(data.get("timeseries"), "keys.timeseries"),
                "attributes": {g: _key_list(groups.get(g), f"keys.attributes.{g}") for g in SCOPE_KEYS.values()}}


class _ViewedEntityField(serializers.Field):
    """``entityId``: {entityType: DEVICE|ASSET, id}; the entity itself is looked up in validate()."""

    default_error_messages = {"required": "Entity view entity id should be specified!",
                              "null": "Entity view entity id should be specified!"}

    def get_attribute(self, instance):
        return instance

    def to_representation(self, value):
        return entity_id(value.entity_type, value.entity_id)

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError("'entityId' must be an entity id object {entityType, id}")
        kind = data.get("entityType")
        if kind not in VIEWED_TYPES:
            raise serializers.ValidationError(f"An entity view shows a DEVICE or an ASSET, not {kind!s:.32}")
        return kind, parse_uuid(data.get("id"))


def _time(value, what: str) -> int:
    """A time as ThingsBoard's JSON reader (Jackson) takes a long: a number, its text ("1000") or an
    integral float (1000.0); null or blank is 0 (no limit)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return 0
    if isinstance(value, str) and _INTEGER_TEXT.fullmatch(value):
        value = int(value)
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
        raise serializers.ValidationError(f"'{what}' must be a time in milliseconds (0: no limit)")
    return value


class EntityViewSerializer(TbEntitySerializer):
    entity_type = "ENTITY_VIEW"

    name = serializers.CharField(max_length=255, error_messages={
        k: "Entity view name should be specified!" for k in ("required", "blank", "null")})
    type = serializers.CharField(max_length=255, error_messages={
        k: "Entity view type should be specified!" for k in ("required", "blank", "null")})
    customerId = EntityIdField("CUSTOMER", source="customer_id", required=False, allow_null=True)
    ownerId = serializers.SerializerMethodField()
    entityId = _ViewedEntityField()
    keys = _KeysField(required=False)
    startTimeMs = serializers.JSONField(source="start_time_ms", required=False)
    endTimeMs = serializers.JSONField(source="end_time_ms", required=False)
    externalId = serializers.SerializerMethodField()

    class Meta:
        model = EntityView
        fields = TbEntitySerializer.base_fields + ("name", "type", "customerId", "ownerId", "entityId", "keys",
                                                   "startTimeMs", "endTimeMs", "externalId")

    def get_ownerId(self, obj) -> dict:
        return owner_id(obj)

    def get_externalId(self, obj):
        return None

    def validate_name(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("Entity view name should be specified!")
        return value.strip()

    def validate_type(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("Entity view type should be specified!")
        return value.strip()

    def validate(self, attrs):
        start = _time(attrs.get("start_time_ms", getattr(self.instance, "start_time_ms", 0)), "startTimeMs")
        end = _time(attrs.get("end_time_ms", getattr(self.instance, "end_time_ms", 0)), "endTimeMs")
        attrs["start_time_ms"], attrs["end_time_ms"] = start, end
        return attrs

    def save(self, **kwargs):
        data, tenant = self.validated_data, self.tenant
        kind, pk = data.pop("entityId")
        if not VIEWED_TYPES[kind].objects.filter(tenant=tenant, pk=pk).exists():
            raise NotFound(f"{kind.capitalize()} with id [{pk}] is not found")
        kwargs.update(entity_type=kind, entity_id=pk)
        if "customer_id" in data:
            kwargs["customer"] = resolve_customer(tenant, data.pop("customer_id"))
        if self.instance is None:
            kwargs["tenant"] = tenant
        return super().save(**kwargs)


class EntityViewInfoSerializer(_InfoMixin, EntityViewSerializer):
    class Meta(EntityViewSerializer.Meta):
        fields = EntityViewSerializer.Meta.fields + _InfoMixin.info_fields


class EntityViewResource(OwnedEntityResource):
    model = EntityView
    serializer_class = EntityViewSerializer
    info_serializer_class = EntityViewInfoSerializer
    entity_type = "ENTITY_VIEW"
    kind = "Entity view"
    name_param = "entityViewName"
    sort_fields = {**OwnedEntityResource.sort_fields, "type": "type"}

    def get_queryset(self):
        return self.model.objects.for_user(self.request.user)

    def info_queryset(self):
        return self.get_queryset().select_related("customer", "tenant").prefetch_related("groups")

    def filter_list(self, queryset):
        kind = self.request.query_params.get("type")
        return queryset.filter(type=kind) if kind else queryset

    def before_save(self, serializer) -> None:
        super().before_save(serializer)
        self._before = copy.copy(serializer.instance)

    def after_save(self, obj) -> None:
        super().after_save(obj)
        copy_attributes(obj, self._before)


class TypesView(EntityViewResource):
    """`GET /api/entityView/types`: EntitySubtype per distinct view type of the caller's tenant."""

    permission_classes = [IsTenantUser]

    def get(self, request):
        tenant_id = request.user.tenant_id
        kinds = (EntityView.objects.filter(tenant_id=tenant_id).order_by("type").values_list("type", flat=True)
                 .distinct())
        tenant = entity_id("TENANT", tenant_id)
        return Response([{"tenantId": tenant, "entityType": "ENTITY_VIEW", "type": kind} for kind in kinds])


class QueryView(EntityViewResource, TelemetryView):
    """`POST /api/entityViews`: the views related to a root entity the caller sees."""

    permission_classes = [IsTenantUser]

    def post(self, request):
        found, direction = search_body(self, request.data)
        rel_type = request.data.get("relationType")
        if rel_type is not None and not isinstance(rel_type, str):
            raise serializers.ValidationError("'relationType' must be a text")
        kinds = request.data.get("entityViewTypes") or []
        if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
            raise serializers.ValidationError("'entityViewTypes' must be a list of entity view types (texts)")
        ends = [(r.to_type, r.to_id) if direction == "FROM" else (r.from_type, r.from_id)
                for r in found if not rel_type or r.type == rel_type]
        rows = self.get_queryset().filter(pk__in=[pk for kind, pk in ends if kind == "ENTITY_VIEW"])
        return Response(self.render([row for row in rows if not kinds or row.type in kinds], many=True))


def entity_view_patterns() -> list:
    """URL patterns (under /api/) of the entity view family."""
    R = EntityViewResource
    return [
        path("entityView/types", TypesView.as_view(), name="entityView-types"),
        path("entityView/info/<str:pk>", as_view(R, InfoDetailView), name="entityView-info"),
        path("entityView", as_view(R, SaveView), name="entityView-save"),
        path("entityView/<str:pk>", as_view(R, DetailView), name="entityView-detail"),
        path("tenant/entityViews", as_view(R, ListView, permission_classes=[IsTenantAdmin]), name="entityView-list"),
        path("tenant/entityView", as_view(R, ByNameView), name="entityView-by-name"),
        path("entityViews/list", as_view(R, ByIdsView, ids_param="entityViewIds", permission_classes=[IsTenantUser]),
             name="entityView-by-ids"),
        path("entityViews", QueryView.as_view(), name="entityView-query"),
        path("user/entityViews", as_view(R, ListView, permission_classes=[IsTenantUser]), name="entityView-user-list"),
        path("customer/<str:customer_id>/entityViews", as_view(R, CustomerListView),
             name="entityView-customer-list"),
        path("entityViewInfos/all", as_view(R, InfoListView), name="entityView-infos-all"),
        path("tenant/entityViewInfos", as_view(R, InfoListView, scope="tenant", permission_classes=[IsTenantAdmin]),
             name="entityView-infos-tenant"),
        path("customer/<str:customer_id>/entityViewInfos", as_view(R, InfoListView, scope="customer"),
             name="entityView-infos-customer"),
        path("customer/entityView/<str:pk>", as_view(R, UnassignView), name="entityView-unassign"),
        path("customer/<str:customer_id>/entityView/<str:pk>", as_view(R, AssignView), name="entityView-assign"),
        path("entityGroup/<str:group_id>/entityViews", as_view(R, GroupListView), name="entityView-group-list"),
    ]
