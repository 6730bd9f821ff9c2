"""A deleted device, asset, customer or entity view takes its ``entity_alarm`` rows with it (as
ThingsBoard deletes them); the alarms stay, and so do the rows of other entities and other tenants."""

import pytest

from devices.models import EntityView
from rulechains.models import Alarm, EntityAlarm
from tbproject.testing.factories import make_asset, make_customer, make_device


def make_alarm(tenant, originator, targets, kind="DEVICE"):
    alarm = Alarm.objects.create(tenant=tenant, originator_type=kind, originator_id=originator.pk, type="Leak")
    EntityAlarm.objects.bulk_create([EntityAlarm(tenant=tenant, alarm=alarm, entity_type=t, entity_id=e.pk)
                                     for t, e in targets])
    return alarm


def listed(alarm) -> set:
    return set(EntityAlarm.objects.filter(alarm=alarm).values_list("entity_id", flat=True))


@pytest.fixture
def world(tenant):
    sensor, building, floor = make_device(tenant, "sensor"), make_asset(tenant, "building"), make_asset(tenant, "floor")
    owner = make_customer(tenant, "Owner")
    view = EntityView.objects.create(tenant=tenant, name="v", type="t", entity_type="ASSET", entity_id=floor.pk)
    alarm = make_alarm(tenant, sensor, [("ASSET", building), ("ASSET", floor), ("CUSTOMER", owner),
                                        ("ENTITY_VIEW", view), ("TENANT", tenant)])
    return {"sensor": sensor, "building": building, "floor": floor, "owner": owner, "view": view, "alarm": alarm}


@pytest.mark.parametrize("url", ["/api/asset/{building.pk}", "/api/customer/{owner.pk}",
                                 "/api/entityView/{view.pk}"])
def test_deleting_an_entity_through_the_api_drops_its_rows_only(api, world, url):
    gone = {"asset": "building", "customer": "owner", "entityView": "view"}[url.split("/")[2]]
    before = listed(world["alarm"])
    assert api.delete(url.format(**world)).status_code == 200
    assert listed(world["alarm"]) == before - {world[gone].pk}
    assert Alarm.objects.filter(pk=world["alarm"].pk).exists()


def test_a_deleted_device_drops_its_rows_and_keeps_the_alarms_it_raised(api, tenant, world):
    pump = make_device(tenant, "pump")
    other = make_alarm(tenant, pump, [("DEVICE", world["sensor"])])
    assert api.delete(f"/api/device/{world['sensor'].pk}").status_code == 200
    assert listed(other) == set()
    # its own alarm is still listed for its parents (its lists name the originator "Deleted")
    assert world["building"].pk in listed(world["alarm"])


def test_admin_and_cascade_deletes_drop_rows_too(world):
    world["floor"].delete()  # its view goes with it (devices/entity_views.py), and both rows
    assert listed(world["alarm"]) == {world["building"].pk, world["owner"].pk, world["alarm"].tenant_id}


def test_another_tenants_rows_are_untouched(api, world, other_tenant):
    theirs = make_device(other_tenant, "theirs")
    # a row of the other tenant naming this tenant's entity id (rows are matched by tenant and id)
    stray = make_alarm(other_tenant, theirs, [("ASSET", world["building"])])
    assert api.delete(f"/api/asset/{world['building'].pk}").status_code == 200
    assert listed(stray) == {world["building"].pk}

