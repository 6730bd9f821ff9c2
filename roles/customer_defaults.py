"""What every customer starts with, as ThingsBoard PE makes it: the user groups "All", "Customer
Administrators" and "Customer Users", owned by the customer, and the group permissions "Customer
Administrators" -> "Customer Administrator", "Customer Users" -> "Customer User" (the tenant's GENERIC
roles, roles/defaults.py). A new customer user joins its customer's "All" and "Customer Users".

Sharing an entity group (roles/sharing.py) without roles uses the GROUP roles "Entity Group Read-only
User" (``readElseWrite: true``) or "Entity Group Write User" (every operation), made when missing.

Functions take the models as arguments so the data migration can run them with historical models.
"""

from roles.defaults import ALL, DEFAULT_ROLES

__all__ = ["CUSTOMER_ADMINS", "CUSTOMER_USERS", "CUSTOMER_GROUPS", "CUSTOMER_GRANTS", "SHARE_ROLES",
           "ensure_customer", "join_customer_defaults", "share_role"]

CUSTOMER_ADMINS, CUSTOMER_USERS = "Customer Administrators", "Customer Users"
CUSTOMER_GROUPS = (ALL, CUSTOMER_ADMINS, CUSTOMER_USERS)
CUSTOMER_GRANTS = {CUSTOMER_ADMINS: "Customer Administrator", CUSTOMER_USERS: "Customer User"}
#: readElseWrite -> (role name, operations)
SHARE_ROLES = {True: ("Entity Group Read-only User", DEFAULT_ROLES["Entity Group Read-only User"][1]),
               False: ("Entity Group Write User", ["ALL"])}


def _role(tenant_id, name: str, Role):
    kind, permissions, description = DEFAULT_ROLES[name]
    role, _ = Role.objects.get_or_create(tenant_id=tenant_id, name=name, defaults={
        "type": kind, "permissions": permissions, "additional_info": {"description": description}})
    return role


def ensure_customer(customer, EntityGroup, Role, GroupPermission, *, new: bool = False) -> dict:
    """Create what is missing of the customer's default user groups and their group permissions, in 3 to 4
    queries whatever exists. ``new`` (the customer was just inserted, in this transaction: nobody else can have
    made its groups) trusts the inserted rows; else the unique constraints on (customer, type, name) and
    (user group, role) make ``ignore_conflicts`` keep what exists, made by a concurrent transaction too, and
    the groups are selected again."""
    tenant_id, owner = customer.tenant_id, customer.pk
    made = [EntityGroup(tenant_id=tenant_id, customer_id=owner, type="USER", name=name,
                        description="Every user of the customer" if name == ALL else "") for name in CUSTOMER_GROUPS]
    EntityGroup.objects.bulk_create(made, ignore_conflicts=not new)
    if new:
        groups = {g.name: g for g in made}
    else:
        groups = {g.name: g for g in EntityGroup.objects.filter(customer_id=owner, type="USER",
                                                                 name__in=CUSTOMER_GROUPS)}
    roles = {r.name: r for r in Role.objects.filter(tenant_id=tenant_id, name__in=list(CUSTOMER_GRANTS.values()))}
    grants = []
    for group_name, role_name in CUSTOMER_GRANTS.items():
        role = roles.get(role_name) or _role(tenant_id, role_name, Role)  # made when missing: rare
        if role.type == "GENERIC":
            grants.append(GroupPermission(tenant_id=tenant_id, user_group=groups[group_name], role=role,
                                          entity_group=None))
    GroupPermission.objects.bulk_create(grants, ignore_conflicts=not new)
    return groups


def join_customer_defaults(user, EntityGroup) -> None:
    """A customer user joins its customer's "All" and "Customer Users" groups, found by name: the names are
    the groups' default status, since roles/protection.py refuses to rename or delete a customer's default
    groups (so no other group can take the name "Customer Users", unique per customer)."""
    if user.authority != "CUSTOMER_USER" or user.customer_id is None:
        return
    for group in EntityGroup.objects.filter(customer_id=user.customer_id, type="USER",
                                            name__in=(ALL, CUSTOMER_USERS)):
        group.users.add(user)


def share_role(tenant_id, read: bool, Role):
    """The GROUP role sharing with ``readElseWrite`` uses: found by name, made when missing (or not a
    GROUP role any more: then under the same name with a suffix is not attempted, the caller gets None)."""
    name, operations = SHARE_ROLES[read]
    role, _ = Role.objects.get_or_create(tenant_id=tenant_id, name=name, defaults={
        "type": "GROUP", "permissions": list(operations),
        "additional_info": {"description": "Made for sharing entity groups"}})
    return role if role.type == "GROUP" else None
