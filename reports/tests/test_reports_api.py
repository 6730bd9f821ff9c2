"""Reports v2: requests run as a job (a task, in-process here), downloads, the public link, lists,
uploads; tenancy; bad input. CSV templates need no browser, so none of this starts Chromium."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from reports.models import Report, ReportJob
from reports.tests.helpers import PDF_CONFIG, make_template
from tbproject.testing.fixtures import api_as

PAGE = {"pageSize": 10, "page": 0}


def _request(api, template, **extra):
    body = {"reportTemplateId": {"entityType": "REPORT_TEMPLATE", "id": str(template.pk)},
            "timezone": "Europe/Berlin", **extra}
    return api.post("/api/v2/report/request", body, format="json")


def test_a_request_queues_a_job_whose_task_makes_the_report(api, anon, tenant, tenant_admin,
                                                             django_capture_on_commit_callbacks):
    template = make_template(tenant)
    with django_capture_on_commit_callbacks(execute=True):
        res = _request(api, template)
    assert res.status_code == 200, res.content
    job = res.json()
    assert job["type"] == "REPORT" and job["status"] == "QUEUED" and job["entityName"] == "Energy"
    assert job["configuration"]["timezone"] == "Europe/Berlin" and job["result"]["jobType"] == "REPORT"
    done = ReportJob.objects.get(pk=job["id"]["id"])
    assert done.status == "COMPLETED" and done.report is not None
    report = Report.objects.get()
    assert report.name.startswith("energy-") and report.name.endswith(".csv") and report.user == tenant_admin
    assert b"HEADING,Energy" in bytes(report.data)
    got = api.get(f"/api/v2/report/{report.pk}").json()
    assert got["templateId"]["id"] == str(template.pk) and got["public"] is False and got["publicKey"] is None
    download = api.get(f"/api/v2/report/{report.pk}/download")
    assert download.status_code == 200 and download["Content-Type"] == "text/csv"
    assert "attachment" in download["Content-Disposition"]
    infos = api.get("/api/v2/reportInfos/all", {**PAGE, "reportTemplateId": str(template.pk)}).json()
    assert infos["totalElements"] == 1 and infos["data"][0]["templateInfo"]["name"] == "Energy"
    assert infos["data"][0]["userName"] == tenant_admin.email
    assert [r["name"] for r in api.get("/api/v2/reportInfos", {"strReportIds": str(report.pk)}).json()] == [report.name]
    assert api.get("/api/v2/reports", PAGE).json()["totalElements"] == 1
    # the public link: anyone with the key while it is public, nobody after
    public = api.put(f"/api/v2/report/{report.pk}/public/true").json()
    key = public["publicKey"]
    assert public["public"] is True and key
    assert anon.get(f"/api/v2/report/public/{key}/download").status_code == 200
    api.put(f"/api/v2/report/{report.pk}/public/false")
    assert anon.get(f"/api/v2/report/public/{key}/download").status_code == 404
    assert api.put(f"/api/v2/report/{report.pk}/public/maybe").status_code == 400
    assert api.delete(f"/api/v2/report/{report.pk}").status_code == 200
    assert api.get(f"/api/v2/report/{report.pk}").status_code == 404


def test_the_test_report_answers_the_file_now(api, tenant):
    body = {"reportTemplateConfig": {"format": "CSV", "components": [{"type": "RICH_TEXT", "text": "hi"}]}}
    res = api.post("/api/v2/report/test", body, format="json")
    assert res.status_code == 200 and res["Content-Type"] == "text/csv" and b"RICH_TEXT,hi" in res.content
    template = make_template(tenant)
    res = api.post("/api/v2/report/test", {"reportTemplateId": {"id": str(template.pk)}}, format="json")
    assert res.status_code == 200 and b"Energy" in res.content
    assert not Report.objects.exists()


@pytest.mark.parametrize("body, status, message", [
    ({"reportTemplateId": None}, 400, "reportTemplateId should be specified"),
    ({"reportTemplateId": "nope"}, 400, "Invalid UUID"),
    ({"reportTemplateId": "7c0a7a4e-64a4-4e35-8d64-1c1d27e3c0a1"}, 404, "is not found"),
    ({"timezone": "Atlantis/Capital"}, 400, "Unknown time zone"),
    ({"makePublic": "yes"}, 400, "makePublic"),
])
def test_bad_report_requests_are_refused_and_queue_nothing(api, tenant, body, status, message):
    template = make_template(tenant)
    full = {"reportTemplateId": str(template.pk), **body}
    res = api.post("/api/v2/report/request", full, format="json")
    assert res.status_code == status and message in res.json()["message"], res.content
    assert not ReportJob.objects.exists()
    assert api.post("/api/v2/report/request", [1], format="json").status_code == 400


def test_tenancy_of_reports_and_requests(api, mallory_api, mallory, tenant, tenant_admin,
                                         django_capture_on_commit_callbacks):
    template = make_template(tenant)
    assert _request(mallory_api, template).status_code == 404
    # a tenant administrator cannot make a report as another tenant's user
    assert _request(api, template, userId={"entityType": "USER", "id": str(mallory.pk)}).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        _request(api, template)
    report = Report.objects.get()
    for path in (f"/api/v2/report/{report.pk}", f"/api/v2/report/{report.pk}/download"):
        assert mallory_api.get(path).status_code == 404
    assert mallory_api.put(f"/api/v2/report/{report.pk}/public/true").status_code == 404
    assert mallory_api.delete(f"/api/v2/report/{report.pk}").status_code == 404
    assert mallory_api.get("/api/v2/reports", PAGE).json()["totalElements"] == 0
    assert mallory_api.get("/api/v2/reportInfos", {"strReportIds": str(report.pk)}).json() == []


def test_customer_users_see_only_their_own_reports(api, customer_user, tenant, tenant_admin,
                                                   django_capture_on_commit_callbacks):
    template = make_template(tenant)
    with django_capture_on_commit_callbacks(execute=True):
        _request(api, template)
    customer_api = api_as(customer_user)
    assert customer_api.get("/api/v2/reports", PAGE).json()["totalElements"] == 0
    # a customer user cannot see the tenant's template, nor name another user
    assert _request(customer_api, template).status_code == 404
    own = make_template(tenant, name="Theirs", customer=customer_user.customer)
    assert _request(customer_api, own, userId=str(tenant_admin.pk)).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        assert _request(customer_api, own).status_code == 200
    assert customer_api.get("/api/v2/reports", PAGE).json()["totalElements"] == 1


def test_an_uploaded_report_is_stored(api, tenant):
    info = {"name": "manual.pdf", "format": "PDF", "templateId": {"entityType": "REPORT_TEMPLATE",
                                                                    "id": str(make_template(tenant).pk)}}
    res = api.post("/api/v2/report", {"file": SimpleUploadedFile("m.pdf", b"%PDF-1.7 x"), "info": json.dumps(info)},
                   format="multipart")
    assert res.status_code == 200 and res.json()["name"] == "manual.pdf"
    assert bytes(Report.objects.get().data) == b"%PDF-1.7 x"
    assert api.post("/api/v2/report", {"info": json.dumps(info)}, format="multipart").status_code == 400
    bad = api.post("/api/v2/report", {"file": SimpleUploadedFile("m.pdf", b"x"), "info": "{"}, format="multipart")
    assert bad.status_code == 400 and Report.objects.count() == 1


def test_without_chromium_pdfs_answer_a_clear_error_and_the_rest_works(api, tenant, settings,
                                                                      django_capture_on_commit_callbacks):
    settings.REPORTS_CHROMIUM_PATH = ""
    res = api.post("/api/v2/report/test", {"reportTemplateConfig": PDF_CONFIG}, format="json")
    assert res.status_code == 503 and "report server" in res.json()["message"]
    template = make_template(tenant, name="Pdf", fmt="PDF")
    with django_capture_on_commit_callbacks(execute=True):
        job = _request(api, template).json()
    failed = ReportJob.objects.get(pk=job["id"]["id"])
    assert failed.status == "FAILED" and "report server" in failed.error
    csv_template = make_template(tenant)
    with django_capture_on_commit_callbacks(execute=True):
        _request(api, csv_template)
    assert Report.objects.count() == 1
