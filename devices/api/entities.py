"""Devices and assets: one resource base and the endpoint family both share.

ThingsBoard serves the same family for each kind (shown for devices; assets swap the nouns):

    GET  /api/tenant/devices?type&textSearch...      page (tenant admin); ?deviceName= returns one
    GET  /api/tenant/device?deviceName=              one by name
    GET  /api/devices?deviceIds=a,b                  the visible ones among these ids
    GET  /api/user/devices                           page of what the caller may see
    GET  /api/customer/{customerId}/devices          page of one customer's
    GET  /api/deviceInfos/all, /api/tenant/deviceInfos, /api/customer/{customerId}/deviceInfos
    GET  /api/device/info/{id}                       Info = entity + owner/profile names
    GET  /api/device/types                           EntitySubtype list (the tenant's profile names)
    GET  /api/entityGroup/{groupId}/devices          page of a group's members
    POST /api/customer/{customerId}/device/{id}      assign;  DELETE /api/customer/device/{id} unassign
"""

import secrets
import string
from functools import partial

from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from devices import group_owners
from devices.api.lookups import resolve_groups, visible_customer
from devices.models import EntityGroup, EntityView
from devices.ota.signals import change_members
from tbproject.api.ids import entity_id, parse_id_list, parse_uuid
from tbproject.api.params import bool_param, choice_param, required_param
from tbproject.api.permissions import IsTenantAdmin, IsTenantUser
from tbproject.api.resources import EntityResource

__all__ = [
    "OwnedEntityResource", "ByNameView", "CustomerListView", "InfoListView", "InfoDetailView",
    "TypesView", "AssignView", "UnassignView", "GroupListView", "uniquify_name",
]


def uniquify_name(queryset, name: str, separator: str, strategy: str) -> str:
    """A free name derived from ``name`` (ThingsBoard's nameConflictPolicy=UNIQUIFY)."""
    if strategy == "INCREMENTAL":
        n = 1
        while queryset.filter(name=f"{name}{separator}{n}").exists():
            n += 1
        return f"{name}{separator}{n}"
    alphabet = string.ascii_lowercase + string.digits
    while True:
        candidate = f"{name}{separator}{''.join(secrets.choice(alphabet) for _ in range(6))}"
        if not queryset.filter(name=candidate).exists():
            return candidate


class OwnedEntityResource(EntityResource):
    """A tenant entity with a profile, optionally assigned to a customer (Device, Asset).

    Subclasses set ``model``, ``serializer_class``, ``info_serializer_class``, ``profile_model``,
    ``entity_type`` ("DEVICE"), ``kind`` ("Device", for messages), and the query parameter
    names ``name_param`` ("deviceName") and ``profile_param`` ("deviceProfileId").
    """

    info_serializer_class = None
    profile_model = None
    entity_type = ""
    kind = ""
    name_param = ""
    profile_param = ""
    search_lookup = "icontains"
    sort_fields = {"createdTime": "created_time", "name": "name", "label": "label", "type": "profile__name",
                   "customerTitle": "customer__title", "ownerName": "customer__title"}

    @property
    def duplicate_message(self) -> str:
        return f"{self.kind} with such name already exists!"

    def get_queryset(self):
        return super().get_queryset().select_related("profile")

    def info_queryset(self):
        return self.get_queryset().select_related("customer", "tenant").prefetch_related("groups")

    def filter_infos(self, queryset):
        """Hook for Info-only query parameters (e.g. ?active=)."""
        return queryset

    def render_info(self, objects, many=False):
        return self.info_serializer_class(objects, many=many, context={"request": self.request}).data

    def filter_list(self, queryset):
        kind = self.request.query_params.get("type")
        queryset = queryset.filter(profile__name=kind) if kind else queryset
        profile_id = self.request.query_params.get(self.profile_param)
        return queryset.filter(profile_id=parse_uuid(profile_id)) if profile_id else queryset

    def lookup_single(self, params):
        if self.name_param in params:
            return self.get_by_name(params)
        return None

    def get_by_name(self, params):
        name = required_param(params, self.name_param)
        obj = self.get_queryset().filter(name=name).first()
        if obj is None:
            raise Http404(f"Requested {self.kind.lower()} wasn't found!")
        return obj

    def before_save(self, serializer) -> None:
        params = self.request.query_params
        policy = choice_param(params, "nameConflictPolicy", ("FAIL", "UNIQUIFY"), "FAIL")
        strategy = choice_param(params, "uniquifyStrategy", ("RANDOM", "INCREMENTAL"), "RANDOM")
        name = serializer.validated_data.get("name")
        if policy != "UNIQUIFY" or name is None:
            return
        others = self.model.objects.filter(tenant_id=self.request.user.tenant_id)
        if serializer.instance is not None:
            others = others.exclude(pk=serializer.instance.pk)
        if others.filter(name=name).exists():
            separator = params.get("uniquifySeparator") or "_"
            serializer.validated_data["name"] = uniquify_name(others, name, separator, strategy)

    def perform_delete(self, obj) -> None:
        # ThingsBoard's rule: an entity that entity views show stays until they are deleted
        if EntityView.objects.filter(tenant_id=obj.tenant_id, entity_id=obj.pk).exists():
            raise ValidationError(f"Can't delete {self.kind.lower()} that has entity views!")
        super().perform_delete(obj)

    def after_save(self, obj) -> None:
        params = self.request.query_params
        ids = params.getlist("entityGroupId") + [str(i) for i in parse_id_list(params, "entityGroupIds",
                                                                                 required=False)]
        if ids:
            for group in resolve_groups(self.request.user.tenant, self.entity_type, ids):
                if group_owners.foreign_member(group, [obj]) is not None:
                    # a group holds its owner's entities only (as addEntities; the save rolls back)
                    raise ValidationError(group_owners.not_owned_message(obj.pk, group))
                change_members(group, [obj], partial(group.members.add, obj), action="added")


