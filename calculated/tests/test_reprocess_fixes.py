"""Reprocessing: rights, one active job per field, full history in time order, bounded work, attributes kept."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from calculated import jobs, reprocess
from calculated.models import CalculatedField, Job
from calculated.tests.helpers import save, script, simple, ts_arg
from devices.models import EntityGroup
from devices.telemetry import history, write_points
from tbproject.testing.factories import make_device
from tbproject.testing.fixtures import api_as
from tenants.choices import Authority
from tenants.models import User

pytestmark = pytest.mark.django_db(transaction=True)  # the job's task is queued on commit

T0 = 1_700_000_000_000


@pytest.fixture
def device(tenant):
    return make_device(tenant, "reprocess-fix")


@pytest.fixture
def field(api, device):
    return save(api, simple(device, "a * 2", {"a": ts_arg("a")}, "double"))


def _row(field) -> CalculatedField:
    return CalculatedField.objects.get(pk=field["id"]["id"])


def _points(device, key, ts_values):
    write_points([(device.pk, key, ts, value) for ts, value in ts_values])


def _all(device, key) -> list:
    """The field's results in the reprocessed windows (a write also computes the field now, at the server time)."""
    return [(ts, float(v)) for ts, v in history(device.pk, [key], T0 - 1000, T0 + 1000, limit=10_000, order="ASC")
            .get(key, [])]


def test_a_read_only_tenant_admin_cannot_start_a_reprocessing(api, tenant, device, field):
    user = User.objects.create_user("ro@example.com", authority=Authority.TENANT_ADMIN, tenant=tenant)
    EntityGroup.objects.get(tenant=tenant, type="USER", name="Tenant Administrators").users.remove(user)
    EntityGroup.objects.get(tenant=tenant, type="USER", name="Tenant Users").users.add(user)
    _points(device, "a", [(T0, 1)])
    client = api_as(user)
    pk = field["id"]["id"]
    assert client.get(f"/api/calculatedField/{pk}/reprocess/validate").status_code == 200  # reading stays
    for route in ("reprocess", "reprocessAndWait"):
        assert client.get(f"/api/calculatedField/{pk}/{route}", {"startTs": T0, "endTs": T0 + 1}).status_code == 403
    assert not Job.objects.exists() and _all(device, "double") == []


def test_a_retry_is_refused_while_another_job_of_the_field_is_active(api, device, field):
    _points(device, "a", [(T0, "not a number")])
    failed = jobs.start(_row(field), T0, T0 + 1)
    assert Job.objects.get(pk=failed.pk).status == "FAILED"
    newer = jobs.start(_row(field), T0, T0 + 1)  # allowed: the newest job had finished
    Job.objects.filter(pk=newer.pk).update(status="RUNNING")
    res = api.post(f"/api/job/{failed.pk}/reprocess")
    assert res.status_code == 400 and "in progress" in res.json()["message"]
    assert Job.objects.get(pk=failed.pk).status == "FAILED"
    # an active job that is not the newest still blocks a new one
    Job.objects.filter(pk=failed.pk).update(created_time=newer.created_time + 1)
    assert api.get(f"/api/calculatedField/{field['id']['id']}/reprocess/validate").json()["isValid"] is False


def test_a_job_deleted_while_running_stops_its_task(api, tenant, monkeypatch):
    from devices.models import DeviceProfile

    profile = DeviceProfile.objects.create(tenant=tenant, name="p-fix")
    one, two = (make_device(tenant, f"m-{i}", profile=profile) for i in (1, 2))
    _points(one, "a", [(T0, 1)])
    _points(two, "a", [(T0, 2)])
    field = save(api, simple(profile, "a * 2", {"a": ts_arg("a")}, "double"))
    done = []
    real = reprocess.reprocess_entity

    def first_then_delete(f, entity_id, *args, **kwargs):
        done.append(entity_id)
        answer = real(f, entity_id, *args, **kwargs)
        Job.objects.filter(entity_id=f.id).update(status="CANCELLED")
        Job.objects.filter(entity_id=f.id).delete()  # cancelled, then deleted while its task runs
        return answer

    monkeypatch.setattr(reprocess, "reprocess_entity", first_then_delete)
    jobs.start(_row(field), T0, T0 + 1)
    assert len(done) == 1


