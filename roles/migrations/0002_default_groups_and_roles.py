"""Every existing tenant gets its default user groups, roles and group permissions (roles/defaults.py),
and every existing tenant administrator joins "All" and "Tenant Administrators"."""

from django.db import migrations

from roles import defaults


def forward(apps, schema_editor):
    Tenant = apps.get_model("tenants", "Tenant")
    User = apps.get_model("tenants", "User")
    EntityGroup = apps.get_model("devices", "EntityGroup")
    Role = apps.get_model("roles", "Role")
    GroupPermission = apps.get_model("roles", "GroupPermission")
    for tenant_id in Tenant.objects.values_list("pk", flat=True):
        defaults.ensure_tenant(tenant_id, EntityGroup, Role, GroupPermission)
    for user in User.objects.filter(authority="TENANT_ADMIN"):
        defaults.join_defaults(user, EntityGroup)


class Migration(migrations.Migration):
    dependencies = [("roles", "0001_initial")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
