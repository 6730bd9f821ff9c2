"""Reprocessing a calculated field over stored history, and ThingsBoard's jobs API around it."""

import pytest

from calculated.models import Job
from calculated.tests.helpers import attr_arg, save, simple, ts_arg
from devices.telemetry import history
from tbproject.testing.factories import make_device

pytestmark = pytest.mark.django_db(transaction=True)  # the job's task is queued on commit

T0 = 1_700_000_000_000


@pytest.fixture
def device(tenant):
    return make_device(tenant, "reprocess-1")


@pytest.fixture
def field(api, device):
    # saved before any history: only reprocessing computes the doubles of these points
    return save(api, simple(device, "a * 2", {"a": ts_arg("a")}, "double"))


def _history(api, device, points):
    from devices.telemetry import write_points

    write_points([(device.pk, key, ts, value) for ts, key, value in points])


def _reprocess(api, field, start, end, status=200):
    res = api.get(f"/api/calculatedField/{field['id']['id']}/reprocess", {"startTs": start, "endTs": end})
    assert res.status_code == status, res.content
    return res.json()


def test_it_recomputes_the_field_at_each_stored_time_of_the_window(api, device, field):
    _history(api, device, [(T0, "a", 1), (T0 + 1000, "a", 2), (T0 + 2000, "a", 3), (T0 + 9000, "a", 4)])
    job = _reprocess(api, field, T0, T0 + 5000)
    assert job["type"] == "CF_REPROCESSING" and job["id"]["entityType"] == "JOB"
    assert job["entityId"] == {"entityType": "CALCULATED_FIELD", "id": field["id"]["id"]} and job["key"]
    assert job["configuration"]["calculatedFieldId"] == {"entityType": "CALCULATED_FIELD", "id": field["id"]["id"]}
    assert (job["configuration"]["startTs"], job["configuration"]["endTs"]) == (T0, T0 + 5000)

    done = api.get(f"/api/job/{job['id']['id']}").json()
    assert done["status"] == "COMPLETED", done
    assert done["result"]["successfulCount"] == 1 and done["result"]["failedCount"] == 0
    assert done["result"]["totalCount"] == 1 and done["result"]["finishTs"] >= done["result"]["startTs"]
    points = history(device.pk, ["double"], T0, T0 + 10_000, limit=10, order="ASC")["double"]
    assert [(ts, float(v)) for ts, v in points] == [(T0, 2.0), (T0 + 1000, 4.0), (T0 + 2000, 6.0)]
    last = api.get(f"/api/calculatedField/{field['id']['id']}/reprocess/job").json()
    assert last["id"] == job["id"] and last["status"] == "COMPLETED"


def test_a_failing_computation_fails_its_entity_and_the_job_can_run_it_again(api, device, field):
    _history(api, device, [(T0, "a", "not a number")])
    job = _reprocess(api, field, T0, T0 + 1000)
    failed = api.get(f"/api/job/{job['id']['id']}").json()
    assert failed["status"] == "FAILED" and failed["result"]["failedCount"] == 1
    [task] = failed["result"]["results"]
    assert task["success"] is False and task["key"] == str(device.pk) and "not a number" in task["error"]
    assert task["failure"]["entityInfo"] == {"id": {"entityType": "DEVICE", "id": str(device.pk)}, "name": device.name}

    _history(api, device, [(T0, "a", 5)])  # fixed: the same time, a number now
    assert api.post(f"/api/job/{job['id']['id']}/reprocess").status_code == 200
    again = api.get(f"/api/job/{job['id']['id']}").json()
    assert again["status"] == "COMPLETED" and again["result"]["successfulCount"] == 1
    assert again["result"]["failedCount"] == 0 and again["result"]["results"] == []


def test_a_queued_job_can_be_cancelled_and_then_does_nothing(api, device, field):
    from calculated import jobs, reprocess
    from calculated.models import CalculatedField

    _history(api, device, [(T0, "a", 1)])
    job = jobs.start(CalculatedField.objects.get(pk=field["id"]["id"]), T0, T0 + 1000)
    Job.objects.filter(pk=job.pk).update(status="QUEUED", result={})  # as if its task had not started yet
    assert api.post(f"/api/job/{job.pk}/cancel").status_code == 200
    cancelled = api.get(f"/api/job/{job.pk}").json()
    assert cancelled["status"] == "CANCELLED" and cancelled["result"]["cancellationTs"] > 0
    reprocess.run(Job.objects.get(pk=job.pk))
    assert Job.objects.get(pk=job.pk).status == "CANCELLED"
    assert api.post(f"/api/job/{job.pk}/cancel").status_code == 400  # not active any more
    assert api.delete(f"/api/job/{job.pk}").status_code == 200
    assert api.get(f"/api/job/{job.pk}").status_code == 404


