"""Every kind of job behind ThingsBoard's job API (JobController): a calculated field's reprocessing (the
Job rows of calculated/) and report generation (reports' ReportJob rows). calculated/ sits above reports/,
so it is the one that sees both.

A tenant administrator sees both kinds (report jobs of its customers' users with ``includeCustomers=true``); a
customer user (ThingsBoard's JobController admits TENANT_ADMIN and CUSTOMER_USER) sees only the REPORT jobs of
its own customer, in the list and in :func:`find` alike (there are no sub-customers here, so
``includeCustomers`` changes nothing for it).

    find(user, pk)                 -> Job | ReportJob (another tenant's or customer's, or none: 404)
    page(user, params)             -> PageData of Job JSON, both kinds, one sorted and paged list
    render(job); cancel(job); delete(job); retry(job)   # JobError (400) when the status does not allow it

The list is one UNION of the two tables (their common columns), counted, sorted and sliced in the database;
the page's rows are then read with one query per kind: four queries for any page size.
"""

import math

from django.db.models import CharField, F, Value
from django.shortcuts import get_object_or_404
from rest_framework.exceptions import ValidationError

from calculated import jobs as cf_jobs
from calculated.choices import ALL_JOB_TYPES, JobStatus
from calculated.models import Job
from reports import jobs as report_jobs
from reports.api.shapes import job as report_job_json
from reports.models import ReportJob
from tbproject.api.ids import parse_id_list, parse_uuid
from tbproject.api.pagination import page_request
from tbproject.api.params import ms_param
from tenants.choices import Authority

__all__ = ["find", "page", "render", "cancel", "delete", "retry", "JobError", "SORT_FIELDS"]

JobError = (cf_jobs.JobError, report_jobs.JobError)
#: sortProperty -> the union's column
SORT_FIELDS = {"createdTime": "j_time", "status": "j_status", "type": "j_type", "entityName": "j_name",
               "key": "j_key"}
_COLUMNS = ("j_id", "j_time", "j_status", "j_type", "j_name", "j_key")


def _report_jobs():
    return ReportJob.objects.select_related("template", "report").defer("report__data")


def _is_customer(user) -> bool:
    return user.authority == Authority.CUSTOMER_USER


def _visible_report_jobs(user, queryset=None):
    """The report jobs ``user`` may see: its tenant's; a customer user's only its customer's."""
    queryset = (ReportJob.objects.all() if queryset is None else queryset).filter(tenant_id=user.tenant_id)
    if not _is_customer(user):
        return queryset
    return queryset.filter(customer_id=user.customer_id) if user.customer_id else queryset.none()


def find(user, pk):
    pk = parse_uuid(pk)
    if not _is_customer(user):
        job = Job.objects.filter(tenant_id=user.tenant_id, pk=pk).first()
        if job is not None:
            return job
    return get_object_or_404(_visible_report_jobs(user, _report_jobs()), pk=pk)


def _list(params, name: str, allowed) -> list[str]:
    values = [v.strip() for raw in params.getlist(name) for v in raw.split(",") if v.strip()]
    for value in values:
        if value not in allowed:
            raise ValidationError(f"Parameter '{name}' must be one of {', '.join(allowed)}")
    return values


def _flag(params, name: str) -> bool:
    raw = (params.get(name) or "false").lower()
    if raw not in ("true", "false"):
        raise ValidationError(f"Parameter '{name}' must be true or false")
    return raw == "true"


def _filtered(queryset, *, entity: str, statuses, entities, start, end):
    if statuses:
        queryset = queryset.filter(status__in=statuses)
    if entities:
        queryset = queryset.filter(**{f"{entity}__in": entities})
    if start is not None:
        queryset = queryset.filter(created_time__gte=start)
    if end is not None:
        queryset = queryset.filter(created_time__lte=end)
    return queryset


def _union(user, params, req):
    types = _list(params, "types", ALL_JOB_TYPES)
    statuses = _list(params, "statuses", JobStatus.values)
    entities = parse_id_list(params, "entities", required=False)
    start, end = ms_param(params, "startTime"), ms_param(params, "endTime")
    include_customers = _flag(params, "includeCustomers")
    parts = []
    customer = _is_customer(user)
    if not customer and (not types or "CF_REPROCESSING" in types):
        cf = _filtered(Job.objects.filter(tenant_id=user.tenant_id), entity="entity_id", statuses=statuses,
                       entities=entities, start=start, end=end)
        parts.append(cf.annotate(j_id=F("id"), j_time=F("created_time"), j_status=F("status"), j_type=F("kind"),
                                 j_name=F("entity_name"), j_key=F("key")))
    if not types or "REPORT" in types:
        rj = _visible_report_jobs(user)
        if not customer and not include_customers:  # a tenant administrator's own unless asked for all
            rj = rj.filter(customer__isnull=True)
        rj = _filtered(rj, entity="template_id", statuses=statuses, entities=entities, start=start, end=end)
        parts.append(rj.annotate(j_id=F("id"), j_time=F("created_time"), j_status=F("status"),
                                 j_type=Value("REPORT", output_field=CharField()), j_name=F("template__name"),
                                 j_key=F("key")))
    if req.text_search:  # ThingsBoard: a case-insensitive substring of the job's description (its entity's name)
        parts = [p.filter(j_name__icontains=req.text_search) for p in parts]
    parts = [p.order_by().values(*_COLUMNS) for p in parts]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else parts[0].union(*parts[1:], all=True)


def page(user, params) -> dict:
    req = page_request(params)
    rows = _union(user, params, req)
    order = ("-j_time", "-j_id")
    if req.sort_property:
        column = SORT_FIELDS.get(req.sort_property)
        if column is None:
            raise ValidationError(f"Unsupported sortProperty '{req.sort_property:.64}'; use one of: "
                                  f"{', '.join(sorted(SORT_FIELDS))}")
        prefix = "-" if req.sort_order == "DESC" else ""
        order = (f"{prefix}{column}", f"{prefix}j_id")
    total = rows.count() if rows is not None else 0
    first = req.page * req.page_size
    keys = [(r["j_id"], r["j_type"]) for r in rows.order_by(*order)[first:first + req.page_size]] \
        if total > first else []
    cf_ids = [pk for pk, kind in keys if kind != "REPORT"]
    report_ids = [pk for pk, kind in keys if kind == "REPORT"]
    found = {j.pk: j for j in Job.objects.filter(pk__in=cf_ids)} if cf_ids else {}
    if report_ids:
        found.update({j.pk: j for j in _report_jobs().filter(pk__in=report_ids)})
    return {"data": [render(found[pk]) for pk, _ in keys if pk in found],
            "totalPages": math.ceil(total / req.page_size), "totalElements": total,
            "hasNext": first + req.page_size < total}


def _pick(job, calculated, reports):
    return reports(job) if isinstance(job, ReportJob) else calculated(job)


def render(job) -> dict:
    return _pick(job, cf_jobs.render, report_job_json)


def cancel(job) -> None:
    _pick(job, cf_jobs.cancel, report_jobs.cancel)


def delete(job) -> None:
    _pick(job, cf_jobs.delete, report_jobs.delete)


def retry(job) -> None:
    _pick(job, cf_jobs.retry, report_jobs.retry)
