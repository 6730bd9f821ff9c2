"""A user's rights: the union of what the roles granted to its user groups allow.

    rights = rights_of(user)          # cached per process for CACHE_SECONDS, keyed by user and authority
    rights.allows("DEVICE", "WRITE")  # GENERIC roles only; a role's ``excludedPermissions`` subtract from it

The system administrator may do everything. A customer user's rights come from its groups (its
customer's "Customer Users", "Customer Administrators", ..., and groups shared with them); where no group
grants it a generic role, its tenant's "Customer User" role (what its authority always allowed).
Any change to a role, a group permission or a user group's members empties the cache of this process
at once and on commit; other processes see it within ``CACHE_SECONDS``.
"""

import dataclasses

from roles.models import GroupPermission, Role
from tbproject.process_cache import ProcessCache
from tenants.choices import Authority

__all__ = ["Rights", "rights_of", "forget", "CACHE_SECONDS", "CUSTOMER_USER_ROLE"]

CACHE_SECONDS = 5.0
CUSTOMER_USER_ROLE = "Customer User"
_CACHE = ProcessCache(max_entries=20_000)


def _grants(permissions, resource: str, operation: str) -> bool:
    if not isinstance(permissions, dict):
        return False
    for key in (resource, "ALL"):
        ops = permissions.get(key) or ()
        if "ALL" in ops or operation in ops:
            return True
    return False


def _excludes(excluded, resource: str, operation: str) -> bool:
    ops = (excluded or {}).get(resource) or () if isinstance(excluded, dict) else ()
    return "ALL" in ops or operation in ops


@dataclasses.dataclass(frozen=True)
class Rights:
    #: (permissions, excludedPermissions) of each GENERIC role granted
    generic: tuple = ()
    #: entity group id -> (group type, operations) of the GROUP roles granted
    groups: dict = dataclasses.field(default_factory=dict)

    def allows(self, resource: str, operation: str) -> bool:
        return any(_grants(p, resource, operation) and not _excludes(e, resource, operation) for p, e in self.generic)

    def merged(self) -> dict[str, list[str]]:
        """resource -> operations, over every generic role (MergedUserPermissions.genericPermissions)."""
        out: dict[str, list[str]] = {}
        for permissions, excluded in self.generic:
            for resource, ops in permissions.items():
                gone = set((excluded or {}).get(resource) or ())
                bucket = out.setdefault(resource, [])
                bucket.extend(op for op in ops if op not in bucket and op not in gone)
        return out


EVERYTHING = Rights(generic=(({"ALL": ["ALL"]}, {}),))


def rights_of(user) -> Rights:
    if user.authority == Authority.SYS_ADMIN:
        return EVERYTHING
    return _CACHE.get_or_load((user.pk, user.authority), lambda: _load(user), CACHE_SECONDS)


def _load(user) -> Rights:
    rights = _from_groups(user)
    if user.authority == Authority.CUSTOMER_USER and not rights.generic:
        # no group of the customer grants a generic role: the authority's, the tenant's "Customer User" role
        roles = Role.objects.filter(tenant_id=user.tenant_id, name=CUSTOMER_USER_ROLE, type="GENERIC")
        return Rights(generic=tuple((r.permissions, r.excluded_permissions) for r in roles), groups=rights.groups)
    return rights


def _from_groups(user) -> Rights:
    rows = GroupPermission.objects.filter(tenant_id=user.tenant_id, user_group__users=user).values_list(
        "role__type", "role__permissions", "role__excluded_permissions", "entity_group_id", "entity_group__type")
    generic, groups = [], {}
    for kind, permissions, excluded, group_id, group_type in rows:
        if kind == "GENERIC":
            if (permissions, excluded) not in generic:
                generic.append((permissions, excluded))
        elif group_id is not None and isinstance(permissions, list):
            ops = groups.setdefault(group_id, (group_type, []))[1]
            ops.extend(op for op in permissions if op not in ops)
    return Rights(generic=tuple(generic), groups=groups)


def forget(*args, **kwargs) -> None:
    """A signal receiver: something rights are computed from changed."""
    _CACHE.forget_now_and_on_commit()
