"""User groups (entity groups of type USER): what roles are granted to.

devices/ serves the generic group endpoints for every registered type; here is what only user groups do:

    GET  /api/entityGroup/{groupId}/users?pageSize&page&textSearch&sortProperty&sortOrder
         PageData of UserInfo (User + ownerId, ownerName, groups); textSearch: e-mail
    POST /api/user?entityGroupId=...&entityGroupIds=a,b
         the saved user joins those user groups (another tenant's or unknown id: 404, not a user group: 400);
         a new user named into groups joins them and "All" instead of its authority's default group

A new tenant (post_save) gets its default groups, roles and permissions (roles/defaults.py), a new customer
its "All", "Customer Administrators" and "Customer Users" (roles/customer_defaults.py); a new tenant
administrator (post_save) joins "All" and "Tenant Administrators", a new customer user its customer's "All"
and "Customer Users". A user is named only into user groups of its own owner (400).
"""

from django.db import transaction
from django.shortcuts import get_object_or_404
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from devices.api.groups import EntityGroupResource
from devices.api.lookups import resolve_groups
from devices.models import EntityGroup
from roles import customer_defaults, defaults
from roles.models import GroupPermission, Role, TenantDefaults
from tbproject.api import role_hook
from tbproject.api.ids import entity_id, parse_id_list, parse_uuid
from tenants.api.user_infos import UserInfoSerializer

__all__ = ["GroupUsersView", "on_tenant_saved", "on_customer_saved", "on_user_saved", "on_user_saved_by_api"]


class _GroupUserInfo(UserInfoSerializer):
    def get_groups(self, obj) -> list:
        return [{"id": entity_id("ENTITY_GROUP", g.pk), "name": g.name} for g in obj.entity_groups.all()]


class GroupUsersView(EntityGroupResource):
    search_field = "email"
    search_lookup = "icontains"
    sort_fields = {"createdTime": "created_time", "email": "email", "firstName": "first_name",
                   "lastName": "last_name"}

    def get(self, request, group_id):
        group = get_object_or_404(self.get_queryset(), pk=parse_uuid(group_id))
        if group.type != "USER":
            raise ValidationError(f"Entity group [{group.name}] holds {group.type} entities, not USER")
        rows = group.users.select_related("tenant", "customer").prefetch_related("entity_groups")
        return Response(self.page(rows, render=lambda found, many: _GroupUserInfo(found, many=True).data))


def on_tenant_saved(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        defaults.ensure_tenant(instance.pk, EntityGroup, Role, GroupPermission, TenantDefaults, new=True)


def on_customer_saved(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        customer_defaults.ensure_customer(instance, EntityGroup, Role, GroupPermission, new=True)


def on_user_saved(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        defaults.join_defaults(instance, EntityGroup)
        customer_defaults.join_customer_defaults(instance, EntityGroup)


def on_user_saved_by_api(sender, user, actor, created, params, **kwargs):
    """``POST /api/user`` with ``entityGroupId`` (repeatable) or ``entityGroupIds`` (comma-separated)."""
    ids = params.getlist("entityGroupId") + [str(i) for i in parse_id_list(params, "entityGroupIds", required=False)]
    ids = [i for i in ids if i.strip()]
    if created and actor is not None and not role_hook.permits(actor, "ALL", "ALL"):
        # no administrator makes an account with more rights than its own: a restricted one's new tenant
        # administrator does not join "Tenant Administrators" by default (only where it names that group)
        user.entity_groups.remove(*user.entity_groups.filter(name=defaults.TENANT_ADMINS, type="USER"))
    if not ids or user.tenant_id is None:
        return
    groups = resolve_groups(user.tenant, "USER", ids)
    foreign = next((g for g in groups if g.customer_id != user.customer_id), None)
    if foreign is not None:
        raise ValidationError(f"User group [{foreign.name}] belongs to another owner than the user")
    # joining a user group changes that group (ThingsBoard: ADD_TO_GROUP on USER_GROUP)
    if actor is not None and not role_hook.permits(actor, "USER_GROUP", "ADD_TO_GROUP"):
        raise PermissionDenied("You don't have permission to perform this operation!")
    with transaction.atomic():
        if created:
            user.entity_groups.remove(*user.entity_groups.filter(
                name__in=(defaults.TENANT_ADMINS, customer_defaults.CUSTOMER_USERS), type="USER"))
            groups += list(EntityGroup.objects.filter(tenant_id=user.tenant_id, type="USER", name=defaults.ALL,
                                                      customer_id=user.customer_id))
        user.entity_groups.add(*groups)
