"""Reporting workflows; views, tasks and rule nodes only adapt these.

    dashboard_report(user, dashboard_id, config) -> (name, content_type, bytes)   # /api/report/..., rule node
    report_file(user, config, tz, title) -> (name, content_type, bytes)          # a template's file
    generate(user, template, tz, make_public) -> Report                          # stored report
    request_job(request, data) -> ReportJob; run_job(job_id)                     # off the request thread (jobs.py)
    sweep_stuck_jobs()                                                           # RUNNING too long -> FAILED
    check_notify_options(request, data); check_scheduled_report(request, configuration)   # targets: 400/403/404

Input errors are DRF ValidationError (400) and NotFound (404, also for another tenant's ids);
rendering errors are reports.rendering.ReportServerError.

A template's configuration never travels in the page URL: :func:`report_file` keeps it in the cache under a
random single-use key (REPORT_KEY_SECONDS) bound to the report's user, and the page takes ``?k=<key>``.
"""

import csv
import io
import secrets
import uuid
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError

from dashboards.models import Dashboard
from reports import naming, rendering
from reports.choices import BLOB_TYPE_REPORT, CONTENT_TYPES, DASHBOARD_TYPES, ReportFormat
from reports.models import BlobEntity, Report, ReportJob, ReportTemplate
from roles.enforcement import NO_PERMISSION, allows
from roles.rights import rights_of
from tbproject.api.ids import parse_uuid
from tbproject.clock import now_ms
from tenants.choices import Authority

__all__ = ["dashboard_report", "check_dashboard_config", "check_template_config", "check_dashboards", "report_file",
           "generate", "request_job", "run_job", "sweep_stuck_jobs", "save_blob", "visible_user", "keep_config",
           "take_config", "csv_cell", "check_notify_options", "check_scheduled_report"]


def _id_of(value, what: str):
    raw = value.get("id") if isinstance(value, dict) else value
    if raw in (None, ""):
        raise ValidationError(f"{what} should be specified!")
    return parse_uuid(raw, what)


def _zone_name(value) -> str:
    if value in (None, ""):
        return "UTC"
    if not isinstance(value, str):
        raise ValidationError("timezone must be a string")
    try:
        naming.zone(value)
    except naming.BadZone as e:
        raise ValidationError(str(e)) from None
    return value


def _full_rights(user) -> bool:
    """Whether a role of ``user`` grants every operation on every resource, with nothing excluded."""
    return any(isinstance(p, dict) and "ALL" in (p.get("ALL") or ()) and not any((e or {}).values())
               for p, e in rights_of(user).generic)


def visible_user(request, value):
    """The user ``value`` names ({"entityType": "USER", "id"} or a uuid; the requester when empty), who must
    be of the requester's tenant (404 otherwise). A report made as another user shows what that user sees,
    so only a full tenant administrator (a role with ALL/ALL, USER READ included) may name another user: a
    customer user may name only itself (404), a restricted administrator only itself (403)."""
    requester = request.user
    if value in (None, "") or (isinstance(value, dict) and not value.get("id")):
        return requester
    pk = _id_of(value, "userId")
    if pk == requester.pk:
        return requester
    if requester.authority == Authority.CUSTOMER_USER:
        raise NotFound(f"User with id [{pk}] is not found")
    if not (allows(request, "USER", "READ") and _full_rights(requester)):
        raise PermissionDenied(NO_PERMISSION)
    found = get_user_model().objects.filter(pk=pk, tenant_id=requester.tenant_id, is_active=True).first()
    if found is None or requester.tenant_id is None:
        raise NotFound(f"User with id [{pk}] is not found")
    return found


# --- the dashboard report (DashboardReportConfig) ----------------------------------------------------
def check_dashboard_config(config) -> dict:
    """DashboardReportConfig as used here: ``type`` PDF/PNG/JPEG (any case), a known ``timezone``, text
    ``state`` and ``namePattern``. ``baseUrl`` is read and ignored: the page rendered is always this server's."""
    if config in (None, ""):
        config = {}
    if not isinstance(config, dict):
        raise ValidationError("Report config must be a JSON object")
    kind = str(config.get("type") or "PDF").upper()
    if kind not in DASHBOARD_TYPES:
        raise ValidationError(f"Unsupported report type: {str(config.get('type'))[:32]}; expected PDF, PNG or JPEG")
    for key in ("state", "namePattern"):
        if config.get(key) is not None and not isinstance(config.get(key), str):
            raise ValidationError(f"{key} must be a string")
    return {**config, "type": kind, "timezone": _zone_name(config.get("timezone"))}


