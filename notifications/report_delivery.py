"""A finished report's notification (reports.signals.report_ready): the report job's ``targets`` get its
``notificationTemplateId`` (a template of the job's tenant), or, without one, :func:`default_template`
(type REPORT_GENERATED: the web inbox and e-mail, "Report generated" with the report's name and a button
to download it). Delivery is the notification center's own (sending.submit): each method of the template
to each recipient of each target.

Template parameters: ``reportName``, ``reportLink`` (the download address: the public link of a public
report, else ``/api/v2/report/{id}/download`` behind a login; under the base URL of the general settings or
PUBLIC_BASE_URL), ``reportId``, ``reportTemplateName``, ``userEmail`` (whose view the report shows).

The answer (reports/jobs.py keeps it on the job): ``requests`` (NotificationRequest JSON) and ``errors``: a
target or template no longer there, a delivery method that failed or is not configured (SMS without a
provider, the mobile app). Nothing here raises into the report job.

At request time reporting asks :func:`missing` whether the ids a request names are the tenant's (404 if not).
"""

import logging

from notifications import sending
from notifications.models import NotificationRequest, NotificationTarget, NotificationTemplate
from notifications.shapes import request_json, template_json

__all__ = ["connect", "deliver", "default_template", "missing", "KIND"]

log = logging.getLogger(__name__)

KIND = "REPORT_GENERATED"
_SUBJECT = "Report generated: ${reportName}"
_BODY = "Report ${reportName} is ready. Download it: ${reportLink}"
_MAIL = '<p>Report <b>${reportName}</b> is ready.</p><p><a href="${reportLink}">Download</a></p>'


def default_template(link: str) -> dict:
    """The plain template of a report without a notification template (the inbox keeps additionalConfig as
    written: the button's link is filled in here)."""
    return {"id": None, "name": "Report generated", "notificationType": KIND, "configuration": {
        "deliveryMethodsTemplates": {
            "WEB": {"method": "WEB", "enabled": True, "subject": _SUBJECT, "body": _BODY, "additionalConfig": {
                "icon": {"enabled": True, "icon": "description", "color": "#305680"},
                "actionButtonConfig": {"enabled": True, "text": "Download", "linkType": "LINK", "link": link}}},
            "EMAIL": {"method": "EMAIL", "enabled": True, "subject": _SUBJECT, "body": _MAIL}}}}


def _errors_of(stats: dict | None) -> list[str]:
    found = []
    for method, by_recipient in ((stats or {}).get("errors") or {}).items():
        found += [f"{method} to {who}: {error}" for who, error in (by_recipient or {}).items()]
    if (stats or {}).get("error"):
        found.append(str(stats["error"]))
    return found


def deliver(sender, job, report, params: dict, **kwargs) -> dict:
    config = job.configuration or {}
    ids = [str(t) for t in config.get("targets") or []]
    errors = []
    found = {str(t.pk): t for t in NotificationTarget.objects.filter(tenant_id=job.tenant_id, pk__in=ids)}
    for missing in (i for i in ids if i not in found):
        errors.append(f"Notification target with id [{missing}] is not found")
    targets = [found[i] for i in ids if i in found]
    ref = None
    if config.get("notificationTemplateId"):
        ref = NotificationTemplate.objects.filter(tenant_id=job.tenant_id, pk=config["notificationTemplateId"]).first()
        if ref is None:
            errors.append(f"Notification template with id [{config['notificationTemplateId']}] is not found; "
                          "the default one was sent")
    if not targets:
        return {"requests": [], "errors": errors or ["No notification target to notify"]}
    template = template_json(ref) if ref is not None else default_template(params.get("reportLink") or "")
    info = {"type": KIND, "reportId": params.get("reportId"), "reportName": params.get("reportName")}
    try:
        request = sending.submit(job.tenant_id, targets, template, template_ref=ref, info=info,
                                 originator=("REPORT", report.pk), context={"params": params})
    except Exception as e:
        log.exception("report job %s: sending its notification failed", job.pk)
        return {"requests": [], "errors": [*errors, f"Failed to send the notification: {type(e).__name__}"]}
    # what the delivery methods did, e-mails included when their task ran already (in-process, embedded)
    request.stats = NotificationRequest.objects.filter(pk=request.pk).values_list("stats", flat=True).first() \
        or request.stats
    return {"requests": [request_json(request)], "errors": [*errors, *_errors_of(request.stats)]}


def missing(tenant_id, target_ids: list[str], template_id: str | None) -> str | None:
    """The message of the first of ``target_ids`` (then ``template_id``) that is not the tenant's; None when all are."""
    found = {str(pk) for pk in NotificationTarget.objects.filter(tenant_id=tenant_id, pk__in=target_ids)
             .values_list("pk", flat=True)} if target_ids else set()
    for pk in target_ids:
        if str(pk) not in found:
            return f"Notification target with id [{pk}] is not found"
    if template_id and not NotificationTemplate.objects.filter(tenant_id=tenant_id, pk=template_id).exists():
        return f"Notification template with id [{template_id}] is not found"
    return None


def connect() -> None:
    from reports.signals import answer_missing_refs, report_ready

    report_ready.connect(deliver, dispatch_uid="notifications.report_ready")
    answer_missing_refs(missing)
