"""Reporting's hardening: rights on the renderer's pages and on ``userId``, the template config kept
server-side (not in the page URL), limits on renders, jobs and uploads, stuck jobs, the renderer's
request filter and the pages' CSP, template components of other tenants, CSV formula cells, fresh public
keys. The renderer is a stand-in that fetches the page with the Django test client as the report's user
(the real Chromium render: test_render.py)."""

import csv
import io
import json
import logging
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from dashboards.models import Dashboard
from devices.models import EntityGroup
from reports import rendering, services
from reports.choices import JobStatus
from reports.models import Report, ReportJob
from reports.tests.helpers import PDF_CONFIG, make_template
from roles.models import GroupPermission, Role
from tbproject.clock import now_ms
from tbproject.periodic import JOBS
from tbproject.testing.fixtures import api_as
from tenants.choices import Authority
from tenants.models import User

NO = "You don't have permission to perform this operation!"


def _restricted(tenant, email, permissions):
    user = User.objects.create_user(email, authority=Authority.TENANT_ADMIN, tenant=tenant)
    EntityGroup.objects.get(tenant=tenant, type="USER", name="Tenant Administrators").users.remove(user)
    group = EntityGroup.objects.create(tenant=tenant, type="USER", name=f"Group of {email}")
    group.users.add(user)
    role = Role.objects.create(tenant=tenant, name=f"Role of {email}", type="GENERIC", permissions=permissions)
    GroupPermission.objects.create(tenant=tenant, role=role, user_group=group)
    return user


@pytest.fixture
def reporter(tenant):
    """A tenant administrator whose role makes reports and reads report templates, nothing else."""
    return _restricted(tenant, "reporter@example.com", {"REPORT": ["READ", "WRITE"], "REPORT_TEMPLATE": ["READ"]})


@pytest.fixture
def board(tenant):
    return Dashboard.objects.create(tenant=tenant, title="Secret plant", configuration_text=(
        '{"widgets": {"w": {"typeFullFqn": "system.cards.value", "config": {"title": "Secret widget"}}}}'))


@pytest.fixture
def pages(monkeypatch):
    """The renderer's stand-in: GETs the page as the report's user (the real renderer logs in with that
    user's token) and answers its HTML; records (path, user, response)."""
    seen = []

    def fake(path, user, kind):
        response = api_as(user).get(path)
        seen.append((path, user, response))
        if response.status_code != 200:
            raise rendering.ReportServerError(f"page answered {response.status_code}")
        return response.content

    monkeypatch.setattr(rendering, "render", fake)
    return seen


def _with_board(board, **extra):
    return {**PDF_CONFIG, **extra, "components": [
        *PDF_CONFIG["components"], {"type": "DASHBOARD", "subType": "default", "dashboardId": str(board.pk)}]}


def _test_report(client, config, **extra):
    return client.post("/api/v2/report/test", {"reportTemplateConfig": config, **extra}, format="json")


# 1 -------------------------------------------------------------------------------------------------
def test_the_report_page_hides_dashboards_the_users_role_cannot_read(api, reporter, board, pages):
    res = _test_report(api_as(reporter), _with_board(board))
    assert res.status_code == 200, res.content
    assert b"Dashboard not found" in res.content and b"Secret" not in res.content
    res = _test_report(api, _with_board(board))
    assert b"Secret plant" in res.content and b"Secret widget" in res.content


def test_a_customer_user_sees_a_shared_dashboard_only_when_its_group_role_reads(customer_user, customer, tenant,
                                                                               board, pages):
    readable = Dashboard.objects.create(tenant=tenant, title="Open plant")
    users = EntityGroup.objects.get(customer=customer, type="USER", name="Customer Users")
    for dashboard, ops in ((board, ["WRITE"]), (readable, ["READ"])):
        group = EntityGroup.objects.create(tenant=tenant, type="DASHBOARD", name=f"Boards {ops[0]}")
        dashboard.groups.add(group)
        role = Role.objects.create(tenant=tenant, name=f"Boards {ops[0]}", type="GROUP", permissions=ops)
        GroupPermission.objects.create(tenant=tenant, role=role, user_group=users, entity_group=group)
    config = {**_with_board(board), "components": [*_with_board(board)["components"], {
        "type": "DASHBOARD", "dashboardId": {"entityType": "DASHBOARD", "id": str(readable.pk)}}]}
    res = _test_report(api_as(customer_user), config)
    assert res.status_code == 200, res.content
    assert b"Dashboard not found" in res.content and b"Secret" not in res.content and b"Open plant" in res.content