def dashboard_report(user, dashboard_id, config) -> tuple[str, str, bytes]:
    """The dashboard ``dashboard_id`` as ``user`` sees it, rendered as ``config`` asks."""
    config = check_dashboard_config(config)
    dashboard = Dashboard.objects.for_user(user).filter(pk=parse_uuid(dashboard_id)).first()
    if dashboard is None:
        raise NotFound(f"Dashboard with id [{dashboard_id}] is not found")
    query = {"tz": config["timezone"]}
    if config.get("state"):
        query["state"] = config["state"]
    kind = config["type"]
    data = rendering.render(f"/reports/view/dashboard/{dashboard.pk}?{urlencode(query)}", user, kind)
    return naming.file_name(config.get("namePattern"), kind, now_ms(), config["timezone"]), CONTENT_TYPES[kind], data


def save_blob(user, name: str, content_type: str, data: bytes, info: dict | None = None) -> BlobEntity:
    return BlobEntity.objects.create(tenant_id=user.tenant_id, customer_id=user.customer_id, name=name[:255],
                                     type=BLOB_TYPE_REPORT, content_type=content_type, data=data,
                                     additional_info=info or {})


# --- report templates and reports (v2) --------------------------------------------------------------
def check_template_config(config, template_format: str | None = None) -> dict:
    """ReportTemplateConfig: an object whose ``format`` is PDF or CSV (the template's when missing),
    ``components`` a list of objects with a ``type``."""
    if not isinstance(config, dict):
        raise ValidationError("Report template configuration should be specified!")
    fmt = config.get("format") or template_format
    if fmt not in ReportFormat.values:
        raise ValidationError(f"Unsupported report format: {str(fmt)[:32]}; expected PDF or CSV")
    components = config.get("components") or []
    if not isinstance(components, list) or not all(isinstance(c, dict) and isinstance(c.get("type"), str)
                                                   for c in components):
        raise ValidationError("components must be a list of objects, each with a type")
    if config.get("namePattern") is not None and not isinstance(config["namePattern"], str):
        raise ValidationError("namePattern must be a string")
    return {**config, "format": fmt}


def check_dashboards(user, config: dict) -> None:
    """Every DASHBOARD component of a template ``config`` names a dashboard ``user`` sees; 404 otherwise."""
    for component in config.get("components") or []:
        raw = component.get("dashboardId") if component.get("type") == "DASHBOARD" else None
        if raw in (None, "") or (isinstance(raw, dict) and not raw.get("id")):
            continue
        pk = _id_of(raw, "dashboardId")
        if not Dashboard.objects.for_user(user).filter(pk=pk).exists():
            raise NotFound(f"Dashboard with id [{pk}] is not found")


def _key_seconds() -> int:
    return int(getattr(settings, "REPORTS_RENDER_TIMEOUT_MS", 30_000)) // 1000 + 60


def keep_config(config: dict, user) -> str:
    """A random single-use key under which the page finds ``config`` (for ``user`` only) for a short while."""
    key = secrets.token_urlsafe(24)
    cache.set(f"reports:render:{key}", {"user": str(user.pk), "config": config}, _key_seconds())
    return key


def take_config(key: str, user) -> dict:
    """The configuration kept under ``key`` for ``user``, once; 404 for an unknown, used or foreign key."""
    name = f"reports:render:{str(key)[:64]}"
    kept = cache.get(name) if key else None
    if not isinstance(kept, dict) or kept.get("user") != str(user.pk):
        raise NotFound("Report configuration is not found")
    cache.delete(name)
    return check_template_config(kept["config"])


def component_text(component: dict) -> str:
    for key in ("text", "title", "content", "label"):
        if isinstance(component.get(key), str):
            return component[key]
    return ""


