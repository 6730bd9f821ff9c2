"""Report jobs: customer users in the job API (their customer's report jobs only), the jobs' index and cleanup,
a job deleted while it renders, notification targets and templates checked at request time, the notify right on
a scheduled report, and the report link without a request."""

import uuid

import pytest

from calculated.models import Job
from devices.models import EntityGroup
from reports import jobs, services
from reports.models import Report, ReportJob
from reports.tests.helpers import make_template
from roles.models import GroupPermission, Role
from scheduler.models import SchedulerEvent
from tbproject.clock import now_ms
from tbproject.periodic import JOBS, beat_schedule
from tbproject.testing.fixtures import api_as
from tenants.choices import Authority
from tenants.models import Customer, User
from tenants.system import admin_settings

PAGE = {"pageSize": 10, "page": 0}
DAY = 86_400_000


def _target(api, user) -> str:
    res = api.post("/api/notification/target", {"name": f"Readers {uuid.uuid4().hex[:6]}", "configuration": {
        "type": "PLATFORM_USERS", "usersFilter": {"type": "USER_LIST", "usersIds": [str(user.pk)]}}}, format="json")
    assert res.status_code == 200, res.content
    return res.json()["id"]["id"]


def _job(tenant, customer=None, status="FAILED", key="k", created=None, **extra) -> ReportJob:
    job = ReportJob.objects.create(tenant=tenant, customer=customer, template=make_template(tenant, name=key),
                                   key=key, status=status, **extra)
    if created is not None:
        ReportJob.objects.filter(pk=job.pk).update(created_time=created)
    return job


# --- 1. customer users in the job API -----------------------------------------------------------------
def test_a_customer_user_lists_and_manages_only_its_customers_report_jobs(
        customer_api, customer_user, tenant, django_capture_on_commit_callbacks):
    mine = customer_user.customer
    other = Customer.objects.create(tenant=tenant, title="Other customer")
    tenants_job, others_job = _job(tenant, key="tenant"), _job(tenant, other, key="other")
    own_failed = _job(tenant, mine, key="own")
    field = uuid.uuid4()
    cf = Job.objects.create(tenant=tenant, key=str(field), entity_id=field, entity_name="Zeta", status="FAILED",
                            configuration={"type": "CF_REPROCESSING"}, result={"jobType": "CF_REPROCESSING"})
    with django_capture_on_commit_callbacks(execute=False):
        res = customer_api.post("/api/v2/report/request",
                                {"reportTemplateId": str(make_template(tenant, name="Mine", customer=mine).pk)},
                                format="json")
    assert res.status_code == 200, res.content
    queued = res.json()["id"]["id"]

    def listed(**params) -> set[str]:
        page = customer_api.get("/api/jobs", {**PAGE, **params})
        assert page.status_code == 200, page.content
        return {j["id"]["id"] for j in page.json()["data"]}

    assert listed() == listed(includeCustomers="true") == {str(own_failed.pk), queued}
    assert listed(types="CF_REPROCESSING") == set() and listed(textSearch="Zeta") == set()
    for foreign in (tenants_job.pk, others_job.pk, cf.pk):
        assert customer_api.get(f"/api/job/{foreign}").status_code == 404
        assert customer_api.post(f"/api/job/{foreign}/cancel").status_code == 404
        assert customer_api.post(f"/api/job/{foreign}/reprocess").status_code == 404
        assert customer_api.delete(f"/api/job/{foreign}").status_code == 404
    assert {j.status for j in ReportJob.objects.exclude(pk__in=[own_failed.pk, queued])} == {"FAILED"}
    assert customer_api.get(f"/api/job/{queued}").json()["status"] == "QUEUED"
    assert customer_api.post(f"/api/job/{queued}/cancel").status_code == 200
    assert customer_api.delete(f"/api/job/{queued}").status_code == 200
    with django_capture_on_commit_callbacks(execute=False):
        assert customer_api.post(f"/api/job/{own_failed.pk}/reprocess").status_code == 200
    assert ReportJob.objects.get(pk=own_failed.pk).status == "QUEUED"
    # a calculated field's reprocessing stays the tenant administrator's
    assert customer_api.get(f"/api/calculatedField/{field}/reprocess/job").status_code == 403


# --- 2. the jobs' index and their cleanup ---------------------------------------------------------------
def test_report_jobs_are_indexed_by_tenant_and_creation_time():
    assert ["tenant", "created_time"] in [list(i.fields) for i in ReportJob._meta.indexes]


def test_finished_report_jobs_past_their_ttl_are_removed(tenant, settings):
    settings.REPORTS_JOBS_TTL_DAYS = 7
    now = now_ms()
    old = {s: _job(tenant, status=s, key=f"old-{s}", created=now - 8 * DAY)
           for s in ("COMPLETED", "FAILED", "CANCELLED", "QUEUED", "RUNNING")}
    recent = _job(tenant, status="COMPLETED", key="recent", created=now - 6 * DAY)
    report = Report.objects.create(tenant=tenant, name="r.csv", data=b"x")
    ReportJob.objects.filter(pk=old["COMPLETED"].pk).update(report=report)
    assert jobs.remove_expired_jobs(now) == 3
    assert set(ReportJob.objects.values_list("pk", flat=True)) == {old["QUEUED"].pk, old["RUNNING"].pk, recent.pk}
    assert Report.objects.filter(pk=report.pk).exists()  # the report a job made stays
    settings.REPORTS_JOBS_TTL_DAYS = 0  # kept forever
    assert jobs.remove_expired_jobs(now + 100 * DAY) == 0 and ReportJob.objects.count() == 3


