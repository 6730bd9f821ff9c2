"""The demodata command: ThingsBoard's demo logins and entities, idempotent."""

from django.core.management import call_command

from devices import attributes, telemetry
from devices.models import Asset, Attribute, Device, DeviceProfile
from tenants.choices import Authority
from tenants.models import Customer, Tenant, User


def counts() -> dict:
    return {m.__name__: m.objects.count() for m in (Tenant, Customer, User, Device, DeviceProfile, Asset, Attribute)}


def test_it_creates_the_demo_logins_and_devices(db):
    call_command("demodata")
    tenant = Tenant.objects.get(title="Tenant")
    for email, password, authority in (("sysadmin@thingsboard.org", "sysadmin", Authority.SYS_ADMIN),
                                       ("tenant@thingsboard.org", "tenant", Authority.TENANT_ADMIN),
                                       ("customer@thingsboard.org", "customer", Authority.CUSTOMER_USER)):
        user = User.objects.get(email=email)
        assert user.check_password(password) and user.authority == authority
    customer_user = User.objects.get(email="customer@thingsboard.org")
    assert customer_user.tenant == tenant and customer_user.customer.title == "Customer A"
    device = Device.objects.get(tenant=tenant, name="Test Device A1")
    assert device.customer == customer_user.customer
    assert {a["key"] for a in attributes.get_attributes(device.id)} == {"firmware"}
    assert set(telemetry.latest(device.id)) == {"temperature", "humidity"}


def test_it_changes_nothing_when_run_again(db):
    call_command("demodata")
    before = counts()
    user = User.objects.get(email="tenant@thingsboard.org")
    user.set_password("changed-by-the-user")
    user.save()
    device = Device.objects.get(name="Thermostat T1")
    latest_before = telemetry.latest(device.id)

    call_command("demodata")

    assert counts() == before
    user.refresh_from_db()
    assert user.check_password("changed-by-the-user")
    assert telemetry.latest(device.id) == latest_before


def test_it_resets_demo_passwords_only_when_asked(db):
    call_command("demodata")
    user = User.objects.get(email="customer@thingsboard.org")
    user.set_password("changed")
    user.is_active = False
    user.save()
    call_command("demodata", "--reset-passwords")
    user.refresh_from_db()
    assert user.check_password("customer") and user.is_active
