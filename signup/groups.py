"""The user group a signed-up user joins, and the group permissions it is granted.

Where entity groups can belong to a customer (a field of EntityGroup naming it), the new customer's
"Customer Users" group is used when one exists already (made when the customer was saved), else made.
While groups are tenant-owned only, the customer gets a group of its own: "Customer Users (<title>)".
The self-registration's permissions ([{roleId, entityGroupId}]) become GroupPermission rows of that group.
"""

from devices.models import EntityGroup
from roles.models import GroupPermission, Role

__all__ = ["CUSTOMER_USERS", "customer_users_group", "grant", "join"]

CUSTOMER_USERS = "Customer Users"
_OWNER_FIELDS = ("customer", "owner_customer")


def _owner_field() -> str | None:
    names = {f.name for f in EntityGroup._meta.get_fields()}
    return next((n for n in _OWNER_FIELDS if n in names), None)


def customer_users_group(customer) -> EntityGroup:
    rows = EntityGroup.objects.filter(tenant_id=customer.tenant_id, type="USER")
    owner = _owner_field()
    if owner is not None:
        found = rows.filter(**{owner: customer}, name=CUSTOMER_USERS).first()
        if found is not None:
            return found
        return EntityGroup.objects.create(tenant_id=customer.tenant_id, type="USER", name=CUSTOMER_USERS,
                                          description=f"Users of customer {customer.title}", **{owner: customer})
    name = f"{CUSTOMER_USERS} ({customer.title})"[:255]
    group, _ = rows.get_or_create(name=name, defaults={"description": f"Users of customer {customer.title}"})
    return group


def grant(group: EntityGroup, grants: list) -> list[GroupPermission]:
    """The self-registration's permissions on ``group``; a role or entity group deleted since is skipped."""
    made = []
    for item in grants:
        role = Role.objects.filter(tenant_id=group.tenant_id, pk=item.get("roleId")).first()
        target = None
        if item.get("entityGroupId"):
            target = EntityGroup.objects.filter(tenant_id=group.tenant_id, pk=item["entityGroupId"]).first()
            if target is None:
                continue
        if role is None:
            continue
        row, _ = GroupPermission.objects.get_or_create(tenant_id=group.tenant_id, user_group=group, role=role,
                                                       entity_group=target)
        made.append(row)
    return made


def join(user, customer, grants: list) -> EntityGroup:
    """``user`` joins its customer's user group, which gets ``grants``."""
    group = customer_users_group(customer)
    grant(group, grants)
    group.users.add(user)
    return group
