"""What every tenant starts with, as ThingsBoard PE makes it: three user groups ("All", "Tenant
Administrators", "Tenant Users"), six roles, and two group permissions ("Tenant Administrators" ->
"Tenant Administrator", "Tenant Users" -> "Tenant User"). A new tenant administrator joins "All" and
"Tenant Administrators". Each customer's groups ("All", "Customer Administrators", "Customer Users"):
roles/customer_defaults.py.

Functions take the models as arguments so the data migration can run them with historical models.
"""

__all__ = ["ALL", "TENANT_ADMINS", "TENANT_USERS", "DEFAULT_GROUPS", "DEFAULT_ROLES", "DEFAULT_GRANTS",
           "ensure_tenant", "join_defaults", "tenant_owned"]

ALL, TENANT_ADMINS, TENANT_USERS = "All", "Tenant Administrators", "Tenant Users"
DEFAULT_GROUPS = (ALL, TENANT_ADMINS, TENANT_USERS)
_READ = ["READ", "READ_ATTRIBUTES", "READ_TELEMETRY", "READ_CREDENTIALS"]  # no RPC_CALL: a read-only share
#: name -> (type, permissions, description)
DEFAULT_ROLES = {
    "Tenant Administrator": ("GENERIC", {"ALL": ["ALL"]}, "Everything the tenant owns."),
    "Tenant User": ("GENERIC", {"ALL": ["READ", "READ_ATTRIBUTES", "READ_TELEMETRY"], "PROFILE": ["ALL"]},
                    "Read-only access to everything the tenant owns; the user's own profile."),
    "Customer Administrator": ("GENERIC", {"ALL": ["ALL"]}, "Everything the customer owns."),
    "Customer User": ("GENERIC", {"ALL": ["READ", "READ_ATTRIBUTES", "READ_TELEMETRY", "RPC_CALL"],
                                  "PROFILE": ["ALL"]},
                      "Read access to what is assigned to the customer; the user's own profile."),
    "Entity Group Administrator": ("GROUP", ["ALL"], "Every operation on the entity group's entities."),
    "Entity Group Read-only User": ("GROUP", _READ, "Read-only access to the entity group's entities."),
}
#: user group -> role it is granted (generic permissions)
DEFAULT_GRANTS = {TENANT_ADMINS: "Tenant Administrator", TENANT_USERS: "Tenant User"}


def tenant_owned(EntityGroup) -> dict:
    """The lookup of tenant-owned groups (a historical model from before groups had owners: every group)."""
    return {"customer": None} if any(f.name == "customer" for f in EntityGroup._meta.get_fields()) else {}


def ensure_tenant(tenant_id, EntityGroup, Role, GroupPermission, TenantDefaults=None, *, new: bool = False) -> dict:
    """Create what is missing of the tenant's defaults; the user groups by name. With ``TenantDefaults``,
    record the ids of "All", "Tenant Administrators", "Tenant Administrator" and its group permission
    (roles/protection.py protects them): once recorded, those are found by id, never by name again.
    ``new`` (the tenant was just inserted, in this transaction: nothing of it exists yet) inserts them all
    in four queries, as roles/customer_defaults.py does for a new customer."""
    if new:
        return _insert_new(tenant_id, EntityGroup, Role, GroupPermission, TenantDefaults)
    recorded = TenantDefaults.objects.filter(tenant_id=tenant_id).first() if TenantDefaults else None
    if recorded is not None:
        _reuse_recorded(recorded, EntityGroup, Role, GroupPermission)
    groups = {}
    for name in DEFAULT_GROUPS:
        groups[name], _ = EntityGroup.objects.get_or_create(
            tenant_id=tenant_id, type="USER", name=name, **tenant_owned(EntityGroup),
            defaults={"description": "Every user of the tenant" if name == ALL else ""})
    roles = {}
    for name, (kind, permissions, description) in DEFAULT_ROLES.items():
        roles[name], _ = Role.objects.get_or_create(
            tenant_id=tenant_id, name=name,
            defaults={"type": kind, "permissions": permissions, "additional_info": {"description": description}})
    admin_permission = None
    for group_name, role_name in DEFAULT_GRANTS.items():
        role = roles[role_name]
        if role.type == "GENERIC":
            grant, _ = GroupPermission.objects.get_or_create(tenant_id=tenant_id, user_group=groups[group_name],
                                                             role=role, entity_group=None)
            if group_name == TENANT_ADMINS:
                admin_permission = grant
    if TenantDefaults is not None:
        TenantDefaults.objects.update_or_create(tenant_id=tenant_id, defaults={
            "all_group": groups[ALL], "admins_group": groups[TENANT_ADMINS],
            "admin_role": roles["Tenant Administrator"], "admin_permission": admin_permission})
    return groups


def _insert_new(tenant_id, EntityGroup, Role, GroupPermission, TenantDefaults) -> dict:
    groups = {name: EntityGroup(tenant_id=tenant_id, type="USER", name=name, **tenant_owned(EntityGroup),
                                description="Every user of the tenant" if name == ALL else "")
              for name in DEFAULT_GROUPS}
    EntityGroup.objects.bulk_create(groups.values())
    roles = {name: Role(tenant_id=tenant_id, name=name, type=kind, permissions=permissions,
                        additional_info={"description": description})
             for name, (kind, permissions, description) in DEFAULT_ROLES.items()}
    Role.objects.bulk_create(roles.values())
    grants = {group_name: GroupPermission(tenant_id=tenant_id, user_group=groups[group_name], role=roles[role_name],
                                          entity_group=None)
              for group_name, role_name in DEFAULT_GRANTS.items() if roles[role_name].type == "GENERIC"}
    GroupPermission.objects.bulk_create(grants.values())
    if TenantDefaults is not None:
        TenantDefaults.objects.create(tenant_id=tenant_id, all_group=groups[ALL], admins_group=groups[TENANT_ADMINS],
                                      admin_role=roles["Tenant Administrator"],
                                      admin_permission=grants.get(TENANT_ADMINS))
    return groups


def _reuse_recorded(recorded, EntityGroup, Role, GroupPermission) -> None:
    """The recorded defaults keep (or get back) their default names and the administrators' full rights,
    so that get_or_create by name finds them rather than making twins."""
    for obj, name in ((recorded.all_group, ALL), (recorded.admins_group, TENANT_ADMINS)):
        if obj is not None and obj.name != name:
            obj.name = name
            obj.save(update_fields=["name"])
    role = recorded.admin_role
    if role is not None:
        role.name, role.type, role.permissions, role.excluded_permissions = (
            "Tenant Administrator", "GENERIC", {"ALL": ["ALL"]}, {})
        role.save()


def join_defaults(user, EntityGroup) -> None:
    """A tenant administrator joins the tenant's "All" and "Tenant Administrators" groups."""
    if user.authority != "TENANT_ADMIN" or user.tenant_id is None:
        return
    for group in EntityGroup.objects.filter(tenant_id=user.tenant_id, type="USER", name__in=(ALL, TENANT_ADMINS),
                                            **tenant_owned(EntityGroup)):
        group.users.add(user)
