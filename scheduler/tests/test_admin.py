"""Scheduler events in the admin: tenant-scoped pages, the schedule checked as the API checks it, and a
save that sets the next fire time."""

from scheduler.models import SchedulerEvent
from tbproject.clock import now_ms

BASE = "/admin/scheduler/schedulerevent/"


def event(tenant, name="Nightly", **extra):
    return SchedulerEvent.objects.create(tenant=tenant, name=name, type="custom",
                                         schedule={"timezone": "UTC", "startTime": 1}, **extra)


def test_a_tenant_admin_sees_its_own_events_only(client, tenant_admin, tenant, other_tenant):
    mine, theirs = event(tenant, "mine-event"), event(other_tenant, "their-event")
    client.force_login(tenant_admin)
    page = client.get(BASE).content.decode()
    assert "mine-event" in page and "their-event" not in page
    assert client.get(f"{BASE}{mine.pk}/change/").status_code == 200
    assert client.get(f"{BASE}{theirs.pk}/change/").status_code in (302, 404)
    assert client.get(f"{BASE}add/").status_code == 200


def test_the_admin_checks_the_schedule_and_sets_the_next_fire(client, tenant_admin, tenant):
    row = event(tenant)
    client.force_login(tenant_admin)
    start = now_ms() + 3_600_000
    form = {"name": "Nightly", "type": "custom", "enabled": "on", "customer": "",
            "schedule": '{"timezone": "Mars/Base", "startTime": 1}', "configuration": "{}", "additional_info": "{}"}
    res = client.post(f"{BASE}{row.pk}/change/", form)
    assert res.status_code == 200 and "Unknown time zone" in res.content.decode()
    form["schedule"] = f'{{"timezone": "UTC", "startTime": {start}}}'
    assert client.post(f"{BASE}{row.pk}/change/", form).status_code == 302
    row.refresh_from_db()
    assert row.next_fire_ms == start


def test_the_admin_sets_the_originator_from_the_configuration(client, tenant_admin, tenant, other_tenant):
    from tbproject.testing.factories import make_device
    row, mine, theirs = event(tenant), make_device(tenant, "mine"), make_device(other_tenant, "theirs")
    client.force_login(tenant_admin)
    form = {"name": "Nightly", "type": "custom", "enabled": "on", "customer": "",
            "schedule": '{"timezone": "UTC", "startTime": 1}', "additional_info": "{}",
            "configuration": f'{{"originatorId": {{"entityType": "DEVICE", "id": "{theirs.pk}"}}}}'}
    res = client.post(f"{BASE}{row.pk}/change/", form)
    assert res.status_code == 200 and f"Device with id [{theirs.pk}] is not found" in res.content.decode()
    row.refresh_from_db()
    assert (row.originator_type, row.originator_id) == ("", None)
    form["configuration"] = f'{{"originatorId": {{"entityType": "DEVICE", "id": "{mine.pk}"}}}}'
    assert client.post(f"{BASE}{row.pk}/change/", form).status_code == 302
    row.refresh_from_db()
    assert (row.originator_type, row.originator_id) == ("DEVICE", mine.pk)
    form["configuration"] = '{"originatorId": {"entityType": "DASHBOARD", "id": "zz"}}'
    assert client.post(f"{BASE}{row.pk}/change/", form).status_code == 200
    form["configuration"] = '{"originatorId": null, "metadata": []}'
    assert client.post(f"{BASE}{row.pk}/change/", form).status_code == 200
    form["configuration"] = '{"originatorId": null}'
    assert client.post(f"{BASE}{row.pk}/change/", form).status_code == 302
    row.refresh_from_db()
    assert (row.originator_type, row.originator_id) == ("", None)
