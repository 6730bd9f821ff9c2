"""ThingsBoard's JSON of reporting (tb-pe-client models ReportTemplate(Info), Report(Info), Job,
BlobEntityInfo / BlobEntityWithCustomerInfo, ScheduledReportInfo): plain functions of a row."""

from reports.models import BlobEntity, Report, ReportJob, ReportTemplate
from tbproject.api.ids import entity_id

__all__ = ["template_info", "template_full", "report", "report_info", "job", "blob_info", "blob_with_customer",
           "owner_of"]


def owner_of(row) -> dict:
    return entity_id("CUSTOMER", row.customer_id) if row.customer_id else entity_id("TENANT", row.tenant_id)


def _customer(row) -> dict:
    return entity_id("CUSTOMER", row.customer_id)


def template_info(t: ReportTemplate) -> dict:
    return {"id": entity_id("REPORT_TEMPLATE", t.pk), "createdTime": t.created_time,
            "tenantId": entity_id("TENANT", t.tenant_id), "customerId": _customer(t), "name": t.name,
            "format": t.format, "type": t.type, "description": t.description or None, "version": t.version,
            "ownerName": t.customer.title if t.customer_id else None, "ownerId": owner_of(t)}


def template_full(t: ReportTemplate) -> dict:
    data = template_info(t)
    data.pop("ownerName")
    return {**data, "configuration": t.configuration}


def report(r: Report) -> dict:
    return {"id": entity_id("REPORT", r.pk), "createdTime": r.created_time,
            "tenantId": entity_id("TENANT", r.tenant_id), "customerId": _customer(r),
            "templateId": entity_id("REPORT_TEMPLATE", r.template_ref or r.template_id),
            "format": r.format, "name": r.name, "userId": entity_id("USER", r.user_id),
            "publicKey": r.public_key if r.public else None, "ownerId": owner_of(r), "public": r.public}


def report_info(r: Report) -> dict:
    user = r.user
    return {**report(r),
            "templateInfo": {"id": entity_id("REPORT_TEMPLATE", r.template_id), "name": r.template.name}
            if r.template_id else None,
            "customerTitle": r.customer.title if r.customer_id else None,
            "userName": user.email if user else None}


def job(j: ReportJob) -> dict:
    """ThingsBoard's Job of type REPORT (ReportJobConfiguration, ReportJobResult); ``j`` with its template and
    report selected (the report's ``data`` may be deferred). ``result.notificationErrors``: ours, what went wrong
    notifying the targets."""
    c = j.configuration
    result = {"jobType": "REPORT", "successfulCount": int(j.status == "COMPLETED"),
              "failedCount": int(j.status == "FAILED"), "discardedCount": 0, "totalCount": 1, "results": [],
              "generalError": j.error or None, "startTs": j.start_ts, "finishTs": j.finish_ts,
              "cancellationTs": j.cancellation_ts, "report": report(j.report) if j.report_id else None,
              "notificationErrors": j.notification_errors or []}
    template_id = c.get("notificationTemplateId")
    configuration = {"type": "REPORT", "tasksKey": j.key, "toReprocess": None, "timezone": c.get("timezone"),
                     "makePublic": c.get("makePublic", False),
                     "reportTemplateId": entity_id("REPORT_TEMPLATE", c.get("reportTemplateId")),
                     "userId": entity_id("USER", c.get("userId")), "targets": c.get("targets") or [],
                     "notificationTemplateId": entity_id("NOTIFICATION_TEMPLATE", template_id) if template_id
                     else None, "notificationRequests": c.get("notificationRequests") or []}
    for key in ("originator", "ruleNode", "schedulerEventInfo"):
        if c.get(key) is not None:
            configuration[key] = c[key]
    return {"id": entity_id("JOB", j.pk), "createdTime": j.created_time, "tenantId": entity_id("TENANT", j.tenant_id),
            "customerId": _customer(j), "type": "REPORT", "key": j.key,
            "entityId": entity_id("REPORT_TEMPLATE", c.get("reportTemplateId")),
            "entityName": j.template.name if j.template_id else None, "status": j.status,
            "configuration": configuration, "result": result, "ownerId": owner_of(j)}


def blob_info(b: BlobEntity) -> dict:
    return {"id": entity_id("BLOB_ENTITY", b.pk), "createdTime": b.created_time, "additionalInfo": b.additional_info,
            "tenantId": entity_id("TENANT", b.tenant_id), "customerId": _customer(b), "name": b.name,
            "type": b.type, "contentType": b.content_type, "ownerId": owner_of(b)}


def blob_with_customer(b: BlobEntity) -> dict:
    return {**blob_info(b), "customerTitle": b.customer.title if b.customer_id else None, "customerIsPublic": False}