def test_the_jobs_page_lists_and_filters(api, device, field):
    _history(api, device, [(T0, "a", 1)])
    job = _reprocess(api, field, T0, T0 + 1000)
    page = api.get("/api/jobs", {"pageSize": 10, "page": 0, "types": "CF_REPROCESSING"}).json()
    assert [j["id"] for j in page["data"]] == [job["id"]] and page["totalElements"] == 1
    assert api.get("/api/jobs", {"pageSize": 10, "page": 0, "statuses": "RUNNING"}).json()["data"] == []
    assert api.get("/api/jobs", {"pageSize": 10, "page": 0, "entities": field["id"]["id"]}).json()["totalElements"] == 1
    assert api.get("/api/jobs", {"pageSize": 10, "page": 0, "types": "NOPE"}).status_code == 400


@pytest.mark.parametrize("params, message", [
    ({"endTs": T0}, "startTs"),
    ({"startTs": T0, "endTs": T0}, "after"),
    ({"startTs": T0, "endTs": T0 + 400 * 86_400_000}, "at most"),
    ({"startTs": "soon", "endTs": T0}, "startTs"),
])
def test_a_bad_window_is_a_400(api, field, params, message):
    res = api.get(f"/api/calculatedField/{field['id']['id']}/reprocess", params)
    assert res.status_code == 400 and message in res.json()["message"]


def test_validation_says_why_a_field_cannot_be_reprocessed(api, device, field):
    assert api.get(f"/api/calculatedField/{field['id']['id']}/reprocess/validate").json() == {
        "isValid": True, "message": None, "lastJobStatus": None}
    only_attributes = save(api, simple(device, "b + 1", {"b": attr_arg("b")}, "c", name="Attr"))
    answer = api.get(f"/api/calculatedField/{only_attributes['id']['id']}/reprocess/validate").json()
    assert answer["isValid"] is False and "telemetry argument" in answer["message"]
    _reprocess(api, only_attributes, T0, T0 + 1000, status=400)


def test_another_tenants_field_and_job_are_404_and_a_customer_user_sees_no_field_job(api, device, field,
                                                                                      mallory_api, customer_api):
    _history(api, device, [(T0, "a", 1)])
    job = _reprocess(api, field, T0, T0 + 1000)
    pk, job_pk = field["id"]["id"], job["id"]["id"]
    assert mallory_api.get(f"/api/calculatedField/{pk}/reprocess", {"startTs": T0, "endTs": T0 + 1}).status_code == 404
    assert mallory_api.get(f"/api/calculatedField/{pk}/reprocess/job").status_code == 404
    assert mallory_api.get(f"/api/job/{job_pk}").status_code == 404
    assert mallory_api.delete(f"/api/job/{job_pk}").status_code == 404
    assert mallory_api.post(f"/api/job/{job_pk}/cancel").status_code == 404
    assert mallory_api.get("/api/jobs", {"pageSize": 10, "page": 0}).json()["data"] == []
    # a customer user's job API holds its customer's report jobs only; reprocessing stays the administrator's
    assert customer_api.get(f"/api/job/{job_pk}").status_code == 404
    assert customer_api.post(f"/api/job/{job_pk}/cancel").status_code == 404
    assert customer_api.get("/api/jobs", {"pageSize": 10, "page": 0}).json()["data"] == []
    assert customer_api.get(f"/api/calculatedField/{pk}/reprocess/job").status_code == 403


def test_reprocess_and_wait_answers_once_done(api, device, field):
    _history(api, device, [(T0, "a", 10)])
    res = api.get(f"/api/calculatedField/{field['id']['id']}/reprocessAndWait", {"startTs": T0, "endTs": T0 + 1})
    assert res.status_code == 200
    assert history(device.pk, ["double"], T0, T0 + 1, limit=1)["double"][0][1] in (20, 20.0)


def test_the_answers_parse_as_tb_pe_clients_models(api, device, field):
    from tb_pe_client.models import CfReprocessingValidationResult, PageDataJob
    from tb_pe_client.models import Job as ClientJob

    _history(api, device, [(T0, "a", 1)])
    job = _reprocess(api, field, T0, T0 + 1000)
    parsed = ClientJob.from_dict(api.get(f"/api/job/{job['id']['id']}").json())
    assert parsed.status == "COMPLETED" and parsed.type == "CF_REPROCESSING"
    assert parsed.configuration.start_ts == T0
    assert parsed.result.successful_count == 1
    page = PageDataJob.from_dict(api.get("/api/jobs", {"pageSize": 5, "page": 0}).json())
    assert page.total_elements == 1
    answer = api.get(f"/api/calculatedField/{field['id']['id']}/reprocess/validate").json()
    assert CfReprocessingValidationResult.from_dict(answer).last_job_status == "COMPLETED"
