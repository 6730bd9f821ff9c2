"""ThingsBoard's enums for calculated fields (the names of tb_pe_client's models)."""

from django.db import models

from reports.choices import ACTIVE_JOB_STATUSES, JobStatus
from reports.choices import JOB_TYPES as ALL_JOB_TYPES

__all__ = ["FieldKind", "FieldEntityType", "ArgumentType", "OutputType", "ALL_KINDS", "JobType", "JobStatus",
           "ACTIVE_JOB_STATUSES", "ALL_JOB_TYPES"]


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


# ALL_JOB_TYPES, JobStatus and ACTIVE_JOB_STATUSES: the jobs' shared vocabulary, reports/choices.py
