"""Report jobs in ThingsBoard's job API (/api/jobs, /api/job/{id}: calculated/all_jobs.py) beside the calculated
fields' jobs: listed with their type and status, filtered, cancelled, deleted, run again; tenancy; no query per
row. CSV templates need no browser."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from calculated.models import Job
from reports import jobs, rendering, services
from reports.models import Report, ReportJob
from reports.tests.helpers import make_template
from tenants.models import User

PAGE = {"pageSize": 10, "page": 0}


def _request(api, template, **extra):
    body = {"reportTemplateId": {"entityType": "REPORT_TEMPLATE", "id": str(template.pk)}, **extra}
    return api.post("/api/v2/report/request", body, format="json")


def _done(api, template, capture, **extra) -> dict:
    with capture(execute=True):
        res = _request(api, template, **extra)
    assert res.status_code == 200, res.content
    return res.json()


def _queued(api, template, capture, **extra) -> dict:
    with capture(execute=False):  # the task is not started: the job stays QUEUED
        res = _request(api, template, **extra)
    assert res.status_code == 200, res.content
    return res.json()


def _cf_job(tenant, name="Field", status="COMPLETED") -> Job:
    field = uuid.uuid4()
    return Job.objects.create(tenant=tenant, key=str(field), entity_id=field, entity_name=name, status=status,
                              configuration={"type": "CF_REPROCESSING", "tasksKey": "k",
                                             "calculatedFieldId": str(field), "calculatedFieldName": name,
                                             "startTs": 1, "endTs": 2},
                              result={"jobType": "CF_REPROCESSING"})


def test_report_jobs_are_listed_with_the_calculated_fields_jobs(api, tenant, django_capture_on_commit_callbacks):
    from tb_pe_client.models import Job as ClientJob
    from tb_pe_client.models import PageDataJob

    template = make_template(tenant)
    job = _done(api, template, django_capture_on_commit_callbacks)
    _cf_job(tenant, "Zeta field")
    page = api.get("/api/jobs", PAGE).json()
    assert page["totalElements"] == 2 and [j["type"] for j in page["data"]] == ["CF_REPROCESSING", "REPORT"]
    listed = next(j for j in page["data"] if j["type"] == "REPORT")
    assert listed["id"] == job["id"] and listed["status"] == "COMPLETED" and listed["entityName"] == "Energy"
    assert listed["entityId"] == {"entityType": "REPORT_TEMPLATE", "id": str(template.pk)}
    assert listed["result"]["report"]["id"]["id"] == str(Report.objects.get().pk)

    def ids(**params):
        return [j["type"] for j in api.get("/api/jobs", {**PAGE, **params}).json()["data"]]

    assert ids(types="REPORT") == ["REPORT"] and ids(types="CF_REPROCESSING") == ["CF_REPROCESSING"]
    assert ids(types="DUMMY") == [] and ids(types="REPORT,CF_REPROCESSING", statuses="FAILED") == []
    assert ids(statuses="COMPLETED", entities=str(template.pk)) == ["REPORT"]
    assert ids(sortProperty="entityName", sortOrder="ASC") == ["REPORT", "CF_REPROCESSING"]  # Energy < Zeta
    assert ids(textSearch="nerg") == ["REPORT"]
    assert api.get("/api/jobs", {**PAGE, "pageSize": 1, "page": 1}).json()["data"][0]["type"] == "REPORT"
    parsed = ClientJob.from_dict(api.get(f"/api/job/{job['id']['id']}").json())
    assert parsed.type == "REPORT" and parsed.status == "COMPLETED" and parsed.result.report.name.endswith(".csv")
    assert PageDataJob.from_dict(page).total_elements == 2


@pytest.mark.parametrize("params", [{"types": "NOPE"}, {"statuses": "DONE"}, {"includeCustomers": "maybe"},
                                    {"sortProperty": "nope"}, {"entities": "not-an-id"}])
def test_bad_list_parameters_are_400(api, params):
    assert api.get("/api/jobs", {**PAGE, **params}).status_code == 400


def test_the_list_reads_a_fixed_number_of_queries_for_any_page(api, tenant):
    template = make_template(tenant)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert api.get("/api/jobs", {"pageSize": 50, "page": 0}).status_code == 200
        return len(queries)

    ReportJob.objects.create(tenant=tenant, template=template, key="a", status="FAILED")
    _cf_job(tenant)
    count()  # caches of the login and the roles filled
    few = count()
    for i in range(5):
        ReportJob.objects.create(tenant=tenant, template=make_template(tenant, name=f"T{i}"), key=f"k{i}",
                                 status="FAILED")
        _cf_job(tenant, f"F{i}")
    assert count() == few


def test_cancel_delete_and_run_again_through_the_job_api(api, tenant, monkeypatch,
                                                         django_capture_on_commit_callbacks):
    template = make_template(tenant)
    queued = _queued(api, template, django_capture_on_commit_callbacks)["id"]["id"]
    assert api.delete(f"/api/job/{queued}").status_code == 400  # still queued: cancel it first
    assert api.post(f"/api/job/{queued}/cancel").status_code == 200
    cancelled = api.get(f"/api/job/{queued}").json()
    assert cancelled["status"] == "CANCELLED" and cancelled["result"]["cancellationTs"]
    assert services.run_job(queued) is None and not Report.objects.exists()  # its task, if it comes, does nothing
    assert api.post(f"/api/job/{queued}/cancel").status_code == 400
    assert api.post(f"/api/job/{queued}/reprocess").status_code == 400  # only a failed job runs again
    assert api.delete(f"/api/job/{queued}").status_code == 200
    assert api.get(f"/api/job/{queued}").status_code == 404 and not ReportJob.objects.exists()

    # a failed job runs again and completes
    def down(*args):
        raise rendering.ReportServerError("Report server is down")

    real = services.generate
    monkeypatch.setattr(services, "generate", down)
    failed = _done(api, template, django_capture_on_commit_callbacks)["id"]["id"]
    assert api.get(f"/api/job/{failed}").json()["result"]["generalError"] == "Report server is down"
    monkeypatch.setattr(services, "generate", real)
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(f"/api/job/{failed}/reprocess").status_code == 200
    again = api.get(f"/api/job/{failed}").json()
    assert again["status"] == "COMPLETED" and again["result"]["generalError"] is None and Report.objects.count() == 1


def test_a_job_cancelled_while_it_renders_keeps_no_report(api, tenant, monkeypatch,
                                                          django_capture_on_commit_callbacks):
    real = services.generate

    def cancelled_meanwhile(user, template, *args):
        jobs.cancel(ReportJob.objects.get())
        return real(user, template, *args)

    monkeypatch.setattr(services, "generate", cancelled_meanwhile)
    job = _done(api, make_template(tenant), django_capture_on_commit_callbacks)
    assert ReportJob.objects.get(pk=job["id"]["id"]).status == "CANCELLED" and not Report.objects.exists()


def test_another_tenants_report_job_is_404_and_customers_jobs_are_asked_for(
        api, mallory_api, customer_api, customer_user, tenant, django_capture_on_commit_callbacks):
    template = make_template(tenant)
    job = _queued(api, template, django_capture_on_commit_callbacks)["id"]["id"]
    assert mallory_api.get(f"/api/job/{job}").status_code == 404
    assert mallory_api.post(f"/api/job/{job}/cancel").status_code == 404
    assert mallory_api.delete(f"/api/job/{job}").status_code == 404
    assert mallory_api.post(f"/api/job/{job}/reprocess").status_code == 404
    assert mallory_api.get("/api/jobs", PAGE).json()["totalElements"] == 0
    assert ReportJob.objects.get(pk=job).status == "QUEUED"
    # a customer user's job: the tenant administrator's list holds it with includeCustomers=true (ThingsBoard's)
    ReportJob.objects.create(tenant=tenant, customer=customer_user.customer, template=template, key="c")
    assert api.get("/api/jobs", PAGE).json()["totalElements"] == 1
    assert api.get("/api/jobs", {**PAGE, "includeCustomers": "true"}).json()["totalElements"] == 2
    # a customer user's job API holds its own customer's report jobs only (reports/tests/test_job_fixes.py)
    assert customer_api.get(f"/api/job/{job}").status_code == 404
    assert [j["id"]["id"] for j in customer_api.get("/api/jobs", PAGE).json()["data"]] == \
        [str(ReportJob.objects.get(key="c").pk)]


def test_the_report_jobs_user_must_still_exist(api, tenant, tenant_admin, django_capture_on_commit_callbacks):
    template = make_template(tenant)
    job = _queued(api, template, django_capture_on_commit_callbacks)["id"]["id"]
    User.objects.filter(pk=tenant_admin.pk).update(is_active=False)
    done = services.run_job(job)
    assert done.status == "FAILED" and "is not found" in done.error and not Report.objects.exists()
