"""GROUP roles grant data access: a group permission (user group + GROUP role + entity group) gives the
user group's members the role's operations on the entities of that entity group.

For a customer user (its authority already reaches its customer's entities):

* :func:`shared_pks` is tenants/shared_rows.py's provider: ``Model.objects.for_user(user)`` also holds the
  members of the entity groups granted to it (and, for ``EntityGroup``, those groups themselves), so a
  device of a shared tenant group is found by id, listed by group, read over telemetry;
* :func:`group_allows` is asked by roles/enforcement.py for a request that names one entity: reached only
  through granted groups, the request's operation must be one of those groups' roles (READ granted: a
  write is 403).

The granted groups come from the user's rights (roles/rights.py), cached per process like its generic
rights; a user with no GROUP grant costs nothing more than before.
"""

import uuid

from devices import group_types
from devices.models import EntityGroup
from roles.rights import rights_of
from tenants.choices import Authority

__all__ = ["shared_pks", "group_allows", "granted_groups", "user_may"]


def granted_groups(rights, group_type: str) -> dict:
    """entity group id -> operations granted, for the groups of ``group_type``."""
    return {gid: ops for gid, (gtype, ops) in rights.groups.items() if gtype == group_type}


def _group_type_of(model) -> str | None:
    model = model._meta.concrete_model
    return next((t for t in group_types.member_types() if group_types.member_model(t) is model), None)


def shared_pks(user, model):
    if user.authority != Authority.CUSTOMER_USER:
        return None
    rights = rights_of(user)
    if not rights.groups:
        return None
    if model._meta.concrete_model is EntityGroup:
        return list(rights.groups)
    group_type = _group_type_of(model)
    granted = granted_groups(rights, group_type) if group_type else None
    if not granted:
        return None
    return EntityGroup.objects.filter(pk__in=list(granted)).values_list(f"{group_types.relation(group_type)}__pk",
                                                                         flat=True)


def group_allows(user, rights, resource: str, operation: str, target) -> bool:
    """May ``user`` do ``operation`` on the ``resource`` entity ``target``? True where groups decide nothing
    (not a grouped entity, its own customer's, in no granted group: the view's lookup answers 404)."""
    granted = granted_groups(rights, resource)
    model = group_types.member_model(resource) if granted else None
    if model is None or target is None:
        return True
    try:
        target = uuid.UUID(str(target))
    except ValueError:
        return True  # the view answers its 400
    relation = group_types.relation(resource)
    holding = list(EntityGroup.objects.filter(pk__in=list(granted), **{relation: target}).values_list("pk", flat=True))
    if not holding:
        return True
    lookup = model.customer_lookup
    if lookup and model._default_manager.filter(pk=target, tenant_id=user.tenant_id,
                                                **{lookup: user.customer_id}).exists():
        return True  # its own customer's: the authority decides, as before
    ops = {op for gid in holding for op in granted[gid]}
    return "ALL" in ops or operation in ops


def user_may(user, resource: str, operation: str, target) -> bool:
    """:func:`group_allows` for a view that checks itself (alarms raised by a customer user: rulechains/): a
    customer user reaching ``target`` only through shared groups needs ``operation`` in their roles."""
    if user.authority != Authority.CUSTOMER_USER:
        return True
    rights = rights_of(user)
    return not rights.groups or group_allows(user, rights, str(resource).upper(), operation, target)
