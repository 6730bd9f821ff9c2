"""The default "Entity Group Read-only User" role no longer holds RPC_CALL (a read-only share must not command
devices, roles/defaults.py): taken out of the roles still exactly as first made; edited ones are kept."""

from django.db import migrations

_OLD = ["READ", "READ_ATTRIBUTES", "READ_TELEMETRY", "READ_CREDENTIALS", "RPC_CALL"]


def forward(apps, schema_editor):
    Role = apps.get_model("roles", "Role")
    for role in Role.objects.filter(name="Entity Group Read-only User", type="GROUP").iterator():
        if role.permissions == _OLD:
            role.permissions = _OLD[:-1]
            role.save(update_fields=["permissions"])


class Migration(migrations.Migration):
    dependencies = [("roles", "0004_customer_default_groups")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