def csv_cell(value) -> str:
    """``value`` as a CSV cell a spreadsheet will not run as a formula (a leading = + - @ tab or CR: ')."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv(config: dict, title: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["component", "text"])
    writer.writerow(["TITLE", csv_cell(title)])
    for component in config.get("components") or []:
        writer.writerow([csv_cell(component.get("type")), csv_cell(component_text(component))])
    return out.getvalue().encode()


def report_file(user, config: dict, tz: str, title: str) -> tuple[str, str, bytes]:
    """The file of a template ``config`` for ``user``: CSV made here, PDF rendered in Chromium."""
    config = check_template_config(config)
    fmt = config["format"]
    if fmt == ReportFormat.CSV:
        data = _csv(config, title)
    else:
        query = urlencode({"k": keep_config(config, user), "tz": tz, "title": title[:255]})
        data = rendering.render(f"/reports/view/report?{query}", user, "PDF")
    return naming.file_name(config.get("namePattern") or title, fmt, now_ms(), tz), CONTENT_TYPES[fmt], data


def generate(user, template: ReportTemplate, tz: str, make_public: bool = False) -> Report:
    """A report of ``template`` made for ``user`` and stored (ReportServerError when it cannot be rendered)."""
    config = {**(template.configuration or {}), "format": template.format}
    name, content_type, data = report_file(user, config, tz, template.name)
    return Report.objects.create(tenant_id=template.tenant_id, customer_id=user.customer_id, template=template,
                                 template_ref=template.pk, user=user, name=name[:255], format=template.format,
                                 content_type=content_type, data=data, public=bool(make_public))


# --- jobs (run, cancelled and listed by reports/jobs.py) ------------------------------------------
def request_job(request, data, *, origin: dict | None = None) -> ReportJob:
    """A QUEUED report job for ReportRequest ``data``; its task starts once the transaction commits. A tenant
    with REPORTS_MAX_JOBS_PER_TENANT jobs queued or running gets a 429. Notification ``targets`` may be named
    by a tenant administrator whose roles write notifications only (403 otherwise), and they and
    ``notificationTemplateId`` must be the tenant's (404 otherwise)."""
    from reports import jobs

    requester = request.user
    if not isinstance(data, dict):
        raise ValidationError("Report request must be a JSON object")
    pk = _id_of(data.get("reportTemplateId"), "reportTemplateId")
    template = ReportTemplate.objects.for_user(requester).filter(pk=pk).first()
    if template is None:
        raise NotFound(f"Report template with id [{pk}] is not found")
    user = visible_user(request, data.get("userId"))
    if not isinstance(data.get("makePublic", False), (bool, type(None))):
        raise ValidationError("makePublic must be true or false")
    options = check_notify_options(request, data)
    jobs.check_capacity(template.tenant_id)
    configuration = {"type": "REPORT", "tasksKey": uuid.uuid4().hex, "reportTemplateId": str(template.pk),
                     "userId": str(user.pk), "timezone": _zone_name(data.get("timezone")),
                     "makePublic": bool(data.get("makePublic")), **options, **(origin or {})}
    job = ReportJob.objects.create(tenant_id=template.tenant_id, customer_id=requester.customer_id,
                                   template=template, key=configuration["tasksKey"], configuration=configuration)
    from reports.tasks import generate_report

    transaction.on_commit(lambda: generate_report.delay(str(job.pk)))
    return job


def check_notify_options(request, data: dict) -> dict:
    """The ``targets`` and ``notificationTemplateId`` of a report request (or of a scheduled report's message):
    400 for a bad shape; 403 when they name targets and the requester is not a tenant administrator whose roles
    write notifications; 404 for an id that is not one of the tenant's (asked of the notification center,
    reports/signals.py). The options, as reports/jobs.py keeps them."""
    from reports import jobs, signals

    options = jobs.notify_options(data, ValidationError)
    requester = request.user
    if options["targets"] and not (requester.authority == Authority.TENANT_ADMIN
                                   and allows(request, "NOTIFICATION", "WRITE")):
        raise PermissionDenied("Only a tenant administrator who may send notifications can name notification "
                               "targets")
    if options["targets"] or options["notificationTemplateId"]:
        missing = signals.missing_ref(requester.tenant_id, options["targets"], options["notificationTemplateId"])
        if missing:
            raise NotFound(missing)
    return options


def check_scheduled_report(request, configuration) -> None:
    """A ``generateReport`` scheduler event's save (scheduler/services.py's hook, set in reports' AppConfig):
    the notification options of its message (``configuration.msgBody``) as :func:`check_notify_options`."""
    body = configuration.get("msgBody") if isinstance(configuration, dict) else None
    body = body if isinstance(body, dict) else configuration
    if isinstance(body, dict):
        check_notify_options(request, body)


def run_job(job_id) -> ReportJob | None:
    """Run a QUEUED job once (reports/jobs.py): COMPLETED with its report, or FAILED; None when taken."""
    from reports import jobs

    return jobs.run_job(job_id)


def sweep_stuck_jobs() -> int:
    """Jobs RUNNING past a render's time -> FAILED (reports/jobs.py); the number marked."""
    from reports import jobs

    return jobs.sweep_stuck_jobs()