# 2 -------------------------------------------------------------------------------------------------
def test_a_restricted_admin_may_name_only_itself_as_the_reports_user(api, reporter, tenant, tenant_admin, board,
                                                                      pages, django_capture_on_commit_callbacks):
    c = api_as(reporter)
    other = {"entityType": "USER", "id": str(tenant_admin.pk)}
    csv = {"format": "CSV", "components": []}
    assert _test_report(c, csv, userId=other).status_code == 403
    template = make_template(tenant)
    body = {"reportTemplateId": str(template.pk), "userId": other}
    res = c.post("/api/v2/report/request", body, format="json")
    assert res.status_code == 403 and res.json()["message"] == NO and not ReportJob.objects.exists()
    # even with USER READ: a restricted administrator cannot act as a fuller one
    user_reader = _restricted(tenant, "users@example.com", {"REPORT": ["READ"], "USER": ["READ"],
                                                             "REPORT_TEMPLATE": ["READ"]})
    assert _test_report(api_as(user_reader), csv, userId=other).status_code == 403
    assert _test_report(c, csv, userId={"entityType": "USER", "id": str(reporter.pk)}).status_code == 200
    # a full administrator may name any user of its tenant
    assert _test_report(api, csv, userId={"entityType": "USER", "id": str(reporter.pk)}).status_code == 200


# 3 -------------------------------------------------------------------------------------------------
def test_the_template_config_stays_on_the_server_and_its_key_serves_once(api, reporter, pages):
    big = {**PDF_CONFIG, "components": [{"type": "RICH_TEXT", "text": f"line {i} " + "x" * 200} for i in range(150)]}
    assert len(json.dumps(big)) > 30_000
    res = _test_report(api, big)
    assert res.status_code == 200 and b"line 149" in res.content
    path, user, _ = pages[-1]
    assert len(path) < 300 and "x" * 50 not in path
    assert api_as(user).get(path).status_code == 404  # single-use
    _test_report(api, PDF_CONFIG)
    path = pages[-1][0]
    assert api_as(reporter).get(path).status_code == 404  # the key is the report user's only
    assert api.get("/reports/view/report?k=nope").status_code == 404


def test_logged_render_urls_are_short(tenant_admin, monkeypatch, caplog):
    import playwright.sync_api

    def broken():
        raise playwright.sync_api.Error("boom")

    monkeypatch.setattr(rendering, "available", lambda: True)
    monkeypatch.setattr(playwright.sync_api, "sync_playwright", broken)
    with caplog.at_level(logging.WARNING, logger="reports.rendering"):
        with pytest.raises(rendering.ReportServerError):
            rendering.render("/reports/view/report?c=" + "A" * 5000, tenant_admin, "PDF")
    assert caplog.records and all(len(r.getMessage()) < 400 for r in caplog.records)


# 4 -------------------------------------------------------------------------------------------------
def test_renders_beyond_the_concurrency_cap_answer_503(api, tenant_admin, settings, monkeypatch):
    settings.REPORTS_MAX_CONCURRENT = 1
    settings.REPORTS_SLOT_WAIT_SECONDS = 0
    monkeypatch.setattr(rendering, "available", lambda: True)
    with rendering.slot():
        res = _test_report(api, PDF_CONFIG)
    assert res.status_code == 503 and "busy" in res.json()["message"] and res.json()["errorCode"] == 2


def test_queued_jobs_per_tenant_are_capped(api, tenant, settings, django_capture_on_commit_callbacks):
    settings.REPORTS_MAX_JOBS_PER_TENANT = 2
    template = make_template(tenant)
    for status in (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.COMPLETED):
        ReportJob.objects.create(tenant=tenant, template=template, key=status, status=status)
    res = api.post("/api/v2/report/request", {"reportTemplateId": str(template.pk)}, format="json")
    assert res.status_code == 429 and "Too many report jobs" in res.json()["message"]
    assert ReportJob.objects.count() == 3


def test_uploads_are_capped_by_the_setting(api, settings):
    settings.REPORTS_MAX_UPLOAD_BYTES = 8
    info = json.dumps({"name": "big.pdf", "format": "PDF"})
    res = api.post("/api/v2/report", {"file": SimpleUploadedFile("b.pdf", b"%PDF-1.7 too big"), "info": info},
                   format="multipart")
    assert res.status_code == 400 and "too large" in res.json()["message"] and not Report.objects.exists()


