"""Integrations (ThingsBoard reference 2.1) and the dead letters of uplinks they could not store."""

import uuid

from django.db import models

from converters.models import Converter
from integrations.types import TYPES
from tbproject.clock import now_ms
from tenants.models import Tenant, TenantScopedModel

__all__ = ["Integration", "DeadLetter", "IntegrationStats", "IntegrationLease", "OutgoingDownlink", "DeviceRoute",
           "EventHubCheckpoint", "StreamCheckpoint", "DownlinkStatus", "RemoteStatus", "UplinkSeen"]


#: Columns only the system writes (see Integration.save).
STATUS_FIELDS = frozenset({"connected", "last_message_ts", "last_error", "last_error_ts", "service_id"})


def _routing_key() -> str:
    return str(uuid.uuid4())


class Integration(TenantScopedModel):
    """A configured source of device data: one type (HTTP, MQTT, ...) and its converters.

    ``configuration`` holds the type's ThingsBoard keys verbatim, validated by the type's schema
    (integrations/types/); the secrets it names are write-only in the API. The status columns
    are written by the pipeline and the listener host, never by users: "connected" (a listener
    holds its connection) and "receiving" (last_message_ts) are kept apart on purpose.
    """

    name = models.CharField(max_length=255)
    type = models.CharField(max_length=32, choices=TYPES.choices)
    enabled = models.BooleanField(default=True)
    allow_create_devices_or_assets = models.BooleanField(default=True)
    remote = models.BooleanField(default=False)
    edge_template = models.BooleanField(default=False)
    debug_failures_enabled = models.BooleanField("debug failures", default=False)
    debug_all_enabled_until = models.BigIntegerField("debug all until (ms)", default=0)
    default_converter = models.ForeignKey(Converter, on_delete=models.PROTECT, related_name="uplink_integrations")
    downlink_converter = models.ForeignKey(Converter, on_delete=models.PROTECT, null=True, blank=True,
                                           related_name="downlink_integrations")
    routing_key = models.CharField(max_length=255, unique=True, default=_routing_key)
    secret = models.CharField(max_length=255, blank=True)
    configuration = models.JSONField(default=dict, blank=True)
    pinned_converter_version = models.PositiveIntegerField(
        null=True, blank=True, help_text="Run this version of the uplink converter instead of its newest "
                                         "(converters.ConverterVersion.number); empty = the newest.")

    # status, written by the system
    connected = models.BooleanField(default=False, editable=False)
    last_message_ts = models.BigIntegerField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True, editable=False)
    last_error_ts = models.BigIntegerField(null=True, blank=True, editable=False)
    service_id = models.CharField(max_length=255, blank=True, editable=False)
    #: credentials with an expiry found in ``configuration`` at save time (integrations/expiry.py)
    credential_expiry = models.JSONField(default=list, blank=True, editable=False)

    customer_lookup = None  # integrations belong to the tenant; customer users see none

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="integration_name_per_tenant")]

    def __str__(self) -> str:
        return f"{self.name} ({self.type})"

    @property
    def type_class(self):
        return TYPES.load(self.type)

    def debug_all_active(self, now: int | None = None) -> bool:
        return (now if now is not None else now_ms()) < self.debug_all_enabled_until

    def save(self, *args, **kwargs):
        # The status columns are written with .update() by the listener host and the pipeline
        # while users edit the integration: saving an instance loaded earlier must not undo them.
        if not self._state.adding and kwargs.get("update_fields") is None and not kwargs.get("force_insert"):
            kwargs["update_fields"] = [f.name for f in self._meta.concrete_fields
                                       if not f.primary_key and f.name not in STATUS_FIELDS]
        fields = kwargs.get("update_fields")
        if fields is None or "configuration" in fields:
            from integrations.expiry import rescan  # the credentials' expiry, read at every save

            self.credential_expiry = rescan(self.configuration, self.credential_expiry)
            if fields is not None and "credential_expiry" not in fields:
                kwargs["update_fields"] = [*fields, "credential_expiry"]
        super().save(*args, **kwargs)


class DeadLetter(models.Model):
    """A raw uplink that failed conversion or storage, kept so that it can be replayed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", editable=False)
    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="dead_letters")
    received_ts = models.BigIntegerField(default=now_ms)
    payload = models.BinaryField()
    metadata = models.JSONField(default=dict)
    content_type = models.CharField(max_length=16, default="BINARY")
    error = models.TextField()
    stage = models.CharField(max_length=16, help_text="where it failed: convert, validate, store")
    attempts = models.PositiveIntegerField(default=1)
    replayed_ts = models.BigIntegerField(null=True, blank=True)
    converter_version = models.PositiveIntegerField(null=True, blank=True,
                                                    help_text="the uplink converter version that failed on it")

    class Meta:
        ordering = ["-received_ts"]
        indexes = [models.Index(fields=["integration", "received_ts"])]

    def __str__(self) -> str:
        return f"{self.integration_id} @ {self.received_ts}: {self.error[:60]}"


class IntegrationStats(models.Model):
    """An integration's counters for one hour: STATS events and ``integrationInfos.stats`` come from here.

    The pipeline adds to the current hour's row once per batch (one upsert per integration,
    never per message); a periodic job turns finished hours into STATS events (``persisted``).
    ``debug_events`` counts the debug events asked for in that hour, for the per-hour cap.
    """

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="+")
    period_ts = models.BigIntegerField(help_text="start of the hour, ms")
    messages_processed = models.BigIntegerField(default=0)
    errors_occurred = models.BigIntegerField(default=0)
    debug_events = models.BigIntegerField(default=0)
    #: uplinks dropped as duplicates (configuration.deduplication; integrations/dedup.py)
    duplicates = models.BigIntegerField(default=0)
    persisted = models.BooleanField(default=False)

    class Meta:
        verbose_name_plural = "integration stats"
        constraints = [models.UniqueConstraint(fields=["integration", "period_ts"], name="integration_stats_period")]
        indexes = [models.Index(fields=["persisted", "period_ts"], name="integration_stats_pending")]

    def __str__(self) -> str:
        return f"{self.integration_id} @ {self.period_ts}: {self.messages_processed}/{self.errors_occurred}"


class IntegrationLease(models.Model):
    """Which listener host runs an integration, until when (integrations/leases.py).

    A host claims a free or expired lease with a conditional UPDATE and renews it every few
    seconds; a host that dies stops renewing, and another claims the lease once it expires. So
    each listener integration runs on exactly one ``runintegrations`` host. Times are the
    database's clock, so that hosts need not agree on theirs.
    """

    integration = models.OneToOneField(Integration, on_delete=models.CASCADE, primary_key=True, related_name="lease")
    holder = models.CharField(max_length=255, help_text="host id: hostname, process id and a random part")
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.integration_id} held by {self.holder} until {self.expires_at:%H:%M:%S}"


from integrations.models_checkpoints import EventHubCheckpoint, StreamCheckpoint  # noqa: E402
from integrations.models_dedup import UplinkSeen  # noqa: E402
from integrations.models_downlinks import DeviceRoute, DownlinkStatus, OutgoingDownlink  # noqa: E402
from integrations.models_remote import RemoteStatus  # noqa: E402