class ByNameView(OwnedEntityResource):
    """`GET /api/tenant/device?deviceName=`"""

    permission_classes = [IsTenantAdmin]

    def get(self, request):
        return Response(self.render(self.get_by_name(request.query_params)))


class CustomerListView(OwnedEntityResource):
    """`GET /api/customer/{customerId}/devices`: a page of one customer's entities."""

    permission_classes = [IsTenantUser]

    def get(self, request, customer_id):
        customer = visible_customer(request.user, customer_id)
        return Response(self.page(self.filter_list(self.get_queryset().filter(customer=customer))))


class InfoListView(OwnedEntityResource):
    """Pages of Info objects. ``scope`` picks the rows:

    "all" (PE `/api/deviceInfos/all`): the caller's own entities; a tenant admin adds customers'
    ones with `includeCustomers=true`. "tenant" (CE `/api/tenant/deviceInfos`): every entity of
    the tenant. "customer" (`/api/customer/{customerId}/deviceInfos`): one customer's.
    """

    permission_classes = [IsTenantUser]
    scope = "all"

    def get(self, request, customer_id=None):
        queryset = self.info_queryset()
        if self.scope == "customer":
            queryset = queryset.filter(customer=visible_customer(request.user, customer_id))
        elif self.scope == "all" and request.user.customer_id is None:
            if not bool_param(request.query_params, "includeCustomers", False):
                queryset = queryset.filter(customer__isnull=True)
        return Response(self.page(self.filter_infos(self.filter_list(queryset)), render=self.render_info))


class InfoDetailView(OwnedEntityResource):
    """`GET /api/device/info/{id}`"""

    permission_classes = [IsTenantUser]

    def get(self, request, pk):
        obj = self.info_queryset().filter(pk=parse_uuid(pk)).first()
        if obj is None:
            raise Http404()
        return Response(self.render_info(obj))


class TypesView(OwnedEntityResource):
    """`GET /api/device/types`: EntitySubtype per profile name of the caller's tenant."""

    permission_classes = [IsTenantUser]

    def get(self, request):
        tenant_id = request.user.tenant_id
        names = self.profile_model.objects.filter(tenant_id=tenant_id).order_by("name").values_list("name", flat=True)
        tenant = entity_id("TENANT", tenant_id)
        return Response([{"tenantId": tenant, "entityType": self.entity_type, "type": name} for name in names])


class AssignView(OwnedEntityResource):
    """`POST /api/customer/{customerId}/device/{id}`: assign to a customer; answers the entity."""

    permission_classes = [IsTenantAdmin]

    def post(self, request, customer_id, pk):
        customer = visible_customer(request.user, customer_id)
        obj = self.get_object(pk)
        obj.customer = customer
        with transaction.atomic():  # with leaving the former owner's groups (devices/group_owners.py)
            obj.save()
        return Response(self.render(obj))


class UnassignView(OwnedEntityResource):
    """`DELETE /api/customer/device/{id}`: back to the tenant; answers the entity."""

    permission_classes = [IsTenantAdmin]

    def delete(self, request, pk):
        obj = self.get_object(pk)
        if obj.customer_id is None:
            raise ValidationError(f"{self.kind} isn't assigned to any customer!")
        obj.customer = None
        with transaction.atomic():  # with leaving the customer's groups (devices/group_owners.py)
            obj.save()
        return Response(self.render(obj))


class GroupListView(OwnedEntityResource):
    """`GET /api/entityGroup/{groupId}/devices`: a page of the group's members."""

    permission_classes = [IsTenantAdmin]

    def get(self, request, group_id):
        group = get_object_or_404(EntityGroup.objects.for_user(request.user), pk=parse_uuid(group_id))
        if group.type != self.entity_type:
            raise ValidationError(f"Entity group [{group.name}] holds {group.type} entities, not {self.entity_type}")
        return Response(self.page(self.filter_list(self.get_queryset().filter(groups=group))))
