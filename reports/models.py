"""ThingsBoard PE's reporting: report templates, generated reports, report jobs and blob entities.

A **report template** (``/api/reportTemplate``) says what a report holds: its ``configuration`` is
ThingsBoard's ReportTemplateConfig JSON (``format``, ``namePattern``, ``components``...). A **report**
(``/api/v2/report``) is one file made from a template (or uploaded), kept with its bytes; a random
``public_key`` lets anyone download it while ``public`` is set. A **report job** is one request to
generate a report (``POST /api/v2/report/request``, the rule node, the scheduler): it runs off the
request thread (reports/tasks.py) and records its status and result. A **blob entity** is where the
older dashboard report (rule node "generate dashboard report") stores the file it made.
"""

import secrets

from django.conf import settings
from django.db import models

from reports.choices import JobStatus, ReportFormat, TemplateType
from tenants.models import Customer, TenantScopedModel

__all__ = ["ReportTemplate", "Report", "ReportJob", "BlobEntity", "new_public_key"]


def new_public_key() -> str:
    """A random key for the public download link (unguessable, URL-safe)."""
    return secrets.token_urlsafe(24)


class ReportTemplate(TenantScopedModel):
    """A report template (ThingsBoard's ReportTemplate), owned by the tenant or one of its customers."""

    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=255)
    format = models.CharField(max_length=8, choices=ReportFormat.choices, default=ReportFormat.PDF)
    type = models.CharField(max_length=16, choices=TemplateType.choices, default=TemplateType.REPORT)
    description = models.TextField(blank=True, default="")
    configuration = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["name", "created_time"]

    def __str__(self) -> str:
        return self.name


class Report(TenantScopedModel):
    """One generated (or uploaded) report file (ThingsBoard's Report), kept with its content."""

    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    template = models.ForeignKey(ReportTemplate, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="reports")
    #: the template's id as generated from, kept when the template is deleted (templateId is required JSON)
    template_ref = models.UUIDField(null=True, blank=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    name = models.CharField(max_length=255)
    format = models.CharField(max_length=8, choices=ReportFormat.choices, default=ReportFormat.PDF)
    content_type = models.CharField(max_length=64, default="application/pdf")
    data = models.BinaryField(editable=False)
    public = models.BooleanField(default=False)
    public_key = models.CharField(max_length=64, unique=True, default=new_public_key, editable=False)

    class Meta:
        ordering = ["-created_time"]

    def __str__(self) -> str:
        return self.name


class ReportJob(TenantScopedModel):
    """One request to generate a report (ThingsBoard's Job of type REPORT): status, configuration, result.

    Listed, cancelled, deleted and re-run through ThingsBoard's job API with the calculated fields' jobs
    (calculated/all_jobs.py). ``configuration`` is ReportJobConfiguration's JSON as requested (``targets``,
    ``notificationTemplateId``, and the ``notificationRequests`` sent once it completed); what went wrong
    notifying them is ``notification_errors`` (never the job's failure: reports/jobs.py).
    """

    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    template = models.ForeignKey(ReportTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    key = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    configuration = models.JSONField(default=dict, blank=True)
    report = models.ForeignKey(Report, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    error = models.TextField(blank=True, default="")
    start_ts = models.BigIntegerField(null=True, blank=True)
    finish_ts = models.BigIntegerField(null=True, blank=True)
    cancellation_ts = models.BigIntegerField(null=True, blank=True)
    notification_errors = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_time"]
        # the job API's list (a tenant's, newest first) and the cleanup of finished jobs (reports/jobs.py)
        indexes = [models.Index(fields=["tenant", "created_time"], name="reportjob_tenant_created")]

    def __str__(self) -> str:
        return f"{self.key} ({self.status})"


class BlobEntity(TenantScopedModel):
    """A stored file (ThingsBoard's BlobEntity): a dashboard report made by the rule node or the API."""

    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=255)
    type = models.CharField(max_length=64, default="report")
    content_type = models.CharField(max_length=64, default="application/pdf")
    data = models.BinaryField(editable=False)

    class Meta:
        ordering = ["-created_time"]
        verbose_name_plural = "blob entities"

    def __str__(self) -> str:
        return self.name
