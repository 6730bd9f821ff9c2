"""Sharing an entity group (ThingsBoard PE's ShareGroupRequest): a GROUP-role group permission that gives a
user group's members the role's operations on the entity group's entities (roles/group_access.py).

    share(tenant, group, body)                    ShareGroupRequest {ownerId, allUserGroup, userGroupId,
                                                  readElseWrite, roleIds}
    share_with(tenant, group, user_group_id, role_id)     one user group, one GROUP role
    unshare(tenant, group, user_group_id, role_id)        removes that permission (404 when there is none)

``allUserGroup: true`` shares with the "All" user group of ``ownerId`` (the tenant or one of its customers);
else with ``userGroupId``. ``roleIds`` (GROUP roles of the tenant) or, without them, ``readElseWrite``:
true uses "Entity Group Read-only User", false "Entity Group Write User" (made when missing,
roles/customer_defaults.py). Another tenant's group, user group, role or customer is a 404; a malformed
body, a GENERIC role, or a group that is not a user group is a 400. Sharing twice changes nothing.
"""

from django.db import transaction
from django.http import Http404
from rest_framework.exceptions import ValidationError

from devices.models import EntityGroup
from roles import customer_defaults
from roles.defaults import ALL
from roles.models import GroupPermission, Role
from tbproject.api.ids import parse_uuid
from tenants.models import Customer

__all__ = ["share", "share_with", "unshare"]

_FIELDS = {"ownerId", "allUserGroup", "userGroupId", "readElseWrite", "roleIds"}


def _raw_id(value, what: str, entity_type: str | None = None):
    if isinstance(value, dict):
        if entity_type and value.get("entityType") not in (None, entity_type):
            raise ValidationError(f"{what} must be a {entity_type} id")
        value = value.get("id")
    if value in (None, ""):
        raise ValidationError(f"{what} should be specified!")
    return parse_uuid(value, what)


def _user_group(tenant, raw, what: str = "userGroupId") -> EntityGroup:
    group = EntityGroup.objects.filter(tenant=tenant, pk=_raw_id(raw, what, "ENTITY_GROUP")).first()
    if group is None:
        raise Http404(f"User group with id [{raw if not isinstance(raw, dict) else raw.get('id')!s:.40}] "
                      "is not found")
    if group.type != "USER":
        raise ValidationError(f"Entity group [{group.name}] is not a user group")
    return group


def _all_group(tenant, owner) -> EntityGroup:
    if not isinstance(owner, dict) or owner.get("entityType") not in ("TENANT", "CUSTOMER"):
        raise ValidationError('ownerId must be {"entityType": "TENANT" or "CUSTOMER", "id": ...} when '
                              "allUserGroup is true")
    owner_id = _raw_id(owner, "ownerId")
    if owner["entityType"] == "TENANT":
        if owner_id != tenant.pk:
            raise Http404("Requested owner wasn't found!")
        customer = None
    else:
        customer = Customer.objects.filter(tenant=tenant, pk=owner_id).first()
        if customer is None:
            raise Http404("Requested owner wasn't found!")
    group = EntityGroup.objects.filter(tenant=tenant, type="USER", name=ALL, customer=customer).first()
    if group is None:
        raise ValidationError("The owner has no user group 'All'")
    return group


def _group_role(tenant, raw) -> Role:
    role = Role.objects.filter(tenant=tenant, pk=_raw_id(raw, "roleId", "ROLE")).first()
    if role is None:
        raise Http404(f"Role with id [{raw if not isinstance(raw, dict) else raw.get('id')!s:.40}] is not found")
    if role.type != "GROUP":
        raise ValidationError(f"Role [{role.name}] is not a group role: an entity group is shared with GROUP roles")
    return role


def _roles(tenant, body: dict) -> list[Role]:
    raw_roles = body.get("roleIds")
    if raw_roles:
        if not isinstance(raw_roles, list) or len(raw_roles) > 100:
            raise ValidationError("roleIds must be a JSON list of role ids (at most 100)")
        return list({r.pk: r for r in (_group_role(tenant, raw) for raw in raw_roles)}.values())
    read = body.get("readElseWrite")
    if not isinstance(read, bool):
        raise ValidationError("readElseWrite (true or false) or roleIds should be specified!")
    role = customer_defaults.share_role(tenant.pk, read, Role)
    if role is None:
        raise ValidationError(f"Role [{customer_defaults.SHARE_ROLES[read][0]}] is not a group role")
    return [role]


def share(tenant, group: EntityGroup, body) -> list[GroupPermission]:
    if not isinstance(body, dict):
        raise ValidationError("Request body must be a JSON object (ShareGroupRequest)")
    unknown = set(body) - _FIELDS
    if unknown:
        raise ValidationError(f"Unknown ShareGroupRequest field '{sorted(unknown)[0]!s:.40}'")
    every = body.get("allUserGroup", False)
    if not isinstance(every, bool):
        raise ValidationError("allUserGroup must be true or false")
    user_group = _all_group(tenant, body.get("ownerId")) if every else _user_group(tenant, body.get("userGroupId"))
    roles = _roles(tenant, body)
    with transaction.atomic():
        return [_grant(tenant, group, user_group, role) for role in roles]


def _grant(tenant, group, user_group, role) -> GroupPermission:
    permission, _ = GroupPermission.objects.get_or_create(tenant=tenant, user_group=user_group, role=role,
                                                          entity_group=group)
    return permission


def share_with(tenant, group: EntityGroup, raw_user_group, raw_role) -> GroupPermission:
    return _grant(tenant, group, _user_group(tenant, raw_user_group), _group_role(tenant, raw_role))


def unshare(tenant, group: EntityGroup, raw_user_group, raw_role) -> None:
    user_group = _user_group(tenant, raw_user_group)
    role = _group_role(tenant, raw_role)
    deleted, _ = GroupPermission.objects.filter(tenant=tenant, user_group=user_group, role=role,
                                                entity_group=group).delete()
    if not deleted:
        raise Http404(f"Entity group [{group.name}] is not shared with user group [{user_group.name}] "
                      f"by role [{role.name}]")