# 5 -------------------------------------------------------------------------------------------------
def test_an_unexpected_error_fails_the_job_and_stuck_jobs_are_swept(api, tenant, monkeypatch, caplog,
                                                                    django_capture_on_commit_callbacks):
    def crash(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(services, "generate", crash)
    template = make_template(tenant)
    with django_capture_on_commit_callbacks(execute=True):
        job = api.post("/api/v2/report/request", {"reportTemplateId": str(template.pk)}, format="json").json()
    failed = ReportJob.objects.get(pk=job["id"]["id"])
    assert failed.status == JobStatus.FAILED and failed.error and "secret" not in failed.error
    assert failed.finish_ts is not None
    from reports.tasks import sweep_stuck_jobs

    old = ReportJob.objects.create(tenant=tenant, template=template, key="old", status=JobStatus.RUNNING,
                                   start_ts=now_ms() - 3_600_000)
    new = ReportJob.objects.create(tenant=tenant, template=template, key="new", status=JobStatus.RUNNING,
                                   start_ts=now_ms())
    sweep_stuck_jobs()
    assert ReportJob.objects.get(pk=old.pk).status == JobStatus.FAILED
    assert ReportJob.objects.get(pk=new.pk).status == JobStatus.RUNNING
    assert "reports.tasks.sweep_stuck_jobs" in {job.path for job in JOBS}


# 6 -------------------------------------------------------------------------------------------------
def test_the_renderer_sends_its_token_only_to_this_server_never_on_redirects():
    handler = rendering.request_filter("http://127.0.0.1:8080", {"X-Authorization": "Bearer t"})

    def route(url, redirected_from=None):
        calls = []
        request = SimpleNamespace(url=url, redirected_from=redirected_from, headers={"accept": "*/*"})
        handler(SimpleNamespace(request=request, abort=lambda *a: calls.append("abort"),
                                continue_=lambda **kw: calls.append(kw)))
        return calls

    assert route("http://127.0.0.1:8080/reports/view/report?k=1") == [
        {"headers": {"accept": "*/*", "X-Authorization": "Bearer t"}}]
    assert route("http://evil.example/x") == ["abort"]
    assert route("http://127.0.0.1:8080/x", redirected_from=SimpleNamespace(url="http://127.0.0.1:8080/y")) == [
        "abort"]


def test_the_report_pages_forbid_scripts_and_other_origins(api, board):
    page = api.get(f"/reports/view/dashboard/{board.pk}")
    assert page.status_code == 200
    assert page["Content-Security-Policy"] == "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:"


# 7 -------------------------------------------------------------------------------------------------
def test_a_template_cannot_name_another_tenants_dashboard(api, mallory, board):
    theirs = Dashboard.objects.create(tenant=mallory.tenant, title="Mallory's")
    body = {"name": "T", "format": "PDF", "type": "REPORT", "configuration": _with_board(theirs)}
    res = api.post("/api/reportTemplate", body, format="json")
    assert res.status_code == 404 and res.json()["errorCode"] == 32 and str(theirs.pk) in res.json()["message"]
    assert api.post("/api/reportTemplate", {**body, "configuration": _with_board(board)}, format="json").status_code \
        == 200


# 8 -------------------------------------------------------------------------------------------------
def test_csv_cells_cannot_start_a_formula(api):
    texts = ["=HYPERLINK(\"http://evil\")", "+1", "-2", "@SUM(A1)", "\tx", "\rx", "plain"]
    config = {"format": "CSV", "components": [{"type": "RICH_TEXT", "text": t} for t in texts]}
    res = api.post("/api/v2/report/test", {"reportTemplateConfig": config}, format="json")
    rows = list(csv.reader(io.StringIO(res.content.decode())))
    assert [r[1] for r in rows[2:]] == ["'" + t for t in texts[:-1]] + ["plain"]


def test_making_a_report_public_again_issues_a_new_key(api, tenant, tenant_admin, anon):
    report = Report.objects.create(tenant=tenant, user=tenant_admin, name="r.csv", format="CSV",
                                   content_type="text/csv", data=b"a")
    first = api.put(f"/api/v2/report/{report.pk}/public/true").json()["publicKey"]
    api.put(f"/api/v2/report/{report.pk}/public/false")
    second = api.put(f"/api/v2/report/{report.pk}/public/true").json()["publicKey"]
    assert second and second != first
    assert anon.get(f"/api/v2/report/public/{first}/download").status_code == 404
    assert anon.get(f"/api/v2/report/public/{second}/download").status_code == 200
    # public/true while already public keeps the key
    assert api.put(f"/api/v2/report/{report.pk}/public/true").json()["publicKey"] == second
