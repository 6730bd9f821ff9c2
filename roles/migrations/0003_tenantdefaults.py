"""The ids of each tenant's protected defaults (roles/protection.py), recorded for existing tenants."""

import django.db.models.deletion
from django.db import migrations, models

from roles import defaults


def forward(apps, schema_editor):
    Tenant = apps.get_model("tenants", "Tenant")
    models_ = [apps.get_model(*label) for label in (("devices", "EntityGroup"), ("roles", "Role"),
                                                    ("roles", "GroupPermission"), ("roles", "TenantDefaults"))]
    for tenant_id in Tenant.objects.values_list("pk", flat=True):
        defaults.ensure_tenant(tenant_id, *models_)


class Migration(migrations.Migration):
    dependencies = [
        ("devices", "0011_entitygroup_users"),
        ("roles", "0002_default_groups_and_roles"),
        ("tenants", "0007_tenant_deleting"),
    ]

    operations = [
        migrations.CreateModel(
            name="TenantDefaults",
            fields=[
                ("tenant", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True,
                                                related_name="+", serialize=False, to="tenants.tenant")),
                ("admin_permission", models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL,
                                                       related_name="+", to="roles.grouppermission")),
                ("admin_role", models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL,
                                                 related_name="+", to="roles.role")),
                ("admins_group", models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL,
                                                   related_name="+", to="devices.entitygroup")),
                ("all_group", models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL,
                                                related_name="+", to="devices.entitygroup")),
            ],
        ),
        migrations.RunPython(forward, migrations.RunPython.noop),
    ]
