"""Device and asset admin pages show attributes and latest telemetry; attributes are scoped."""

import pytest

from devices import attributes, telemetry
from devices.choices import AttributeScope
from devices.models import Asset, AssetProfile, Attribute, Device, DeviceProfile

TS = 1_719_000_000_000  # 2024-06-21 20:00:00 UTC


def make_device(tenant, name):
    return Device.objects.create(tenant=tenant, name=name, profile=DeviceProfile.objects.get(tenant=tenant,
                                                                                             name="default"))


@pytest.fixture
def device(tenant):
    return make_device(tenant, "alice-thermostat")


@pytest.fixture
def foreign_device(other_tenant):
    return make_device(other_tenant, "mallory-thermostat")


def change_page(client, obj) -> str:
    res = client.get(f"/admin/devices/{obj._meta.model_name}/{obj.pk}/change/")
    assert res.status_code == 200
    return res.content.decode()


def test_it_shows_attributes_of_every_scope_and_latest_telemetry(client, tenant_admin, device):
    attributes.save_attributes(device.id, AttributeScope.SERVER_SCOPE, {"firmware": "1.0.3"}, ts=TS)
    attributes.save_attributes(device.id, AttributeScope.SHARED_SCOPE, {"targetTemp": 22}, ts=TS)
    attributes.save_attributes(device.id, AttributeScope.CLIENT_SCOPE, {"config": {"mode": "eco"}}, ts=TS)
    telemetry.write_points([
        telemetry.Point(device.id, "temperature", TS - 60_000, 20.5),
        telemetry.Point(device.id, "temperature", TS, 21.25),
        telemetry.Point(device.id, "door", TS, True),
    ])
    client.force_login(tenant_admin)
    html = change_page(client, device)
    for scope, key, value in (("SERVER_SCOPE", "firmware", "1.0.3"), ("SHARED_SCOPE", "targetTemp", "22"),
                              ("CLIENT_SCOPE", "config", "{&quot;mode&quot;:&quot;eco&quot;}")):
        assert f"<td>{scope}</td><td>{key}</td><td>{value}</td>" in html
    assert "<td>temperature</td><td>21.25</td><td>2024-06-21 20:00:00.000 UTC</td>" in html
    assert "<td>door</td><td>true</td>" in html
    assert "20.5" not in html  # only the latest value


def test_it_says_so_when_an_entity_has_no_data(client, tenant_admin, tenant):
    asset = Asset.objects.create(tenant=tenant, name="Building A",
                                 profile=AssetProfile.objects.get(tenant=tenant, name="default"))
    client.force_login(tenant_admin)
    html = change_page(client, asset)
    assert "No attributes." in html and "No telemetry." in html


def test_it_escapes_attribute_values(client, tenant_admin, device):
    attributes.save_attributes(device.id, AttributeScope.SERVER_SCOPE, {"note": "<script>x</script>"}, ts=TS)
    client.force_login(tenant_admin)
    html = change_page(client, device)
    assert "<script>x</script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html


def test_it_lists_only_attributes_of_entities_the_user_sees(client, tenant_admin, sysadmin, device, foreign_device):
    attributes.save_attributes(device.id, AttributeScope.SERVER_SCOPE, {"alice_key": 1}, ts=TS)
    attributes.save_attributes(foreign_device.id, AttributeScope.SERVER_SCOPE, {"mallory_key": 2}, ts=TS)
    client.force_login(tenant_admin)
    html = client.get("/admin/devices/attribute/").content.decode()
    assert "alice_key" in html and "Device: alice-thermostat" in html
    assert "mallory_key" not in html
    foreign_row = Attribute.objects.get(entity_id=foreign_device.id)
    res = client.get(f"/admin/devices/attribute/{foreign_row.pk}/change/", follow=True)
    assert res.redirect_chain == [("/admin/", 302)]
    assert client.get("/admin/devices/attribute/add/").status_code == 403

    client.force_login(sysadmin)
    html = client.get("/admin/devices/attribute/").content.decode()
    assert "alice_key" in html and "mallory_key" in html


def test_it_keeps_storage_internals_for_the_sysadmin(client, tenant_admin, sysadmin):
    client.force_login(tenant_admin)
    assert client.get("/admin/devices/telemetrykey/").status_code == 403
    client.force_login(sysadmin)
    assert client.get("/admin/devices/telemetrykey/").status_code == 200
