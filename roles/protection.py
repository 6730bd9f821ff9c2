"""What ThingsBoard protects of a tenant's defaults, so no administrator locks the tenant out of itself.

The defaults are found by the ids ``defaults.ensure_tenant`` recorded (``TenantDefaults``), never by name:

* the "All" and "Tenant Administrators" user groups are not deleted nor renamed; "All" loses no member
  (each customer's "All" likewise: a customer's groups are made by name, roles/customer_defaults.py);
  "Tenant Administrators" keeps at least one member;
* the "Tenant Administrator" role keeps ``{"ALL": ["ALL"]}`` (no exclusions) and is not deleted;
* the "Tenant Administrators" -> "Tenant Administrator" group permission is not deleted nor changed
  (GroupPermissionInfo ``readOnly: true``).

``manage.py restore_default_roles`` makes them again (roles/management/commands/restore_default_roles.py).
"""

from rest_framework.exceptions import ValidationError

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
    if group.customer_id:
        if group.name == ALL:  # a customer's "All" (the group its users join, roles/customer_defaults.py)
            _guard_all(action, group)
        return
    found = defaults_of(group.tenant_id)
    if group.pk not in (found.all_group_id, found.admins_group_id):
        return
    if action in ("delete", "rename"):
        raise ValidationError(f"The default user group [{group.name}] can't be {action}d!")
    if action == "remove":
        if group.pk == found.all_group_id:
            raise ValidationError(f"Users can't be removed from the default user group [{group.name}]!")
        removed = {e.pk for e in info.get("entities", ())}
        if not group.users.exclude(pk__in=removed).exists():
            raise ValidationError(f"The last member of [{group.name}] can't be removed!")


def _guard_all(action: str, group) -> None:
    if action in ("delete", "rename"):
        raise ValidationError(f"The default user group [{group.name}] can't be {action}d!")
    if action == "remove":
        raise ValidationError(f"Users can't be removed from the default user group [{group.name}]!")


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