def test_history_beyond_the_old_read_cap_is_reprocessed_in_time_order(api, device, monkeypatch):
    monkeypatch.setattr(reprocess, "READ_CHUNK", 7, raising=False)
    monkeypatch.setattr(reprocess, "MAX_POINTS", 7, raising=False)  # the old cap, made small
    field = save(api, simple(device, "a + b", {"a": ts_arg("a"), "b": ts_arg("b")}, "sum"))
    _points(device, "a", [(T0 + i * 10, i) for i in range(40)])
    _points(device, "b", [(T0 - 5, 100), (T0 + 205, 1000)])
    jobs.start(_row(field), T0, T0 + 1000)
    expected = [(T0 + i * 10, i + (100 if T0 + i * 10 < T0 + 205 else 1000)) for i in range(21)]
    expected += [(T0 + 205, 20 + 1000)] + [(T0 + i * 10, i + 1000) for i in range(21, 40)]
    assert _all(device, "sum") == [(ts, float(v)) for ts, v in expected]
    assert Job.objects.get().status == "COMPLETED"


def test_rolling_windows_slide_over_paged_history(api, device, monkeypatch):
    monkeypatch.setattr(reprocess, "READ_CHUNK", 3, raising=False)
    monkeypatch.setattr(reprocess, "MAX_POINTS", 3, raising=False)
    body = "return {'s': r.sum(), 'n': r.count()};"
    arg = {"refEntityKey": {"key": "a", "type": "TS_ROLLING"}, "limit": 4, "timeWindow": 35}
    save(api, script(device, body, {"r": arg}))
    _points(device, "a", [(T0 + i * 10, i) for i in range(-5, 12)])
    jobs.start(CalculatedField.objects.get(), T0, T0 + 100)
    sums = dict(_all(device, "s"))
    counts = dict(_all(device, "n"))
    for i in range(10):  # the window [ts - 35, ts]: four points, limit 4
        assert (sums[T0 + i * 10], counts[T0 + i * 10]) == (float(sum(range(i - 3, i + 1))), 4.0)
    assert Job.objects.get().status == "COMPLETED"


def test_a_single_entity_job_stops_between_batches_once_cancelled(api, device, field, monkeypatch):
    monkeypatch.setattr(reprocess, "SCRIPT_BATCH", 5)
    _points(device, "a", [(T0 + i, i) for i in range(20)])
    real = reprocess.outputs.Writes.flush

    def flush_then_cancel(self):
        real(self)
        Job.objects.filter(status="RUNNING").update(status="CANCELLED")

    monkeypatch.setattr(reprocess.outputs.Writes, "flush", flush_then_cancel)
    jobs.start(_row(field), T0, T0 + 100)
    assert len(_all(device, "double")) == 5 and Job.objects.get().status == "CANCELLED"


def test_an_attribute_output_keeps_a_newer_value(api, device):
    save(api, simple(device, "a * 2", {"a": ts_arg("a")}, "double", output_type="ATTRIBUTES"))
    api.post(f"/api/plugins/telemetry/DEVICE/{device.pk}/timeseries/ANY", {"a": 50}, format="json")
    _points(device, "a", [(T0, 1)])
    jobs.start(CalculatedField.objects.get(), T0, T0 + 1)
    assert Job.objects.get().status == "COMPLETED"
    res = api.get(f"/api/plugins/telemetry/DEVICE/{device.pk}/values/attributes/SERVER_SCOPE", {"keys": "double"})
    assert [a["value"] for a in res.json()] == [100.0]


def test_reprocess_and_wait_runs_the_job_itself_with_a_real_worker(api, device, field, monkeypatch):
    from calculated import tasks

    queued = []

    def worker_claims(job_id, only=None):  # a worker that took the job and has not done it yet
        queued.append(job_id)
        Job.objects.filter(pk=job_id).update(status="RUNNING")

    monkeypatch.setattr(tasks.reprocess, "delay", worker_claims)
    _points(device, "a", [(T0, 10)])
    res = api.get(f"/api/calculatedField/{field['id']['id']}/reprocessAndWait", {"startTs": T0, "endTs": T0 + 1})
    assert res.status_code == 200 and queued == []
    assert _all(device, "double") == [(T0, 20.0)] and Job.objects.get().status == "COMPLETED"


