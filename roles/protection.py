"""What ThingsBoard protects of a tenant's defaults, so no administrator locks the tenant out of itself.

The defaults are found by the ids ``defaults.ensure_tenant`` recorded (``TenantDefaults``), never by name:

* the "All" and "Tenant Administrators" user groups are not deleted nor renamed; "All" loses no member;
  "Tenant Administrators" keeps at least one member;
* each customer's "All", "Customer Administrators" and "Customer Users" likewise, for every caller (its own
  administrators and the tenant's): not deleted nor renamed, "All" loses no member, "Customer
  Administrators" keeps at least one. A customer's groups are made and joined by name
  (roles/customer_defaults.py): refusing renames keeps the names true, so no rename swap ("Customer
  Users" -> "Old users", "Customer Administrators" -> "Customer Users") makes new users administrators;
* the "Tenant Administrator" role keeps ``{"ALL": ["ALL"]}`` (no exclusions) and is not deleted;
* the "Tenant Administrators" -> "Tenant Administrator" group permission is not deleted nor changed
  (GroupPermissionInfo ``readOnly: true``).

``manage.py restore_default_roles`` makes them again (roles/management/commands/restore_default_roles.py).
"""

from rest_framework.exceptions import ValidationError

from roles.customer_defaults import CUSTOMER_ADMINS, CUSTOMER_GROUPS
from roles.defaults import ALL
from roles.models import TenantDefaults

__all__ = ["defaults_of", "guard", "check_role_save", "check_role_delete", "check_permission_change",
           "is_read_only"]

FULL = {"ALL": ["ALL"]}


def defaults_of(tenant_id) -> TenantDefaults:
    return TenantDefaults.objects.filter(tenant_id=tenant_id).first() or TenantDefaults(tenant_id=tenant_id)


def guard(request, action: str, group, **info) -> None:
    """role_hook.guard for devices/'s entity-group views: ``action`` is "delete", "rename" or "remove"."""
    if group.type != "USER":
        return
    if group.customer_id:  # a customer's defaults, by name (protected from renames, so the names hold)
        if group.name in CUSTOMER_GROUPS:
            _guard_default(action, group, every=group.name == ALL, admins=group.name == CUSTOMER_ADMINS, **info)
        return
    found = defaults_of(group.tenant_id)
    if group.pk in (found.all_group_id, found.admins_group_id):
        _guard_default(action, group, every=group.pk == found.all_group_id,
                       admins=group.pk == found.admins_group_id, **info)


def _guard_default(action: str, group, *, every: bool, admins: bool, entities=()) -> None:
    """A default user group is not deleted nor renamed; "All" loses no member; the administrators' group
    keeps one (removing members of which none is in the group changes nothing and passes)."""
    if action in ("delete", "rename"):
        raise ValidationError(f"The default user group [{group.name}] can't be {action}d!")
    if action != "remove":
        return
    if every:
        raise ValidationError(f"Users can't be removed from the default user group [{group.name}]!")
    removed = {e.pk for e in entities}
    if admins and group.users.filter(pk__in=removed).exists() and not group.users.exclude(pk__in=removed).exists():
        raise ValidationError(f"The last member of [{group.name}] can't be removed!")


def check_role_save(role, permissions, excluded) -> None:
    if role is None or role.pk != defaults_of(role.tenant_id).admin_role_id:
        return
    if permissions != FULL or excluded:
        raise ValidationError(f"The default role [{role.name}] must keep every permission ({{\"ALL\": [\"ALL\"]}})!")


def check_role_delete(role) -> None:
    if role.pk == defaults_of(role.tenant_id).admin_role_id:
        raise ValidationError(f"The default role [{role.name}] can't be deleted!")


def is_read_only(permission) -> bool:
    return permission.pk is not None and permission.pk == defaults_of(permission.tenant_id).admin_permission_id


def check_permission_change(permission) -> None:
    if is_read_only(permission):
        raise ValidationError("The default group permission of the tenant administrators can't be changed "
                              "or deleted!")
