"""The scheduler event endpoints through the test client: saves, reads, lists, the toggle, the calendar
view, what a customer user may do, another tenant's ids, and bad input (400, never 500)."""

import pytest

from scheduler.models import SchedulerEvent
from tbproject.clock import now_ms
from tbproject.testing.api import assert_error
from tbproject.testing.factories import make_device

HOUR = 3_600_000


@pytest.fixture
def device(tenant):
    return make_device(tenant, "heater-1")


def body(device=None, **extra) -> dict:
    data = {"name": "Night mode", "type": "updateAttributes",
            "schedule": {"timezone": "Europe/Berlin", "startTime": now_ms() + HOUR,
                         "repeat": {"type": "DAILY", "endsOn": 0}},
            "configuration": {"msgType": "POST_ATTRIBUTES_REQUEST", "msgBody": {"mode": "night"},
                              "metadata": {"scope": "SERVER_SCOPE"}}}
    if device is not None:
        data["configuration"]["originatorId"] = {"entityType": "DEVICE", "id": str(device.pk)}
    data.update(extra)
    return data


def save(api, data):
    return api.post("/api/schedulerEvent", data, format="json")


def test_it_saves_reads_updates_and_deletes_an_event(api, tenant, device):
    res = save(api, body(device))
    assert res.status_code == 200, res.content
    saved = res.json()
    assert saved["id"]["entityType"] == "SCHEDULER_EVENT" and isinstance(saved["createdTime"], int)
    assert saved["originatorId"] == {"entityType": "DEVICE", "id": str(device.pk)}
    assert saved["ownerId"] == {"entityType": "TENANT", "id": str(tenant.pk)}
    assert saved["enabled"] is True and saved["version"] == 1 and saved["configuration"]["msgBody"] == {"mode": "night"}
    event = SchedulerEvent.objects.get(pk=saved["id"]["id"])
    assert event.next_fire_ms == saved["schedule"]["startTime"]
    pk = saved["id"]["id"]
    assert api.get(f"/api/schedulerEvent/{pk}").json()["name"] == "Night mode"
    info = api.get(f"/api/schedulerEvent/info/{pk}").json()
    assert "configuration" not in info and info["customerTitle"] is None and info["customerIsPublic"] is False
    saved["name"] = "Night mode v2"
    updated = save(api, saved).json()
    assert updated["name"] == "Night mode v2" and updated["version"] == 2
    assert api.delete(f"/api/schedulerEvent/{pk}").status_code == 200
    assert api.get(f"/api/schedulerEvent/{pk}").status_code == 404


def test_an_update_without_an_originator_keeps_it_and_the_configurations_wins(api, tenant, device):
    saved = save(api, body(device)).json()
    info = api.get(f"/api/schedulerEvent/info/{saved['id']['id']}").json()  # no configuration, no originator
    del info["originatorId"]
    kept = save(api, {**info, "configuration": None, "name": "Renamed"}).json()
    assert kept["name"] == "Renamed" and kept["configuration"] == {}
    assert kept["originatorId"] == {"entityType": "DEVICE", "id": str(device.pk)}
    other = make_device(tenant, "heater-2")
    moved = save(api, {**kept, "configuration": body(other)["configuration"]}).json()  # top-level is the old one
    assert moved["originatorId"]["id"] == str(other.pk)
    cleared = save(api, {**moved, "originatorId": None, "configuration": {"msgType": "X"}}).json()
    assert cleared["originatorId"] is None


def test_lists_pages_ids_and_the_type_filter(api, device):
    a = save(api, body(device, name="Alpha")).json()
    save(api, body(device, name="Beta", type="sendRpcRequest"))
    assert [e["name"] for e in api.get("/api/schedulerEvents/all").json()] == ["Alpha", "Beta"]
    assert [e["name"] for e in api.get("/api/schedulerEvents/all?type=sendRpcRequest").json()] == ["Beta"]
    assert [e["name"] for e in api.get("/api/schedulerEvents?type=updateAttributes").json()] == ["Alpha"]
    page = api.get("/api/schedulerEvents?pageSize=1&page=0&sortProperty=name&sortOrder=DESC").json()
    assert [e["name"] for e in page["data"]] == ["Beta"] and page["totalElements"] == 2 and page["hasNext"]
    found = api.get("/api/schedulerEvents?pageSize=10&page=0&textSearch=RPC").json()
    assert [e["name"] for e in found["data"]] == ["Beta"]  # by type too
    assert api.get("/api/schedulerEvents?pageSize=10&page=0&edgeId=" + a["id"]["id"]).json()["data"] == []
    ids = api.get(f"/api/schedulerEvents/list?schedulerEventIds={a['id']['id']}").json()
    assert [e["name"] for e in ids] == ["Alpha"]


