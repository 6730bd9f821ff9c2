"""Who a PLATFORM_USERS target reaches, scoped to its owner: a tenant's target reaches only that
tenant's users; the system administrator's reaches whom its filter names across tenants.

    users_of(configuration, tenant_id, context=None)  -> User queryset (none for SLACK/TEAMS)
    resolve(targets, tenant_id, context=None)         -> {target id: [recipient dicts]}, one query per target

``context`` carries what a rule's trigger knows (``customer_id`` of the originator's owner,
``affected_user_id``) for the filters that need it (ORIGINATOR_ENTITY_OWNER_USERS, AFFECTED_USER);
a manual request has none, and those filters reach nobody.
"""

import uuid

from django.db.models import Q

from tenants.choices import Authority
from tenants.models import User

__all__ = ["users_of", "resolve", "RECIPIENT_FIELDS"]

RECIPIENT_FIELDS = ("pk", "email", "first_name", "last_name", "tenant_id", "phone")


def users_of(configuration: dict, tenant_id, context: dict | None = None):
    """The users a target configuration reaches (an unordered queryset)."""
    if (configuration or {}).get("type") != "PLATFORM_USERS":
        return User.objects.none()
    flt = configuration.get("usersFilter") or {}
    kind = flt.get("type")
    context = context or {}
    users = User.objects.all() if tenant_id is None else User.objects.filter(tenant_id=tenant_id)
    if kind == "USER_LIST":
        return users.filter(pk__in=flt.get("usersIds") or [])
    if kind == "CUSTOMER_USERS":
        return users.filter(customer_id=flt.get("customerId"), authority=Authority.CUSTOMER_USER) \
            if tenant_id is not None else User.objects.none()
    if kind == "TENANT_ADMINISTRATORS":
        admins = users.filter(authority=Authority.TENANT_ADMIN)
        if tenant_id is None and (flt.get("tenantsIds") or flt.get("tenantProfilesIds")):
            admins = admins.filter(Q(tenant_id__in=flt.get("tenantsIds") or [])
                                   | Q(tenant__tenant_profile_id__in=flt.get("tenantProfilesIds") or []))
        return admins
    if kind == "ALL_USERS":
        return users
    if kind == "SYSTEM_ADMINISTRATORS":
        return User.objects.filter(authority=Authority.SYS_ADMIN) if tenant_id is None else User.objects.none()
    if kind == "AFFECTED_TENANT_ADMINISTRATORS" and context.get("tenant_id") is not None:
        return User.objects.filter(tenant_id=context["tenant_id"], authority=Authority.TENANT_ADMIN)
    if kind == "ORIGINATOR_ENTITY_OWNER_USERS" and "customer_id" in context:
        if context["customer_id"]:
            return users.filter(customer_id=context["customer_id"])
        return users.filter(authority=Authority.TENANT_ADMIN)
    if kind == "AFFECTED_USER" and context.get("affected_user_id"):
        return users.filter(pk=context["affected_user_id"])
    if kind == "USER_GROUP_LIST" and tenant_id is not None:
        return users.filter(entity_groups__in=_owned_groups(tenant_id, flt.get("groupsIds"))).distinct()
    if kind == "USER_ROLE" and tenant_id is not None:
        from roles.models import GroupPermission

        groups = GroupPermission.objects.filter(tenant_id=tenant_id, role_id__in=_ids(flt.get("rolesIds")))
        return users.filter(entity_groups__in=groups.values("user_group_id")).distinct()
    return User.objects.none()


def _ids(values) -> list:
    """The ids of a filter's list (plain ids or ThingsBoard's ``{"entityType", "id"}``); bad ones dropped."""
    out = []
    for value in values or ():
        raw = value.get("id") if isinstance(value, dict) else value
        try:
            out.append(uuid.UUID(str(raw)))
        except (TypeError, ValueError, AttributeError):
            continue
    return out


def _owned_groups(tenant_id, ids):
    """The tenant's user groups among ``ids`` (its customers' included: they are the tenant's rows)."""
    from devices.models import EntityGroup

    return EntityGroup.objects.filter(tenant_id=tenant_id, type="USER", pk__in=_ids(ids)).values("pk")


def resolve(targets, tenant_id, context: dict | None = None) -> dict:
    """{target id: [{"pk", "email", "first_name", "last_name"}...]} for PLATFORM_USERS targets."""
    out = {}
    for target in targets:
        rows = users_of(target.configuration, tenant_id, context).values(*RECIPIENT_FIELDS)
        out[target.pk] = list(rows)
    return out
