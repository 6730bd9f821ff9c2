"""Roles and group permissions at ThingsBoard PE's paths (RoleController, GroupPermissionController):

    POST   /api/role                          save (GENERIC or GROUP; resources and operations checked)
    GET    /api/role/{roleId}                 Role
    DELETE /api/role/{roleId}                 400 while a group permission grants it
    GET    /api/roles?type&pageSize&page&textSearch&sortProperty&sortOrder     PageData of Role
    GET    /api/roles?roleIds=a,b  and  /api/roles/list?roleIds=a,b           the visible ones, in order
    POST   /api/groupPermission               save: a role granted to a user group (GROUP roles: on an entity group)
    GET    /api/groupPermission/{id}          GroupPermission
    DELETE /api/groupPermission/{id}
    GET    /api/groupPermission/info/{id}?isUserGroup=     GroupPermissionInfo
    GET    /api/userGroup/{userGroupId}/groupPermissions   list of GroupPermissionInfo the user group is granted
    POST   /api/userGroup/groupPermissions/info            the posted GroupPermissions as GroupPermissionInfo

Tenant administrators write; a customer user reads no role (roles are tenant-owned here). Another
tenant's ids are 404.
"""

from django.shortcuts import get_object_or_404
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from devices.models import EntityGroup
from roles import protection
from roles.api.serializers import GroupPermissionSerializer, RoleSerializer, permission_info
from roles.choices import RoleType
from roles.models import GroupPermission, Role
from tbproject.api.ids import parse_id_list, parse_uuid
from tbproject.api.params import bool_param
from tbproject.api.permissions import IsTenantAdmin
from tbproject.api.resources import EntityResource

__all__ = ["RoleResource", "RoleListView", "PermissionResource", "PermissionInfoView", "UserGroupPermissionsView",
           "LoadInfosView", "entity_group_permissions", "IN_USE"]

IN_USE = "The role is referenced by group permissions and can't be deleted!"


class RoleResource(EntityResource):
    model = Role
    serializer_class = RoleSerializer
    search_lookup = "icontains"
    sort_fields = {"createdTime": "created_time", "name": "name", "type": "type"}
    duplicate_message = "Role with such name already exists!"

    def before_save(self, serializer) -> None:
        data = serializer.validated_data
        instance = serializer.instance
        if instance is not None:
            protection.check_role_save(instance, data.get("permissions", instance.permissions),
                                       data.get("excluded_permissions", instance.excluded_permissions))

    def perform_delete(self, obj) -> None:
        protection.check_role_delete(obj)
        if obj.group_permissions.exists():
            raise ValidationError(IN_USE)
        obj.delete()


class RoleListView(RoleResource):
    """`GET /api/roles`: a page, or with ``roleIds`` the list of those ids (as `/api/roles/list`)."""

    by_ids = False

    def get(self, request):
        if self.by_ids or "roleIds" in request.query_params:
            ids = parse_id_list(request.query_params, "roleIds")
            found = {r.pk: r for r in self.get_queryset().filter(pk__in=ids)}
            return Response(self.render([found[i] for i in dict.fromkeys(ids) if i in found], many=True))
        rows = self.get_queryset()
        kind = request.query_params.get("type")
        if kind:
            if kind not in RoleType.values:
                raise ValidationError(f"Unsupported role type '{kind:.32}'; use GENERIC or GROUP")
            rows = rows.filter(type=kind)
        return Response(self.page(rows))


class PermissionResource(EntityResource):
    model = GroupPermission
    serializer_class = GroupPermissionSerializer
    permission_classes = [IsTenantAdmin]
    duplicate_message = "Group permission with such user group, role and entity group already exists!"

    def get_queryset(self):
        return super().get_queryset().select_related("role", "user_group", "entity_group", "tenant")

    def before_save(self, serializer) -> None:
        if serializer.instance is not None:
            protection.check_permission_change(serializer.instance)

    def perform_delete(self, obj) -> None:
        protection.check_permission_change(obj)
        super().perform_delete(obj)


class PermissionInfoView(PermissionResource):
    def get(self, request, pk):
        bool_param(request.query_params, "isUserGroup", default=False)  # both groups' names come either way
        return Response(permission_info(self.get_object(pk), request))


class UserGroupPermissionsView(PermissionResource):
    def get(self, request, group_id):
        group = get_object_or_404(EntityGroup.objects.for_user(request.user), pk=parse_uuid(group_id))
        if group.type != "USER":
            raise ValidationError(f"Entity group [{group.name}] is not a user group")
        rows = self.get_queryset().filter(user_group=group)
        return Response([permission_info(p, request) for p in rows])


class LoadInfosView(PermissionResource):
    """The posted permissions, each checked as a save would be (foreign ids: 404), rendered as infos; nothing saved."""

    def post(self, request):
        body = request.data
        if not isinstance(body, list) or len(body) > 1000:
            raise ValidationError("Request body must be a JSON list of group permissions (at most 1000)")
        out = []
        for item in body:
            if not isinstance(item, dict):
                raise ValidationError("Each group permission must be a JSON object")
            raw_id = item.get("id")
            if raw_id:
                out.append(permission_info(self.get_object(raw_id.get("id") if isinstance(raw_id, dict) else raw_id),
                                           request))
                continue
            serializer = self.serializer_class(data=item, context={"request": request})
            serializer.is_valid(raise_exception=True)
            permission = GroupPermission(tenant=request.user.tenant, **serializer.validated_data)
            out.append(permission_info(permission, request))
        return Response(out)


def entity_group_permissions(request, group) -> list:
    """`GET /api/entityGroup/{id}/groupPermissions` (devices/api/group_extras.py asks): the group permissions
    that grant a GROUP role on ``group``."""
    rows = (GroupPermission.objects.filter(tenant_id=group.tenant_id, entity_group=group)
            .select_related("role", "user_group", "entity_group", "tenant"))
    return [permission_info(p, request) for p in rows]
