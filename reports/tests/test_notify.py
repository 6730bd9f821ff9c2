"""A finished report notifies the targets its request (or its rule node, as a scheduled report sends it) names,
through the notification center's delivery (notifications/report_delivery.py); what cannot be delivered is logged
on the job and never fails it."""

import uuid
from types import SimpleNamespace

import pytest

from notifications.models import Notification, NotificationTarget
from reports import nodes
from reports.models import Report, ReportJob
from reports.tests.helpers import make_template
from rulechains.messages import Msg
from rulechains.nodes.base import ConfigError, NodeContext

PAGE = {"pageSize": 10, "page": 0}


def _target(api, user) -> str:
    res = api.post("/api/notification/target", {"name": f"Readers {uuid.uuid4().hex[:6]}", "configuration": {
        "type": "PLATFORM_USERS", "usersFilter": {"type": "USER_LIST", "usersIds": [str(user.pk)]}}}, format="json")
    assert res.status_code == 200, res.content
    return res.json()["id"]["id"]


def _template(api, methods: dict) -> str:
    res = api.post("/api/notification/template", {"name": f"Report {uuid.uuid4().hex[:6]}",
                                                  "notificationType": "REPORT_GENERATED",
                                                  "configuration": {"deliveryMethodsTemplates": methods}},
                   format="json")
    assert res.status_code == 200, res.content
    return res.json()["id"]["id"]


def _request(api, template, capture, execute=True, **extra):
    body = {"reportTemplateId": {"entityType": "REPORT_TEMPLATE", "id": str(template.pk)}, **extra}
    with capture(execute=execute):
        res = api.post("/api/v2/report/request", body, format="json")
    assert res.status_code == 200, res.content
    return res.json()["id"]["id"]


def test_a_completed_report_notifies_its_targets_in_the_inbox(api, tenant, tenant_admin,
                                                             django_capture_on_commit_callbacks):
    target = _target(api, tenant_admin)
    job = _request(api, make_template(tenant), django_capture_on_commit_callbacks, targets=[target])
    report = Report.objects.get()
    [note] = Notification.objects.filter(recipient=tenant_admin, delivery_method="WEB")
    assert note.type == "REPORT_GENERATED" and report.name in note.subject
    assert f"/api/v2/report/{report.pk}/download" in note.text
    shown = api.get(f"/api/job/{job}").json()
    assert shown["status"] == "COMPLETED" and shown["configuration"]["targets"] == [target]
    [sent] = shown["configuration"]["notificationRequests"]
    assert sent["targets"] == [target] and sent["stats"]["sent"]["WEB"] == 1
    assert shown["result"]["notificationErrors"] == []
    inbox = api.get("/api/notifications", PAGE).json()
    assert [n["subject"] for n in inbox["data"]] == [note.subject]
    from tb_pe_client.models import Job as ClientJob

    parsed = ClientJob.from_dict(shown).configuration
    assert [str(t) for t in parsed.targets] == [target] and len(parsed.notification_requests) == 1


def test_the_named_notification_template_is_used_with_the_reports_parameters(
        api, tenant, tenant_admin, django_capture_on_commit_callbacks, settings):
    settings.PUBLIC_BASE_URL = "https://tb.example.com"
    target = _target(api, tenant_admin)
    tpl = _template(api, {"WEB": {"method": "WEB", "enabled": True, "subject": "Ready: ${reportTemplateName}",
                                  "body": "${reportName} for ${recipientEmail}: ${reportLink}"}})
    _request(api, make_template(tenant), django_capture_on_commit_callbacks, targets=[target], makePublic=True,
             notificationTemplateId={"entityType": "NOTIFICATION_TEMPLATE", "id": tpl})
    report = Report.objects.get()
    [note] = Notification.objects.filter(recipient=tenant_admin)
    assert note.subject == "Ready: Energy"
    assert note.text == (f"{report.name} for {tenant_admin.email}: "
                         f"https://tb.example.com/api/v2/report/public/{report.public_key}/download")


def test_a_deleted_target_or_an_unconfigured_method_is_logged_and_the_report_completes(
        api, tenant, tenant_admin, django_capture_on_commit_callbacks):
    gone = _target(api, tenant_admin)
    template = make_template(tenant)
    job = _request(api, template, django_capture_on_commit_callbacks, execute=False, targets=[gone])
    NotificationTarget.objects.filter(pk=gone).delete()
    with django_capture_on_commit_callbacks(execute=True):
        from reports import services

        services.run_job(job)
    done = ReportJob.objects.get(pk=job)
    assert done.status == "COMPLETED" and done.report is not None and not Notification.objects.exists()
    assert done.notification_errors == [f"Notification target with id [{gone}] is not found"]
    assert api.get(f"/api/job/{job}").json()["result"]["notificationErrors"] == done.notification_errors

    sms = _template(api, {"SMS": {"method": "SMS", "enabled": True, "body": "${reportName}"}})
    job = _request(api, template, django_capture_on_commit_callbacks, targets=[_target(api, tenant_admin)],
                   notificationTemplateId=sms)
    done = ReportJob.objects.get(pk=job)
    assert done.status == "COMPLETED" and "not configured" in done.notification_errors[0]


@pytest.mark.parametrize("extra, message", [
    ({"targets": "all"}, "targets must be a list"),
    ({"targets": ["nope"]}, "targets is not a valid id"),
    ({"targets": [str(uuid.uuid4())] * 101}, "at most 100"),
    ({"notificationTemplateId": {"id": "nope"}}, "notificationTemplateId is not a valid id"),
])
def test_bad_notification_options_are_400_and_queue_nothing(api, tenant, extra, message):
    body = {"reportTemplateId": str(make_template(tenant).pk), **extra}
    res = api.post("/api/v2/report/request", body, format="json")
    assert res.status_code == 400 and message in res.json()["message"] and not ReportJob.objects.exists()


def test_a_customer_user_cannot_name_targets(customer_api, customer, tenant):
    template = make_template(tenant, customer=customer)
    res = customer_api.post("/api/v2/report/request", {"reportTemplateId": str(template.pk),
                                                       "targets": [str(uuid.uuid4())]}, format="json")
    assert res.status_code == 403 and not ReportJob.objects.exists()


def test_the_rule_node_runs_a_listed_job_that_notifies(api, tenant, tenant_admin):
    target = _target(api, tenant_admin)
    template = make_template(tenant)
    config = {"reportTemplateId": str(template.pk), "userId": str(tenant_admin.pk), "targets": [target]}
    with pytest.raises(ConfigError):
        nodes.GenerateReportNode.clean_config({"useConfigFromMessage": False, "config": {**config, "targets": [1]}})
    node = nodes.GenerateReportNode(SimpleNamespace(pk=uuid.uuid4(), name="n", tenant_id=tenant.pk,
                                                    configuration={"useConfigFromMessage": True}))
    msg = Msg("generateReport", tenant.pk, "TENANT", tenant.pk, config, {})
    [out] = node.process_batch(NodeContext(tenant.pk, 0), [msg])[0]
    report = Report.objects.get()
    assert out.relation == "Success" and out.msg.metadata["reports"] == str(report.pk)
    assert Notification.objects.filter(recipient=tenant_admin, type="REPORT_GENERATED").count() == 1
    [job] = api.get("/api/jobs", {**PAGE, "types": "REPORT"}).json()["data"]
    assert job["status"] == "COMPLETED" and job["configuration"]["originator"]["entityType"] == "TENANT"
