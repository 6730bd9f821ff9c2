"""ThingsBoard PE's "All" groups (devices/all_groups.py): every tenant and customer gets its "All" device, asset
and entity view group, and every existing device, asset and entity view joins its owner's. A group a user made
with the name "All" is renamed "All (own)" first (warning, logger ``devices.migrations``). Set-based: one INSERT
of groups and one INSERT ... SELECT per membership table; running it again changes nothing. Going back deletes
the "All" groups (:func:`backward`, while the column still tells them; their memberships and the permissions
granted on them go too) before the column is dropped, so that going forward again makes them anew instead of
renaming them "All (own)"."""

import logging

from django.db import migrations, models

from devices import all_groups

logger = logging.getLogger("devices.migrations")


def forward(apps, schema_editor):
    entity_group = apps.get_model("devices", "EntityGroup")
    renamed = all_groups.ensure_all(entity_group, apps.get_model("tenants", "Tenant"),
                                    apps.get_model("tenants", "Customer"))
    if renamed:
        logger.warning("devices 0015: renamed %d entity groups named 'All' to 'All (own)'", renamed)
    models_ = {kind: apps.get_model(*label.split(".")) for kind, (label, _) in all_groups.MODELS.items()}
    all_groups.fill(EntityGroup=entity_group, models=models_)


def backward(apps, schema_editor):
    removed = all_groups.remove_all(apps.get_model("devices", "EntityGroup"))
    if schema_editor.connection.vendor == "postgresql":  # the deferred foreign key checks of the deleted rows now:
        # PostgreSQL refuses the ALTER TABLE that drops the column while they are pending
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        schema_editor.execute("SET CONSTRAINTS ALL DEFERRED")
    if removed:
        logger.warning("devices 0015 reversed: deleted the 'All' entity groups (%d rows with their memberships)",
                       removed)


class Migration(migrations.Migration):

    dependencies = [
        ("devices", "0014_group_owner_memberships"),
        ("tenants", "0009_two_factor_settings"),
    ]

    operations = [
        migrations.AddField(
            model_name="entitygroup",
            name="group_all",
            field=models.BooleanField(default=False, editable=False),
        ),
        migrations.RunPython(forward, backward),
    ]
