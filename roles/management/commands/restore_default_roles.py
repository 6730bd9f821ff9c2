"""``manage.py restore_default_roles [--tenant ID]``: run a tenant's default set-up again.

Makes what is missing of the default user groups, roles and group permissions (roles/defaults.py), gives
the recorded defaults back their names and the "Tenant Administrator" role back ``{"ALL": ["ALL"]}``,
puts every tenant administrator in "All", and, when "Tenant Administrators" has no member left, every
tenant administrator of the tenant in it (as a new tenant administrator joins it). Each customer's user
groups and their permissions are made again where missing (roles/customer_defaults.py), every customer user
in its customer's "All".
"""

from django.core.management.base import BaseCommand, CommandError

from devices.models import EntityGroup
from roles import customer_defaults, defaults
from roles.models import GroupPermission, Role, TenantDefaults
from tenants.models import Customer, Tenant, User


class Command(BaseCommand):
    help = "Make a tenant's default user groups, roles and group permissions again (every tenant by default)."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="the tenant's id (default: every tenant)")

    def handle(self, *args, tenant=None, **options):
        tenants = Tenant.objects.all()
        if tenant:
            tenants = tenants.filter(pk=tenant)
            try:
                found = tenants.exists()
            except Exception:
                raise CommandError(f"'{tenant}' is not a tenant id") from None
            if not found:
                raise CommandError(f"Tenant [{tenant}] is not found")
        for tenant_id in tenants.values_list("pk", flat=True):
            groups = defaults.ensure_tenant(tenant_id, EntityGroup, Role, GroupPermission, TenantDefaults)
            users = User.objects.filter(tenant_id=tenant_id)
            groups[defaults.ALL].users.add(*users.filter(authority="TENANT_ADMIN"))
            if not groups[defaults.TENANT_ADMINS].users.exists():
                for user in users.filter(authority="TENANT_ADMIN"):
                    defaults.join_defaults(user, EntityGroup)
            for customer in Customer.objects.filter(tenant_id=tenant_id):
                customer_groups = customer_defaults.ensure_customer(customer, EntityGroup, Role, GroupPermission)
                customer_groups[defaults.ALL].users.add(*users.filter(customer=customer))
            self.stdout.write(f"tenant {tenant_id}: default roles restored")
