"""Entity-group endpoints of ThingsBoard PE for what this server keeps no groups of.

Groups here hold devices, assets, entity views, dashboards or users (devices/api/groups.py), so:

    GET /api/entityGroup/{groupId}/customers|edges
        the group exists (else 404) and holds other entities: 400, as for assets of a device group
    GET /api/entityGroup/{groupId}/groupPermissions     what an app above answers through
        :func:`register_group_permissions` (roles/: the GroupPermissionInfo list), else []
    GET /api/entityGroups/{groupType}/shared            a page of the groups shared with a customer user
    GET /api/entityGroups/{groupType}/shared/all        (roles/ shares them), `/api/entityGroupInfos/...` EntityInfo
    GET /api/entityGroup/all/{ownerType}/{ownerId}/{groupType}
        the owner's "All" group of that type (devices/all_groups.py; USER: its "All" user group); another
        tenant's or customer's owner, or one the caller does not see (the tenant, to a customer user): 404

These paths are routed before ``entityGroup/{groupId}/{entityId}`` and ``entityGroups/{entityType}/
{entityId}``, which would otherwise take the literal segment for an id (a 400 "Invalid UUID string").
"""

from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from devices.all_groups import ALL
from devices.api.groups import EntityGroupResource, filter_group_type
from devices.models import EntityGroup
from tbproject.api.ids import parse_uuid
from tbproject.api.permissions import IsTenantAdmin

__all__ = ["OTHER_MEMBERS", "OtherMembersView", "GroupPermissionsView", "SharedGroupsView", "AllGroupView",
           "register_group_permissions"]

#: path segment -> ThingsBoard entity type of the members asked for (`entityGroup/{groupId}/dashboards` is
#: dashboards/'s, `.../entityViews` devices/api/entity_views.py's, `.../users` roles/'s)
OTHER_MEMBERS = {"customers": "CUSTOMER", "edges": "EDGE"}
_group_permissions = None


def register_group_permissions(answer) -> None:
    """``answer(request, group) -> list`` gives `entityGroup/{id}/groupPermissions` (roles/ registers it)."""
    global _group_permissions
    _group_permissions = answer


class _GroupView(EntityGroupResource):
    def group(self, group_id) -> EntityGroup:
        return get_object_or_404(self.get_queryset(), pk=parse_uuid(group_id))


class OtherMembersView(_GroupView):
    entity_type_asked = ""

    def get(self, request, group_id):
        group = self.group(group_id)
        raise ValidationError(f"Entity group [{group.name}] holds {group.type} entities, not {self.entity_type_asked}")


class GroupPermissionsView(_GroupView):
    # who a group is shared with names other customers' user groups: the tenant administrator's only
    permission_classes = [IsTenantAdmin]

    def get(self, request, group_id):
        group = self.group(group_id)
        return Response(_group_permissions(request, group) if _group_permissions else [])


class SharedGroupsView(EntityGroupResource):
    """The groups shared with a customer user (visible, not its customer's); a tenant administrator's own
    tenant's groups are its own, so nothing is shared with it."""

    paged = True
    infos = False

    def get(self, request, group_type):
        rows = filter_group_type(self.get_queryset(), group_type)
        customer_id = getattr(request.user, "customer_id", None)
        rows = rows.exclude(customer_id=customer_id) if customer_id else rows.none()
        render = self.render_info if self.infos else self.render
        return Response(self.page(rows, render=render) if self.paged else render(rows.order_by("name"), many=True))


class AllGroupView(EntityGroupResource):
    """`GET /api/entityGroup/all/{ownerType}/{ownerId}/{groupType}`: EntityGroupInfo with ``groupAll: true``."""

    def get(self, request, owner_type, owner_id, group_type):
        groups = filter_group_type(self.owner_groups(owner_type, owner_id), group_type)
        group = groups.filter(Q(group_all=True) | Q(type="USER", name=ALL)).first()
        if group is None:
            raise Http404("Requested entity group wasn't found!")
        return Response(self.render(group))
