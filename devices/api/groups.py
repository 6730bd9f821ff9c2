"""Entity groups (ThingsBoard PE): named sets of devices, assets, entity views, dashboards or users, owned by
the tenant or by one of its customers (``ownerId``; each customer's default user groups, roles/).

Tenant administrators write as their roles allow; customer users read the groups of their customer and those
shared with them (a group permission: roles/, through ``Model.objects.for_user``), and write their own
customer's groups where their roles grant it (a "Customer Administrator": ThingsBoard's group-owner-only
operations; the tenant's and other customers' groups are a 404 to them). ``/api/entityGroups/{type}`` lists the
groups of the caller's own owner. JSON is EntityGroupInfo: EntityGroup plus ``ownerIds`` and ``groupAll``
(the owner's "All" group, listed first: devices/all_groups.py, and its "All" user group). Members are found
through devices/group_types.py, where an app above devices/ registers the entities it lets join
groups (dashboards/ its dashboards).
"""

from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response

from devices import all_groups, group_owners, group_types
from devices.api.lookups import visible_customer
from devices.choices import GroupType
from devices.models import EntityGroup
from devices.ota.signals import change_members
from tbproject.api import role_hook
from tbproject.api.ids import entity_id, parse_id_list, parse_uuid
from tbproject.api.pagination import page_data, page_request
from tbproject.api.permissions import IsTenantUser
from tbproject.api.resources import EntityResource
from tbproject.api.serializers import TbEntitySerializer
from tenants.choices import Authority

__all__ = [
    "EntityGroupSerializer", "EntityGroupResource", "TypeListView", "OwnerListView", "ByOwnerAndNameView",
    "ByIdsView", "ForEntityView", "EntitiesView", "MemberView", "AddEntitiesView", "DeleteEntitiesView",
]

#: ThingsBoard PE group types this product keeps no groups of: listing them is an empty answer, not an error.
EMPTY_GROUP_TYPES = ("CUSTOMER", "USER", "EDGE")
#: the owner's group of every user ("groupAll": true)
ALL_GROUP = "All"
#: how an unsupported group type is answered
TYPES_HINT = "use DEVICE, ASSET, ENTITY_VIEW or DASHBOARD"


def _is_customer(user) -> bool:
    return getattr(user, "authority", None) == Authority.CUSTOMER_USER


def owner_of(group) -> dict:
    return entity_id("CUSTOMER", group.customer_id) if group.customer_id else entity_id("TENANT", group.tenant_id)


def own_groups(queryset, user):
    """The groups of ``user``'s own owner: its customer's for a customer user, else the tenant's."""
    return queryset.filter(customer_id=getattr(user, "customer_id", None))


def filter_group_type(queryset, group_type: str):
    if group_type in GroupType.values:
        return queryset.filter(type=group_type)
    if group_type in EMPTY_GROUP_TYPES:
        return queryset.none()
    raise ValidationError(f"Unsupported entity group type '{group_type:.32}'; {TYPES_HINT}")


