"""ThingsBoard's enums for calculated fields (the names of tb_pe_client's models)."""

from django.db import models

__all__ = ["FieldKind", "FieldEntityType", "ArgumentType", "OutputType", "ALL_KINDS", "JobType", "JobStatus",
           "ACTIVE_JOB_STATUSES"]


class FieldKind(models.TextChoices):
    """The field types computed here (CalculatedFieldType SIMPLE and SCRIPT)."""

    SIMPLE = "SIMPLE", "Simple"
    SCRIPT = "SCRIPT", "Script"


#: ThingsBoard's CalculatedFieldType: accepted as filters, refused at save when not computed here
ALL_KINDS = ("SIMPLE", "SCRIPT", "GEOFENCING", "ALARM", "PROPAGATION", "RELATED_ENTITIES_AGGREGATION",
             "ENTITY_AGGREGATION")


class FieldEntityType(models.TextChoices):
    """What a field applies to: one entity, or every entity of a profile."""

    DEVICE = "DEVICE", "Device"
    ASSET = "ASSET", "Asset"
    DEVICE_PROFILE = "DEVICE_PROFILE", "Device profile"
    ASSET_PROFILE = "ASSET_PROFILE", "Asset profile"


class ArgumentType(models.TextChoices):
    TS_LATEST = "TS_LATEST", "Latest telemetry"
    ATTRIBUTE = "ATTRIBUTE", "Attribute"
    TS_ROLLING = "TS_ROLLING", "Time series rolling"


class OutputType(models.TextChoices):
    TIME_SERIES = "TIME_SERIES", "Time series"
    ATTRIBUTES = "ATTRIBUTES", "Attributes"


class JobType(models.TextChoices):
    """ThingsBoard's JobType; only CF_REPROCESSING runs here (REPORT and DUMMY are accepted as filters)."""

    CF_REPROCESSING = "CF_REPROCESSING", "Calculated field reprocessing"


ALL_JOB_TYPES = ("CF_REPROCESSING", "REPORT", "DUMMY")


class JobStatus(models.TextChoices):
    QUEUED = "QUEUED", "Queued"
    PENDING = "PENDING", "Pending"
    RUNNING = "RUNNING", "Running"
    COMPLETED = "COMPLETED", "Completed"
    FAILED = "FAILED", "Failed"
    CANCELLED = "CANCELLED", "Cancelled"


ACTIVE_JOB_STATUSES = (JobStatus.QUEUED, JobStatus.PENDING, JobStatus.RUNNING)
