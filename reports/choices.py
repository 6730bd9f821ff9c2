"""The enumerations of ThingsBoard PE's reporting (tb-pe-client's TbReportFormat, ReportTemplateType,
DashboardReportConfig.type), and the vocabulary of ThingsBoard's jobs (JobStatus, JobType), shared by every
kind of job: it lives here, in the lowest app that runs jobs; calculated/ (above) imports it."""

from django.db import models

__all__ = ["ReportFormat", "TemplateType", "JobStatus", "ACTIVE_JOB_STATUSES", "JOB_TYPES", "DASHBOARD_TYPES",
           "CONTENT_TYPES", "EXTENSIONS", "BLOB_TYPE_REPORT"]


class ReportFormat(models.TextChoices):
    PDF = "PDF", "PDF"
    CSV = "CSV", "CSV"


class TemplateType(models.TextChoices):
    REPORT = "REPORT", "Report"
    SUB_REPORT = "SUB_REPORT", "Sub-report"


class JobStatus(models.TextChoices):
    QUEUED = "QUEUED", "Queued"
    PENDING = "PENDING", "Pending"
    RUNNING = "RUNNING", "Running"
    COMPLETED = "COMPLETED", "Completed"
    FAILED = "FAILED", "Failed"
    CANCELLED = "CANCELLED", "Cancelled"


#: a job in one of these may be cancelled, not deleted
ACTIVE_JOB_STATUSES = (JobStatus.QUEUED, JobStatus.PENDING, JobStatus.RUNNING)
#: ThingsBoard's JobType: what /api/jobs accepts as ``types`` (CF_REPROCESSING: calculated/, REPORT: here)
JOB_TYPES = ("CF_REPROCESSING", "REPORT", "DUMMY")

#: the file types of the dashboard report (DashboardReportConfig.type), case-insensitive on input
DASHBOARD_TYPES = ("PDF", "PNG", "JPEG")
CONTENT_TYPES = {"PDF": "application/pdf", "PNG": "image/png", "JPEG": "image/jpeg", "CSV": "text/csv"}
EXTENSIONS = {"PDF": ".pdf", "PNG": ".png", "JPEG": ".jpg", "CSV": ".csv"}
#: the blob entity type of a generated dashboard report (BlobEntityInfo.type "report")
BLOB_TYPE_REPORT = "report"