class EntityGroupSerializer(TbEntitySerializer):
    entity_type = "ENTITY_GROUP"

    name = serializers.CharField(max_length=255, error_messages={
        "required": "Entity group name should be specified!", "blank": "Entity group name should be specified!"})
    type = serializers.ChoiceField(choices=GroupType.choices, error_messages={
        "required": "Entity group type should be specified!",
        "invalid_choice": "Unsupported entity group type \"{input}\"; " + TYPES_HINT})
    ownerId = serializers.JSONField(required=False, allow_null=True, write_only=True)
    ownerIds = serializers.SerializerMethodField()
    configuration = serializers.SerializerMethodField()
    groupAll = serializers.SerializerMethodField()
    edgeGroupAll = serializers.SerializerMethodField()

    class Meta:
        model = EntityGroup
        fields = TbEntitySerializer.base_fields + (
            "name", "type", "ownerId", "ownerIds", "configuration", "groupAll", "edgeGroupAll")

    def to_representation(self, instance):
        out = super().to_representation(instance)
        out["ownerId"] = owner_of(instance)
        return out

    def get_ownerIds(self, obj) -> list:
        tenant = entity_id("TENANT", obj.tenant_id)
        return [owner_of(obj), tenant] if obj.customer_id else [tenant]

    def get_configuration(self, obj):
        return None

    def get_groupAll(self, obj) -> bool:
        return obj.group_all or (obj.type == GroupType.USER and obj.name == ALL_GROUP)

    def get_edgeGroupAll(self, obj) -> bool:
        return False

    def validate_name(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("Entity group name should be specified!")
        return value.strip()

    def validate_type(self, value: str) -> str:
        if self.instance is not None and value != self.instance.type:
            raise serializers.ValidationError("Entity group type can't be changed!")
        return value

    def validate_ownerId(self, value):
        """The caller's tenant or one of its customers (a customer user: its own customer only); another
        tenant's or customer's id is a 404."""
        if value is None:
            return None
        if not isinstance(value, dict) or "id" not in value:
            raise serializers.ValidationError('must be {"entityType": "TENANT", "id": ...} or null')
        user = self.context["request"].user
        kind, owner = value.get("entityType"), parse_uuid(value["id"])
        if kind == "TENANT":
            if owner != user.tenant_id or _is_customer(user):
                raise Http404("Requested owner wasn't found!")
            return None
        if kind == "CUSTOMER":
            return visible_customer(user, owner)
        raise serializers.ValidationError(f"Unsupported owner type '{kind!s:.32}'; use TENANT or CUSTOMER")

    def save(self, **kwargs):
        data = self.validated_data
        owner = data.pop("ownerId", None)
        user = self.context["request"].user
        if self.instance is None and owner is None and _is_customer(user):
            owner = user.customer  # a customer user's new group is its customer's
        if self.instance is None and owner is not None:
            kwargs["customer"] = owner
        info = data.get("additional_info")
        if isinstance(info, dict):
            kwargs["description"] = str(info.get("description") or "")
        if self.instance is None:
            kwargs["tenant"] = self.tenant
        return super().save(**kwargs)


class EntityGroupResource(EntityResource):
    model = EntityGroup
    serializer_class = EntityGroupSerializer
    permission_classes = [IsTenantUser]
    sort_fields = {"createdTime": "created_time", "name": "name", "type": "type"}
    duplicate_message = "Entity group with such name, type and owner already exists!"
    #: method -> the operation on the group's resource ({TYPE}_GROUP) a loaded group needs (the role hook)
    group_operations = {"GET": "READ", "POST": "WRITE", "DELETE": "DELETE"}

    def get_object(self, pk):
        group = super().get_object(pk)
        user = self.request.user
        if self.request.method not in SAFE_METHODS and _is_customer(user) and group.customer_id != user.customer_id:
            # the group owner's operations: a customer user changes its own customer's groups only (one shared
            # with it, the tenant's, another customer's: not found, whatever its roles)
            raise Http404(f"Entity group with id [{group.pk}] is not found")
        role_hook.require(self.request, f"{group.type}_GROUP", self.group_operations.get(self.request.method, "READ"))
        return group

    def before_save(self, serializer) -> None:
        """A new group needs CREATE on its type's group resource; a renamed default user group is refused."""
        instance, data = serializer.instance, serializer.validated_data
        if instance is None:
            role_hook.require(self.request, f"{data.get('type')}_GROUP", "CREATE")
        elif "name" in data and data["name"] != instance.name:
            all_groups.refuse(instance, "rename")
            role_hook.guard(self.request, "rename", instance)

    def perform_delete(self, obj) -> None:
        all_groups.refuse(obj, "delete")
        role_hook.guard(self.request, "delete", obj)
        super().perform_delete(obj)

    def owner_groups(self, owner_type: str, raw_owner_id: str):
        """The visible groups ``owner_type``/``raw_owner_id`` owns (another tenant's or customer's owner: 404)."""
        user = self.request.user
        if owner_type == "TENANT":
            if parse_uuid(raw_owner_id) != user.tenant_id:
                raise Http404("Requested owner wasn't found!")
            return self.get_queryset().filter(customer=None)
        if owner_type == "CUSTOMER":
            return self.get_queryset().filter(customer=visible_customer(user, raw_owner_id))
        raise ValidationError(f"Unsupported owner type '{owner_type:.32}'; use TENANT or CUSTOMER")

    def render_info(self, objects, many=False):
        """EntityInfo {id, name}."""
        if many:
            return [self.render_info(obj) for obj in objects]
        return {"id": entity_id("ENTITY_GROUP", objects.pk), "name": objects.name}


class TypeListView(EntityGroupResource):
    """`GET /api/entityGroups/{groupType}` (paged), `/all` (list); ``infos`` renders EntityInfo."""

    paged = True
    infos = False

    def get(self, request, group_type):
        return self.answer(filter_group_type(own_groups(self.get_queryset(), request.user), group_type))

    def answer(self, queryset):
        """The owner's "All" group first (ThingsBoard lists it so), then the request's order."""
        render = self.render_info if self.infos else self.render
        queryset = queryset.order_by("-group_all", "name")
        if self.paged:
            body = page_data(queryset, page_request(self.request.query_params), search_field=self.search_field,
                             sort_fields=self.sort_fields, search_lookup=self.search_lookup,
                             render=lambda rows: render(rows, many=True), lead=("-group_all",))
            return Response(body)
        return Response(render(queryset, many=True))


class OwnerListView(TypeListView):
    """`GET /api/entityGroups/{ownerType}/{ownerId}/{groupType}` (paged) and `.../all` (list);
    `/api/entityGroupInfos/...` (``infos``: EntityInfo). The `...Hierarchy/...` paths (``hierarchy``):
    the owner's groups and its sub-owners' (for the tenant: its customers' too)."""

    hierarchy = False

    def get(self, request, owner_type, owner_id, group_type):
        groups = self.owner_groups(owner_type, owner_id)
        if self.hierarchy and owner_type == "TENANT" and not request.user.customer_id:
            groups = self.get_queryset()
        return self.answer(filter_group_type(groups, group_type))


class ByOwnerAndNameView(EntityGroupResource):
    """`GET /api/entityGroup/{ownerType}/{ownerId}/{groupType}/{groupName}`"""

    def get(self, request, owner_type, owner_id, group_type, group_name):
        queryset = filter_group_type(self.owner_groups(owner_type, owner_id), group_type)
        return Response(self.render(get_object_or_404(queryset, name=group_name)))


class ByIdsView(EntityGroupResource):
    """`GET /api/entityGroups/list?entityGroupIds=` and (``infos``) `/api/entityGroupInfos?entityGroupIds=`"""

    infos = False

    def get(self, request):
        ids = parse_id_list(request.query_params, "entityGroupIds")
        found = {g.pk: g for g in self.get_queryset().filter(pk__in=ids)}
        rows = [found[i] for i in dict.fromkeys(ids) if i in found]
        return Response((self.render_info if self.infos else self.render)(rows, many=True))


class InfoView(EntityGroupResource):
    """`GET /api/entityGroupInfo/{id}`: EntityInfo {id, name}."""

    def get(self, request, pk):
        return Response(self.render_info(self.get_object(pk)))


class ForEntityView(EntityGroupResource):
    """`GET /api/entityGroups/{entityType}/{entityId}`: ids of the groups holding that entity."""

    def get(self, request, entity_type, entity_id_):
        model = group_types.member_model(entity_type)
        if model is None:
            raise ValidationError(f"Unsupported entity type '{entity_type:.32}'; {TYPES_HINT}")
        manager = model._default_manager
        visible = manager.for_user(request.user) if hasattr(manager, "for_user") else manager.filter(
            tenant_id=request.user.tenant_id)  # users: their tenant's
        entity = get_object_or_404(visible, pk=parse_uuid(entity_id_))
        holding = self.get_queryset().filter(type=entity_type, **{group_types.relation(entity_type): entity})
        return Response([entity_id("ENTITY_GROUP", g.pk) for g in holding.order_by("name")])


class _MembersView(EntityGroupResource):
    member_sort_fields = {"createdTime": "created_time", "name": "name", "label": "label", "type": "profile__name"}

    def members(self, group):
        return group.members.all()

    def sort_fields_of(self, model) -> dict[str, str]:
        """``member_sort_fields`` the member model has, with "name" on its name field (a dashboard's title)."""
        names = {f.name for f in model._meta.get_fields()}
        fields = {k: v for k, v in self.member_sort_fields.items() if v.split("__")[0] in names}
        return {**fields, "name": group_types.name_field(model)}

    @staticmethod
    def short_view(obj, group_type) -> dict:
        return {"id": entity_id(group_type, obj.pk), "name": getattr(obj, group_types.name_field(type(obj)))}


class EntitiesView(_MembersView):
    """`GET /api/entityGroup/{id}/entities`: a page of ShortEntityView {id, name}."""

    def get(self, request, pk):
        group = self.get_object(pk)
        model = group_types.member_model(group.type)
        body = page_data(self.members(group), page_request(request.query_params),
                         search_field=group_types.name_field(model), sort_fields=self.sort_fields_of(model),
                         render=lambda rows: [self.short_view(obj, group.type) for obj in rows])
        return Response(body)


class MemberView(_MembersView):
    """`GET /api/entityGroup/{id}/{entityId}`: one member as ShortEntityView."""

    def get(self, request, pk, member_id):
        group = self.get_object(pk)
        return Response(self.short_view(get_object_or_404(self.members(group), pk=parse_uuid(member_id)), group.type))


class AddEntitiesView(_MembersView):
    """`POST /api/entityGroup/{id}/addEntities` with a JSON list of ids; all or nothing."""

    group_operations = {"POST": "ADD_TO_GROUP"}

    def post(self, request, pk):
        group = self.get_object(pk)
        all_groups.refuse(group, "add" if self.group_operations.get("POST") == "ADD_TO_GROUP" else "remove")
        entities = self.resolve_entities(group, request.data)
        with transaction.atomic():
            self.apply(group, entities)
        return Response(status=200)

    def apply(self, group, entities) -> None:
        change_members(group, entities, lambda: group.members.add(*entities), action="added")

    def resolve_entities(self, group, body) -> list:
        """The entities of the group's type named in ``body`` that the caller sees (a tenant administrator: its
        tenant's); any other id fails the request: another type's a 400, an unseen one a 404. A group takes its owner's
        entities only, a customer's its customer's, the tenant's the tenant's (ThingsBoard PE: an entity joins the
        groups of its owner), else 400."""
        if not isinstance(body, list) or not all(isinstance(i, str) for i in body):
            raise ValidationError("Request body must be a JSON list of entity ids")
        ids = list(dict.fromkeys(parse_uuid(i) for i in body))
        model = group_types.member_model(group.type)
        found = {obj.pk: obj for obj in self.candidates(model, group).filter(pk__in=ids)}
        others = [group_types.member_model(t) for t in group_types.member_types() if t != group.type]
        for missing in (i for i in ids if i not in found):
            if any(self.candidates(other, group).filter(pk=missing).exists() for other in others):
                raise ValidationError(f"Entity [{missing}] is not a {group.type}; the group holds {group.type} "
                                      "entities only")
            raise Http404(f"Entity with id [{missing}] is not found")
        entities = [found[i] for i in ids]
        if self.group_operations.get("POST") == "ADD_TO_GROUP":
            self.check_owner(group, model, entities)
        return entities

    @staticmethod
    def check_owner(group, model, entities) -> None:
        """ThingsBoard PE: a group holds its owner's entities only (devices/group_owners.py); a dashboard (no single
        owner here) joins a customer's group when assigned to that customer."""
        if group.type in group_owners.OWNED_TYPES:
            foreign = group_owners.foreign_member(group, entities)
        elif group.customer_id is not None:
            lookup = getattr(model, "customer_lookup", None) or "customer_id"
            owned = set(model._default_manager.filter(pk__in=[e.pk for e in entities], **{lookup: group.customer_id})
                        .values_list("pk", flat=True))
            foreign = next((e for e in entities if e.pk not in owned), None)
        else:
            foreign = None
        if foreign is not None:
            raise ValidationError(group_owners.not_owned_message(foreign.pk, group))

    def candidates(self, model, group):
        """The rows of ``model`` an id in the body may name: the group's tenant's; for a customer user, those it
        sees (its customer's and those shared with it)."""
        user, manager = self.request.user, model._default_manager
        if not _is_customer(user):
            return manager.filter(tenant_id=group.tenant_id)
        if hasattr(manager, "for_user"):
            return manager.for_user(user)
        return manager.filter(tenant_id=group.tenant_id, customer_id=user.customer_id)  # users: its customer's


class DeleteEntitiesView(AddEntitiesView):
    """`POST /api/entityGroup/{id}/deleteEntities` with a JSON list of ids; all or nothing."""

    group_operations = {"POST": "REMOVE_FROM_GROUP"}

    def apply(self, group, entities) -> None:
        role_hook.guard(self.request, "remove", group, entities=entities)
        change_members(group, entities, lambda: group.members.remove(*entities), action="removed")
