"""Load ThingsBoard's demo logins and a few demo entities. Safe to run any number of times.

Rows are looked up by their natural keys (user email, tenant title, customer title, device
name) and created only when missing: a second run creates nothing and changes nothing, and a
demo user whose password was changed keeps it. ``--reset-passwords`` puts the demo passwords
back (and reactivates the demo users).
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from devices import attributes, telemetry
from devices.choices import AttributeScope
from devices.models import DEFAULT_PROFILE, Asset, AssetProfile, Device, DeviceProfile
from tbproject.clock import now_ms
from tenants.choices import Authority
from tenants.models import Customer, Tenant, User

__all__ = ["DEMO_LOGINS", "Command"]

TENANT_TITLE = "Tenant"
CUSTOMER_TITLE = "Customer A"

#: (email, password, authority): ThingsBoard's own demo accounts
DEMO_LOGINS = (
    ("sysadmin@thingsboard.org", "sysadmin", Authority.SYS_ADMIN),
    ("tenant@thingsboard.org", "tenant", Authority.TENANT_ADMIN),
    ("customer@thingsboard.org", "customer", Authority.CUSTOMER_USER),
)

#: name, profile, assigned to Customer A, server attributes, latest telemetry
DEMO_DEVICES = (
    ("Thermostat T1", "thermostat", False, {"latitude": 37.3948, "longitude": -122.1503}, {"temperature": 21.5}),
    ("Test Device A1", DEFAULT_PROFILE, True, {"firmware": "1.0.3"}, {"temperature": 19.0, "humidity": 48}),
)


class Command(BaseCommand):
    help = "Create the demo tenant, customer, users (ThingsBoard's demo logins) and devices if missing."

    def add_arguments(self, parser):
        parser.add_argument("--reset-passwords", action="store_true",
                            help="Set the demo users' passwords back to the demo values.")

    @transaction.atomic
    def handle(self, *args, reset_passwords=False, **options):
        tenant, _ = Tenant.objects.get_or_create(title=TENANT_TITLE, defaults={"email": "tenant@thingsboard.org"})
        customer, _ = Customer.objects.get_or_create(tenant=tenant, title=CUSTOMER_TITLE)
        owners = {
            Authority.SYS_ADMIN: {},
            Authority.TENANT_ADMIN: {"tenant": tenant},
            Authority.CUSTOMER_USER: {"tenant": tenant, "customer": customer},
        }
        created = 0
        for email, password, authority in DEMO_LOGINS:
            created += self._user(email, password, authority, owners[authority], reset_passwords)
        for spec in DEMO_DEVICES:
            created += self._device(tenant, customer, *spec)
        created += self._asset(tenant)
        self.stdout.write(f"demo data: {created} rows created" if created else "demo data: already present")

    def _user(self, email, password, authority, owner: dict, reset_password: bool) -> int:
        user = User.objects.filter(email=email).first()
        if user is None:
            User.objects.create_user(email, password, authority=authority, **owner)
            return 1
        if reset_password:
            user.set_password(password)
            user.is_active = True
            user.save(update_fields=["password", "is_active", "credentials_changed", "password_history"])
        return 0

    def _device(self, tenant, customer, name, profile_name, assigned, attrs, values) -> int:
        profile, _ = DeviceProfile.objects.get_or_create(tenant=tenant, name=profile_name)
        device, created = Device.objects.get_or_create(
            tenant=tenant, name=name, defaults={"profile": profile, "customer": customer if assigned else None}
        )
        if not created:
            return 0
        # Only for a new device: re-running must not move timestamps of existing data.
        ts = now_ms()
        attributes.save_attributes(device.id, AttributeScope.SERVER_SCOPE, attrs, ts=ts)
        telemetry.write_points([telemetry.Point(device.id, key, ts, v) for key, v in values.items()])
        return 1

    def _asset(self, tenant) -> int:
        profile, _ = AssetProfile.objects.get_or_create(tenant=tenant, name=DEFAULT_PROFILE)
        _, created = Asset.objects.get_or_create(tenant=tenant, name="Building A", defaults={"profile": profile})
        return int(created)
