"""Every existing customer gets its user groups "All", "Customer Administrators" and "Customer Users" with
their group permissions (roles/customer_defaults.py), and every existing customer user joins its customer's
"All" and "Customer Users"."""

from django.db import migrations

from roles import customer_defaults


def forward(apps, schema_editor):
    Customer = apps.get_model("tenants", "Customer")
    User = apps.get_model("tenants", "User")
    models_ = [apps.get_model(*name) for name in (("devices", "EntityGroup"), ("roles", "Role"),
                                                  ("roles", "GroupPermission"))]
    for customer in Customer.objects.all().iterator():
        customer_defaults.ensure_customer(customer, *models_)
    for user in User.objects.filter(authority="CUSTOMER_USER", customer__isnull=False).iterator():
        customer_defaults.join_customer_defaults(user, models_[0])


class Migration(migrations.Migration):
    dependencies = [
        ("devices", "0013_entitygroup_customer_owner"),
        ("roles", "0003_tenantdefaults"),
    ]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