def test_the_cleanup_is_a_periodic_job():
    from reports.tasks import remove_expired_jobs

    path = "reports.tasks.remove_expired_jobs"
    assert path in {j.path for j in JOBS} and beat_schedule()[path]["task"] == remove_expired_jobs.name == path


# --- 3. a job deleted while it renders ------------------------------------------------------------------
def test_a_job_deleted_while_it_renders_ends_quietly(api, tenant, tenant_admin, monkeypatch,
                                                     django_capture_on_commit_callbacks):
    real = services.generate

    def deleted_meanwhile(user, template, *args):
        ReportJob.objects.all().delete()
        return real(user, template, *args)

    with django_capture_on_commit_callbacks(execute=False):
        job = api.post("/api/v2/report/request", {"reportTemplateId": str(make_template(tenant).pk)},
                       format="json").json()["id"]["id"]
    monkeypatch.setattr(services, "generate", deleted_meanwhile)
    assert services.run_job(job) is None
    assert not ReportJob.objects.exists() and not Report.objects.exists()
    # the rule node's run: no job to answer either
    assert jobs.run_now(make_template(tenant, name="Node"), tenant_admin, "UTC", False, {"targets": []}) is None
    assert not ReportJob.objects.exists() and not Report.objects.exists()


def test_a_job_that_became_active_since_it_was_read_is_not_deleted(tenant):
    job = _job(tenant, status="FAILED")
    ReportJob.objects.filter(pk=job.pk).update(status="QUEUED")  # reprocessed meanwhile
    with pytest.raises(jobs.JobError):
        jobs.delete(job)
    assert ReportJob.objects.filter(pk=job.pk).exists()


# --- 4. targets and templates checked at request time -------------------------------------------------
def test_a_target_or_template_not_of_the_tenant_is_404_at_request_time(api, mallory_api, mallory, tenant,
                                                                       tenant_admin):
    template = str(make_template(tenant).pk)
    theirs = _target(mallory_api, mallory)
    their_template = mallory_api.post("/api/notification/template", {
        "name": "Theirs", "notificationType": "REPORT_GENERATED", "configuration": {"deliveryMethodsTemplates": {
            "WEB": {"method": "WEB", "enabled": True, "subject": "s", "body": "b"}}}}, format="json").json()["id"]["id"]
    mine = _target(api, tenant_admin)
    for extra in ({"targets": [theirs]}, {"targets": [mine, str(uuid.uuid4())]},
                  {"targets": [mine], "notificationTemplateId": their_template},
                  {"targets": [mine], "notificationTemplateId": str(uuid.uuid4())}):
        res = api.post("/api/v2/report/request", {"reportTemplateId": template, **extra}, format="json")
        assert res.status_code == 404 and "is not found" in res.json()["message"], extra
    assert not ReportJob.objects.exists()


# --- 5. the notify right on a scheduled report; the link without a request ------------------------------
@pytest.fixture
def scheduler_only(tenant):
    """A tenant administrator whose role writes scheduler events, and no notifications."""
    user = User.objects.create_user("planner@example.com", authority=Authority.TENANT_ADMIN, tenant=tenant)
    EntityGroup.objects.get(tenant=tenant, type="USER", name="Tenant Administrators").users.remove(user)
    group = EntityGroup.objects.create(tenant=tenant, type="USER", name="Planners")
    group.users.add(user)
    role = Role.objects.create(tenant=tenant, name="Planner", type="GENERIC",
                               permissions={"SCHEDULER_EVENT": ["ALL"], "REPORT_TEMPLATE": ["ALL"]})
    GroupPermission.objects.create(tenant=tenant, role=role, user_group=group)
    return user


def _event(template, user, **body) -> dict:
    return {"name": "Monthly", "type": "generateReport", "schedule": {"timezone": "UTC", "startTime": now_ms() + DAY},
            "configuration": {"msgType": "generateReport", "msgBody": {
                "reportTemplateId": str(template.pk), "userId": str(user.pk), **body}}}


def test_a_scheduled_report_naming_targets_needs_the_notify_right(api, tenant, tenant_admin, scheduler_only):
    template, target = make_template(tenant), _target(api, tenant_admin)
    planner = api_as(scheduler_only)
    assert planner.post("/api/schedulerEvent", _event(template, scheduler_only), format="json").status_code == 200
    res = planner.post("/api/schedulerEvent", _event(template, scheduler_only, targets=[target]), format="json")
    assert res.status_code == 403 and SchedulerEvent.objects.count() == 1
    assert api.post("/api/schedulerEvent", _event(template, tenant_admin, targets=[str(uuid.uuid4())]),
                    format="json").status_code == 404
    assert api.post("/api/schedulerEvent", _event(template, tenant_admin, targets="all"),
                    format="json").status_code == 400
    assert api.post("/api/schedulerEvent", _event(template, tenant_admin, targets=[target]),
                    format="json").status_code == 200
    assert SchedulerEvent.objects.count() == 2


def test_the_report_link_without_a_request_starts_with_the_general_base_url(tenant, settings):
    settings.PUBLIC_BASE_URL = ""
    report = Report.objects.create(tenant=tenant, name="r.csv", data=b"x")
    assert jobs._link(report) == f"http://localhost:8080/api/v2/report/{report.pk}/download"  # ThingsBoard's default
    admin_settings.save({"key": "general", "jsonValue": {"baseUrl": "https://tb.example.com/",
                                                         "prohibitDifferentUrl": False}})
    assert jobs._link(report) == f"https://tb.example.com/api/v2/report/{report.pk}/download"
    settings.PUBLIC_BASE_URL = "https://public.example.com"
    assert jobs._link(report).startswith("https://public.example.com/")