def test_the_enable_toggle_stops_and_restarts_the_schedule(api, device):
    pk = save(api, body(device)).json()["id"]["id"]
    off = api.put(f"/api/schedulerEvent/{pk}/enabled/false")
    assert off.status_code == 200 and off.json()["enabled"] is False
    assert SchedulerEvent.objects.get(pk=pk).next_fire_ms is None
    assert api.put(f"/api/schedulerEvent/{pk}/enabled/true").json()["enabled"] is True
    assert SchedulerEvent.objects.get(pk=pk).next_fire_ms is not None
    assert_error(api.put(f"/api/schedulerEvent/{pk}/enabled/maybe"), 400)


def test_the_calendar_view_lists_fire_times(api, device):
    start = now_ms() + HOUR
    save(api, body(device, schedule={"timezone": "UTC", "startTime": start, "repeat": {"type": "DAILY"}}))
    save(api, body(device, name="Later", schedule={"timezone": "UTC", "startTime": start + 100 * 86_400_000}))
    res = api.get(f"/api/schedulerEvents/startTime/{start}/endTime/{start + 2 * 86_400_000}").json()
    assert [(e["name"], e["timestamps"]) for e in res] == [
        ("Night mode", [start, start + 86_400_000, start + 2 * 86_400_000])]
    assert_error(api.get(f"/api/schedulerEvents/startTime/{start}/endTime/1"), 400)
    assert_error(api.get(f"/api/schedulerEvents/startTime/x/endTime/{10**30}"), 400)


def test_an_originator_of_another_tenant_is_refused(api, other_tenant):
    foreign = make_device(other_tenant, "theirs")
    res = save(api, body(foreign))
    assert_error(res, 404, f"Device with id [{foreign.pk}] is not found")
    top = body(originatorId={"entityType": "DEVICE", "id": str(foreign.pk)})
    assert_error(save(api, top), 404)
    assert not SchedulerEvent.objects.exists()


def test_another_tenants_event_is_404_everywhere(api, mallory_api, device):
    pk = save(api, body(device)).json()["id"]["id"]
    for url in (f"/api/schedulerEvent/{pk}", f"/api/schedulerEvent/info/{pk}"):
        assert_error(mallory_api.get(url), 404)
    assert_error(mallory_api.delete(f"/api/schedulerEvent/{pk}"), 404)
    assert_error(mallory_api.put(f"/api/schedulerEvent/{pk}/enabled/false"), 404)
    stolen = {**body(), "id": {"entityType": "SCHEDULER_EVENT", "id": pk}}
    assert_error(mallory_api.post("/api/schedulerEvent", stolen, format="json"), 404)
    assert mallory_api.get("/api/schedulerEvents/all").json() == []
    assert mallory_api.get(f"/api/schedulerEvents/list?schedulerEventIds={pk}").json() == []
    assert SchedulerEvent.objects.get(pk=pk).enabled is True


def test_a_customer_user_reads_its_customers_events_and_writes_none(api, customer_api, customer, device):
    own = save(api, body(device, name="Theirs", customerId={"entityType": "CUSTOMER", "id": str(customer.pk)}))
    assert own.json()["ownerId"] == {"entityType": "CUSTOMER", "id": str(customer.pk)}
    tenant_only = save(api, body(device, name="Tenant's")).json()["id"]["id"]
    pk = own.json()["id"]["id"]
    assert [e["name"] for e in customer_api.get("/api/schedulerEvents/all").json()] == ["Theirs"]
    assert customer_api.get(f"/api/schedulerEvent/info/{pk}").json()["customerTitle"] == customer.title
    assert customer_api.get(f"/api/schedulerEvent/{tenant_only}").status_code == 404
    assert customer_api.post("/api/schedulerEvent", body(device), format="json").status_code == 403
    assert customer_api.delete(f"/api/schedulerEvent/{pk}").status_code == 403
    assert customer_api.put(f"/api/schedulerEvent/{pk}/enabled/false").status_code == 403


