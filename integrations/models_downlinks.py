"""Downlinks on their way to devices, and what the pipeline remembers of each device's last uplink.

Imported from integrations/models.py; the workflow lives in integrations/downlinks/.
"""

import uuid

from django.db import models

from tbproject.clock import now_ms
from tenants.models import Tenant

__all__ = ["DownlinkStatus", "OutgoingDownlink", "DeviceRoute"]


class DownlinkStatus(models.TextChoices):
    QUEUED = "QUEUED", "queued: stored, waiting for the downlink converter"
    ENCODING = "ENCODING", "encoding: a worker runs the converter"
    PENDING = "PENDING", "pending: encoded, waiting to be sent (or for the device's next uplink)"
    SENDING = "SENDING", "sending: the listener host is sending it"
    DELIVERED = "DELIVERED", "delivered"
    FAILED = "FAILED", "failed (see error)"
    SUPERSEDED = "SUPERSEDED", "superseded by a newer downlink to the same device"


#: statuses after which nothing more happens to a downlink
FINAL = (DownlinkStatus.DELIVERED, DownlinkStatus.FAILED, DownlinkStatus.SUPERSEDED)


class OutgoingDownlink(models.Model):
    """One rule-engine message handed to an integration's downlink (integrations.downlinks.submit).

    It is stored first (QUEUED: the rule-engine message itself), then encoded in batches by the
    downlink converter (PENDING, with the encoded ``payload``, ``content_type`` and ``metadata``),
    then sent: by the listener host that runs the integration (MQTT, TCP, ...), or, for HTTP-family
    integrations, returned as the body of the device's next uplink response. A failure is kept
    with its ``error`` and retried with back-off (``attempts``, ``next_attempt_ts``) until it
    is DELIVERED or FAILED: nothing is dropped silently. ``claim`` names who works on it now.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", editable=False)
    # no index of its own: downlink_integration_status (integration, status, device_name) leads with
    # it, and every row is written three to five times (inserted, encoded, sending, delivered)
    integration = models.ForeignKey("integrations.Integration", on_delete=models.CASCADE, related_name="downlinks",
                                    db_index=False)
    device_name = models.CharField(max_length=255, blank=True)
    originator_type = models.CharField(max_length=16, blank=True)
    originator_id = models.UUIDField(null=True, blank=True)
    msg_type = models.CharField(max_length=64)
    msg = models.JSONField(default=dict, help_text="the rule-engine message's data")
    msg_metadata = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=DownlinkStatus.choices, default=DownlinkStatus.QUEUED)
    content_type = models.CharField(max_length=16, blank=True)
    payload = models.BinaryField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True, help_text="the encoder's output metadata")
    route = models.JSONField(default=dict, blank=True, help_text="the device's last uplink route (route_keys)")
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_ts = models.BigIntegerField(default=0)
    claim = models.CharField(max_length=128, blank=True)
    claimed_ts = models.BigIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_ts = models.BigIntegerField(default=now_ms)
    encoded_ts = models.BigIntegerField(null=True, blank=True)
    delivered_ts = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_ts"]
        indexes = [
            models.Index(fields=["status", "next_attempt_ts"], name="downlink_due"),
            models.Index(fields=["integration", "status", "device_name"], name="downlink_integration_status"),
            models.Index(fields=["originator_id", "created_ts"], name="downlink_originator"),
            models.Index(fields=["claim"], name="downlink_claim"),
        ]

    def __str__(self) -> str:
        return f"{self.msg_type} -> {self.device_name or self.originator_id} ({self.status})"


class DeviceRoute(models.Model):
    """The ``route_keys`` metadata of a device's last uplink through an integration (Downlink.route).

    Written by the uplink pipeline in one upsert per batch, only when it changed; read when a
    downlink is encoded, so that a "reply on the device's connection" transport finds it.
    """

    integration = models.ForeignKey("integrations.Integration", on_delete=models.CASCADE, related_name="+")
    device_name = models.CharField(max_length=255)
    route = models.JSONField(default=dict)
    updated_ts = models.BigIntegerField(default=now_ms)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["integration", "device_name"], name="device_route_unique")]

    def __str__(self) -> str:
        return f"{self.device_name} via {self.integration_id}: {self.route}"
