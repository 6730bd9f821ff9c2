"""Entity-group endpoints of ThingsBoard PE for what this server keeps no groups of.

Groups here hold devices, assets, entity views or dashboards and are never shared (devices/api/groups.py), so:

    GET /api/entityGroup/{groupId}/customers|users|edges
        the group exists (else 404) and holds other entities: 400, as for assets of a device group
    GET /api/entityGroup/{groupId}/groupPermissions     []: no role grants access to a group here
    GET /api/entityGroups/{groupType}/shared            an empty page: nothing is shared
    GET /api/entityGroups/{groupType}/shared/all        []

These paths are routed before ``entityGroup/{groupId}/{entityId}`` and ``entityGroups/{entityType}/
{entityId}``, which would otherwise take the literal segment for an id (a 400 "Invalid UUID string").
"""

from django.shortcuts import get_object_or_404
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from devices.api.groups import EntityGroupResource, filter_group_type
from devices.models import EntityGroup
from tbproject.api.ids import parse_uuid

__all__ = ["OTHER_MEMBERS", "OtherMembersView", "GroupPermissionsView", "SharedGroupsView"]

#: path segment -> ThingsBoard entity type of the members asked for
#: (`entityGroup/{groupId}/dashboards` is dashboards/'s, `.../entityViews` devices/api/entity_views.py's)
OTHER_MEMBERS = {"customers": "CUSTOMER", "users": "USER", "edges": "EDGE"}


class _GroupView(EntityGroupResource):
    def group(self, group_id) -> EntityGroup:
        return get_object_or_404(self.get_queryset(), pk=parse_uuid(group_id))


class OtherMembersView(_GroupView):
    entity_type_asked = ""

    def get(self, request, group_id):
        group = self.group(group_id)
        raise ValidationError(f"Entity group [{group.name}] holds {group.type} entities, not {self.entity_type_asked}")


class GroupPermissionsView(_GroupView):
    def get(self, request, group_id):
        self.group(group_id)
        return Response([])


class SharedGroupsView(EntityGroupResource):
    paged = True

    def get(self, request, group_type):
        nothing = filter_group_type(self.get_queryset(), group_type).none()
        return Response(self.page(nothing) if self.paged else [])