@pytest.mark.parametrize("change, words", [
    ({"name": ""}, "name should be specified"),
    ({"name": "x" * 256}, "255"),
    ({"name": "bad\x00name"}, "Null characters"),
    ({"type": None}, "type should be specified"),
    ({"schedule": None}, "schedule should be specified"),
    ({"schedule": "daily"}, "JSON object"),
    ({"schedule": {"timezone": "Nowhere/Town", "startTime": 1}}, "Unknown time zone"),
    ({"schedule": {"timezone": "UTC", "startTime": 10**40}}, "between"),
    ({"schedule": {"timezone": "UTC", "startTime": 1, "repeat": {"type": "WEEKLY", "repeatOn": [9]}}}, "repeatOn"),
    ({"schedule": {"timezone": "UTC", "startTime": 1, "repeat": {"type": "TIMER"}}}, "timeUnit"),
    ({"configuration": [1]}, "JSON object"),
    ({"configuration": {"msgType": 5}}, "msgType"),
    ({"configuration": {"metadata": "scope"}}, "metadata"),
    ({"configuration": {"msgBody": {"k": "v\x00"}}}, "NUL"),
    ({"configuration": {"originatorId": {"entityType": "PLANET", "id": "x"}}}, "entityType"),
    ({"configuration": {"originatorId": {"entityType": "DEVICE", "id": "not-a-uuid"}}}, "Invalid UUID"),
    ({"enabled": "yes"}, "true or false"),
    ({"customerId": {"entityType": "CUSTOMER", "id": "nope"}}, "Invalid UUID"),
])
def test_bad_input_is_a_400_that_says_why(api, device, change, words):
    res = save(api, {**body(device), **change})
    assert_error(res, 400)
    assert words.lower() in res.json()["message"].lower(), res.json()
    assert not SchedulerEvent.objects.exists()


def test_malformed_json_and_a_foreign_customer(api, device, other_tenant):
    res = api.post("/api/schedulerEvent", "{not json", content_type="application/json")
    assert_error(res, 400)
    from tbproject.testing.factories import make_customer

    theirs = make_customer(other_tenant, "Their customer")
    assert_error(save(api, body(device, customerId={"entityType": "CUSTOMER", "id": str(theirs.pk)})), 404)


DAY = 24 * HOUR


def test_the_calendar_refuses_a_range_longer_than_a_year(api):
    start = now_ms()
    assert api.get(f"/api/schedulerEvents/startTime/{start}/endTime/{start + 366 * DAY}").status_code == 200
    assert_error(api.get(f"/api/schedulerEvents/startTime/0/endTime/{10 ** 14}"), 400, "366 days")


def test_the_calendar_answers_at_most_max_timestamps(api, tenant, monkeypatch):
    from scheduler import services
    SchedulerEvent.objects.bulk_create(
        SchedulerEvent(tenant=tenant, name=f"e{i}", type="t",
                       schedule={"timezone": "UTC", "startTime": 0, "repeat": {"type": "DAILY"}}) for i in range(3))
    path = f"/api/schedulerEvents/startTime/{DAY}/endTime/{DAY * 30}"
    monkeypatch.setattr(services, "MAX_TIMESTAMPS", 90)
    assert sum(len(e["timestamps"]) for e in api.get(path).json()) == 90
    monkeypatch.setattr(services, "MAX_TIMESTAMPS", 89)
    assert_error(api.get(path), 400, "more than 89 times")


def test_the_lists_without_paging_are_capped(api, tenant, monkeypatch):
    from scheduler.api import views
    for i in range(5):
        SchedulerEvent.objects.create(tenant=tenant, name=f"e{i}", type="t",
                                      schedule={"timezone": "UTC", "startTime": 1})
    monkeypatch.setattr(views, "LIST_LIMIT", 3)
    first = [e.name for e in SchedulerEvent.objects.order_by("created_time", "pk")[:3]]
    for path in ("/api/schedulerEvents", "/api/schedulerEvents/all"):
        assert [e["name"] for e in api.get(path).json()] == first, path
    assert api.get("/api/schedulerEvents?pageSize=10&page=0").json()["totalElements"] == 5