def test_the_node_costs_no_query_for_a_tenant_without_fields(tenant, device):
    from calculated import index
    from calculated.node import TYPE
    from rulechains.nodes.base import NodeContext
    from rulechains.tests.helpers import make_node, msg
    from tbproject.clock import now_ms

    index.tenants_with_fields()  # cached, as on a busy worker
    instance, message = make_node(tenant, TYPE), msg(tenant, device, data={"a": 1})
    with CaptureQueriesContext(connection) as queries:
        [[out]] = instance.process_batch(NodeContext(tenant.pk, now_ms()), [message])
    assert out.relation == "Success" and len(queries.captured_queries) == 0


def test_a_run_inside_a_request_stops_at_its_time_budget(api, device, field, settings, monkeypatch):
    monkeypatch.setattr(reprocess, "SCRIPT_BATCH", 5)
    settings.CALCULATED_REPROCESS_REQUEST_BUDGET_S = 1e-9  # spent at once
    _points(device, "a", [(T0 + i, i) for i in range(20)])
    jobs.start(_row(field), T0, T0 + 100)  # embedded mode: the eager task runs in the request
    job = Job.objects.get()
    assert job.status == "FAILED" and "Stopped after" in job.result["generalError"]
    assert len(_all(device, "double")) < 20


def _rolling_call(n: int) -> tuple[dict, dict]:
    roll = {"timeWindow": {"startTs": 0, "endTs": n}, "values": [{"ts": i, "value": float(i % 97)} for i in range(n)]}
    return {"args": {"r": roll}, "latestTs": n - 1}, {"r": roll}


def test_max_and_min_take_more_points_than_a_call_has_arguments():
    from calculated import scripts
    from converters.engine import Limits

    roomy = Limits(timeout_ms=20_000, memory_mb=256)  # what the profile's limit may allow, not what is tested here
    [(result, error)] = scripts.run(None, 1, ["r"], "return {'hi': r.max(), 'lo': r.min(), 'same': ctx.args.r === r};",
                                    [_rolling_call(70_000)], limits=roomy)
    assert error is None and result == {"hi": 96.0, "lo": 0.0, "same": True}


def test_a_rolling_argument_is_sent_to_the_engine_once(monkeypatch):
    from calculated import scripts

    sent = []
    real = scripts.engine.encode

    def spy(key, version, body, items, **kwargs):
        sent.extend(item[0] for item in items)
        return real(key, version, body, items, **kwargs)

    monkeypatch.setattr(scripts.engine, "encode", spy)
    [(result, error)] = scripts.run(None, 1, ["r"], "return {'n': r.count(), 'm': ctx.args.r.count()};",
                                    [_rolling_call(10)])
    assert error is None and result == {"n": 10, "m": 10}
    assert sent[0].count('"timeWindow"') == 1


def test_the_most_points_a_rolling_argument_holds_fit_the_default_script_memory():
    from calculated import scripts
    from calculated.limits import MAX_ROLLING_POINTS
    from converters.engine import Limits

    memory_only = Limits(timeout_ms=20_000)  # the default memory; time is not what this checks
    answers = scripts.run(None, 1, ["r"], "return {'m': r.mean(), 'hi': r.max(), 's': r.std()};",
                          [_rolling_call(MAX_ROLLING_POINTS)], limits=memory_only)
    assert [error for _, error in answers] == [None]


def test_the_events_api_learns_of_calculated_fields_from_this_app():
    import inspect

    from converters.api import events

    assert events.ENTITY_MODELS["CALCULATED_FIELD"] == "calculated.CalculatedField"
    assert events.EVENT_MODELS["CALCULATED_FIELD"] == "calculated.CalculatedFieldEvent"
    assert "calculated." not in inspect.getsource(events)  # the lower layer names no model of this one
