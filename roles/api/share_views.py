"""Entity group sharing at ThingsBoard PE's paths (EntityGroupController), roles/sharing.py does the work:

    POST   /api/entityGroup/{entityGroupId}/share                       body ShareGroupRequest; 200, no body
    POST   /api/v2/entityGroup/{entityGroupId}/share                    the same
    POST   /api/entityGroup/{entityGroupId}/{userGroupId}/{roleId}/share     one user group, one GROUP role
    DELETE /api/entityGroup/{entityGroupId}/{userGroupId}/{roleId}/share     unshare (404 when not shared)

Tenant administrators with WRITE on the group's resource ({TYPE}_GROUP; unshare: WRITE as well) share.
``GET`` on the four-segment path is ``/api/entityGroup/{ownerType}/{ownerId}/{groupType}/{groupName}`` for
a group named "share" (that path takes the same shape).
"""

from django.http import Http404
from django.shortcuts import get_object_or_404
from rest_framework.response import Response

from devices.api.groups import ByOwnerAndNameView, EntityGroupResource
from devices.models import EntityGroup
from roles import sharing
from roles.choices import GROUP_RESOURCES
from tbproject.api import role_hook
from tbproject.api.ids import parse_uuid
from tbproject.api.permissions import IsTenantAdmin

__all__ = ["ShareView", "ShareRoleView"]


class _ShareResource(EntityGroupResource):
    permission_classes = [IsTenantAdmin]

    def shared_group(self, raw_id) -> EntityGroup:
        group = get_object_or_404(EntityGroup.objects.filter(tenant_id=self.request.user.tenant_id),
                                  pk=parse_uuid(raw_id))
        role_hook.require(self.request, f"{group.type}_GROUP", "WRITE")
        return group


class ShareView(_ShareResource):
    def post(self, request, group_id):
        sharing.share(request.user.tenant, self.shared_group(group_id), request.data)
        return Response(status=200)


class ShareRoleView(_ShareResource):
    def get_permissions(self):
        if self.request.method == "GET":
            return [p() for p in ByOwnerAndNameView.permission_classes]
        return super().get_permissions()

    def get(self, request, group_id, user_group_id, role_id):
        if group_id not in ("TENANT", "CUSTOMER"):
            raise Http404("Requested owner wasn't found!")  # a group's share path: nothing to read there
        resource = f"{role_id}_GROUP"
        role_hook.require(request, resource if resource in GROUP_RESOURCES else "ALL", "READ")
        view = ByOwnerAndNameView()
        view.request, view.args, view.kwargs, view.format_kwarg = request, (), {}, None
        return view.get(request, owner_type=group_id, owner_id=user_group_id, group_type=role_id, group_name="share")

    def post(self, request, group_id, user_group_id, role_id):
        sharing.share_with(request.user.tenant, self.shared_group(group_id), user_group_id, role_id)
        return Response(status=200)

    def delete(self, request, group_id, user_group_id, role_id):
        sharing.unshare(request.user.tenant, self.shared_group(group_id), user_group_id, role_id)
        return Response(status=200)
