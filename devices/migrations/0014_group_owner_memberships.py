"""Entity groups hold their owner's entities only (ThingsBoard PE; devices/group_owners.py). Before this rule was
kept on every path, a customer's device could join a tenant group (auto-provisioning's ``groupName``, the "add to
group" node, ``addEntities``) and an entity moved to another owner stayed in its former owner's groups. ThingsBoard
would never hold such rows: each membership of a device, asset or entity view in a group of another owner (or
tenant) than its own is removed, and how many per table is logged (warning, logger ``devices.migrations``; the
removal is not reversible). User groups are left as they are (a customer user in a tenant user group, as older
sign-up groups hold, keeps the grants that group carries): every user only joins its owner's "All" user group (the
tenant's for a tenant user, its customer's for a customer user) when missing from it. The owner's "All" of
devices, assets and entity views is implicit here (their owner's entities), so nothing joins one.

Set-based: one DELETE per membership table and one SELECT and INSERT for the "All" groups, whatever the number of
rows; running it again changes nothing. A device that left a group with an OTA package is not told here: its
package is read afresh at its next request (devices/ota/)."""

import logging

from django.conf import settings
from django.db import migrations
from django.db.models import Exists, F, OuterRef, Q, Subquery

#: EntityGroup relation -> the member's field in the membership table (user groups: left as they are)
RELATIONS = (("devices", "device"), ("assets", "asset"), ("entity_views", "entityview"))
ALL = "All"  # roles/defaults.py
logger = logging.getLogger("devices.migrations")


def foreign_memberships(through, member: str):
    """The rows of the membership table ``through`` whose member's owner is not the group's."""
    group, owner = "entitygroup__customer_id", f"{member}__customer_id"
    other_owner = (Q(**{f"{group}__isnull": True, f"{owner}__isnull": False})
                   | Q(**{f"{group}__isnull": False, f"{owner}__isnull": True})
                   | (Q(**{f"{group}__isnull": False, f"{owner}__isnull": False}) & ~Q(**{group: F(owner)})))
    other_tenant = Q(**{f"{member}__tenant_id__isnull": True}) | ~Q(entitygroup__tenant_id=F(f"{member}__tenant_id"))
    return through.objects.filter(other_owner | other_tenant)


def missing_all_memberships(entity_group, user_model) -> list:
    """(user id, its owner's "All" group id) of the users of a tenant not in that group."""
    through = entity_group._meta.get_field("users").remote_field.through
    all_groups = entity_group.objects.filter(type="USER", name=ALL, tenant_id=OuterRef("tenant_id"))
    rows = []
    for tenant_user in (True, False):
        groups = all_groups.filter(customer__isnull=True) if tenant_user else \
            all_groups.filter(customer_id=OuterRef("customer_id"))
        users = (user_model.objects.filter(tenant__isnull=False, customer__isnull=tenant_user)
                 .annotate(all_group=Subquery(groups.order_by().values("pk")[:1]))
                 .filter(all_group__isnull=False)
                 .exclude(Exists(through.objects.filter(user_id=OuterRef("pk"), entitygroup_id=OuterRef("all_group")))))
        rows += list(users.order_by().values_list("pk", "all_group"))
    return rows


def forward(apps, schema_editor):
    entity_group = apps.get_model("devices", "EntityGroup")
    for relation, member in RELATIONS:
        through = entity_group._meta.get_field(relation).remote_field.through
        removed, _ = foreign_memberships(through, member).delete()
        if removed:
            logger.warning("devices 0014: removed %d %s memberships of a group of another owner (table %s)",
                           removed, member, through._meta.db_table)
    through = entity_group._meta.get_field("users").remote_field.through
    missing = missing_all_memberships(entity_group, apps.get_model(settings.AUTH_USER_MODEL))
    through.objects.bulk_create([through(user_id=u, entitygroup_id=g) for u, g in missing], batch_size=1000,
                                ignore_conflicts=True)


class Migration(migrations.Migration):

    dependencies = [
        ("devices", "0013_entitygroup_customer_owner"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
