"""The periodic job (scheduler/firing.py) through the real rule engine: a new tenant's default root chain
stores an "updateAttributes" event's attribute and queues a "sendRpcRequest" event's RPC for the device;
disabled events stay quiet, missed fires fire once, a deleted originator is an error on the event, and
(on PostgreSQL) two processes claiming at once fire an event once."""

import json
import threading

import pytest
from django.db import connection, connections

from devices.models import Attribute
from rulechains.models import Rpc, RpcStatus
from scheduler import firing
from scheduler.models import SchedulerEvent
from scheduler.services import reschedule
from tbproject import periodic
from tbproject.testing.factories import make_device

HOUR, DAY = 3_600_000, 86_400_000
T0 = 1_767_225_600_000  # 2026-01-01 00:00 UTC


@pytest.fixture
def device(tenant):
    return make_device(tenant, "boiler-1")


def make_event(tenant, device, *, kind="updateAttributes", repeat=None, start=T0 + HOUR, enabled=True, **config):
    configuration = {"originatorId": {"entityType": "DEVICE", "id": str(device.pk)}, **config}
    event = SchedulerEvent(tenant=tenant, name=f"{kind} event", type=kind, originator_type="DEVICE",
                           originator_id=device.pk, enabled=enabled, configuration=configuration,
                           schedule={"timezone": "Europe/Berlin", "startTime": start, "repeat": repeat})
    reschedule(event, now=T0)
    event.save()
    return event


def attributes(device) -> dict:
    return {a.key: a.str_v if a.str_v is not None else a.long_v for a in Attribute.objects.filter(entity_id=device.pk)}


def update_attributes(tenant, device, **kwargs):
    return make_event(tenant, device, msgType="POST_ATTRIBUTES_REQUEST", msgBody={"mode": "eco", "target": 19},
                      metadata={"scope": "SERVER_SCOPE"}, **kwargs)


def test_the_job_is_in_the_periodic_table():
    assert any(job.path == "scheduler.tasks.fire_due_events" and job.every == 1 for job in periodic.JOBS)


def test_a_due_update_attributes_event_stores_the_attributes_through_the_root_chain(tenant, device):
    event = update_attributes(tenant, device)
    assert firing.run_due(now=T0 + HOUR - 1) == 0 and attributes(device) == {}
    assert firing.run_due(now=T0 + HOUR) == 1
    assert attributes(device) == {"mode": "eco", "target": 19}
    event.refresh_from_db()
    assert event.next_fire_ms is None and event.last_fire_ms == T0 + HOUR and event.last_error == ""
    assert firing.run_due(now=T0 + 2 * HOUR) == 0  # a one-time event fired once


def test_the_celery_task_runs_the_job(tenant, device):
    from scheduler.tasks import fire_due_events

    make_event(tenant, device, msgType="POST_ATTRIBUTES_REQUEST", msgBody={"k": "v"}, start=0)
    SchedulerEvent.objects.update(next_fire_ms=1)
    assert fire_due_events() == 1 and attributes(device) == {"k": "v"}


def test_a_send_rpc_request_event_queues_the_call_for_the_device(tenant, device):
    make_event(tenant, device, kind="sendRpcRequest", msgType="RPC_CALL_FROM_SERVER_TO_DEVICE",
               msgBody={"method": "setTemperature", "params": {"value": 21}},
               metadata={"oneway": True, "timeout": 5000, "persistent": False})
    assert firing.run_due(now=T0 + HOUR) == 1
    rpc = Rpc.objects.get(device=device)
    assert rpc.status == RpcStatus.QUEUED and rpc.oneway is True
    assert rpc.request["method"] == "setTemperature" and json.loads(rpc.request["params"]) == {"value": 21}
    assert rpc.expiration_time == T0 + HOUR + 5000


def test_the_message_follows_the_configuration():
    event = SchedulerEvent(tenant_id="00000000-0000-0000-0000-0000000000aa", type="custom", configuration={
        "msgBody": {"a": [1, 2]}, "metadata": {"n": 1, "b": True, "o": {"x": 1}, "none": None}})
    msg = firing.message_of(event, 5)
    assert (msg.msg_type, msg.originator_type, str(msg.originator_id)) == ("custom", "TENANT", str(event.tenant_id))
    assert msg.data == {"a": [1, 2]} and msg.metadata == {"n": "1", "b": "true", "o": '{"x":1}', "none": ""}


def test_a_disabled_event_does_not_fire(tenant, device):
    event = update_attributes(tenant, device, enabled=False)
    assert event.next_fire_ms is None
    SchedulerEvent.objects.update(next_fire_ms=T0)  # even with a fire time left over
    assert firing.run_due(now=T0 + DAY) == 0 and attributes(device) == {}


def test_the_events_of_a_tenant_being_deleted_do_not_fire(tenant, device):
    update_attributes(tenant, device)
    type(tenant).objects.filter(pk=tenant.pk).update(deleting_ts=T0)
    assert firing.run_due(now=T0 + HOUR) == 0 and attributes(device) == {}


def test_missed_fires_fire_once_and_the_next_is_after_now(tenant, device):
    event = make_event(tenant, device, repeat={"type": "TIMER", "repeatInterval": 10, "timeUnit": "MINUTES"},
                       msgType="POST_TELEMETRY_REQUEST", msgBody={"pulse": 1})
    from rulechains import services

    sent = []
    real = services.submit
    services.submit = lambda msgs: (sent.extend(msgs), real(msgs))
    try:
        assert firing.run_due(now=T0 + 5 * HOUR + 1) == 1  # 25 fire times passed while nothing ran
    finally:
        services.submit = real
    assert len(sent) == 1
    event.refresh_from_db()
    assert event.next_fire_ms == T0 + 5 * HOUR + 10 * 60_000


def test_a_deleted_originator_is_an_error_on_the_event_and_the_job_goes_on(tenant, device, caplog):
    other = make_device(tenant, "boiler-2")
    gone = update_attributes(tenant, device, repeat={"type": "DAILY"})
    fine = update_attributes(tenant, other)
    pk = device.pk
    device.delete()
    assert firing.run_due(now=T0 + HOUR) == 1
    gone.refresh_from_db()
    assert gone.last_error == f"Device with id [{pk}] is not found" and gone.next_fire_ms == T0 + HOUR + DAY
    assert "not fired" in caplog.text
    assert attributes(other) == {"mode": "eco", "target": 19}
    fine.refresh_from_db()
    assert fine.last_error == ""


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_processes_claiming_at_once_fire_an_event_once(tenant, device):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL): SQLite has no row locks to skip")
    event = update_attributes(tenant, device)
    holding, release = threading.Event(), threading.Event()
    result = {}

    def first():  # a second connection holds the row's lock as a claim in progress
        try:
            from django.db import transaction

            with transaction.atomic():
                rows = list(SchedulerEvent.objects.select_for_update(skip_locked=True).filter(pk=event.pk))
                result["first"] = len(rows)
                holding.set()
                release.wait(30)
        finally:
            connections.close_all()

    thread = threading.Thread(target=first)
    thread.start()
    assert holding.wait(30)
    try:
        result["second"] = firing.run_due(now=T0 + HOUR)  # skips the locked row, never waits for it
    finally:
        release.set()
        thread.join(30)
    assert result == {"first": 1, "second": 0} and attributes(device) == {}
    assert firing.run_due(now=T0 + HOUR) == 1 and firing.run_due(now=T0 + HOUR) == 0
    assert attributes(device) == {"mode": "eco", "target": 19}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_jobs_fire_each_event_exactly_once(tenant, device):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL)")
    for i in range(30):
        make_event(tenant, device, msgType="POST_TELEMETRY_REQUEST", msgBody={"i": i})
    counts = []

    def job():
        try:
            counts.append(firing.run_due(now=T0 + HOUR))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=job) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sum(counts) == 30
    assert SchedulerEvent.objects.filter(last_fire_ms=T0 + HOUR).count() == 30
