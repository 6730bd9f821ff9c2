"""Server-side RPC to devices, as ThingsBoard keeps it (its ``Rpc`` entity, persistent RPC since 3.3).

A row is what a device can take on its HTTP long poll (``GET /api/v1/{token}/rpc``,
rulechains/device_rpc.py) and what answers the persistent-RPC API (rulechains/api/rpc_persistent.py).
The "rpc call request" node (rulechains/nodes/rpc.py) writes one only where one is needed: a call
for a device no integration serves (QUEUED, for its long poll) and a persistent call it hands to an
integration (SENT); a lightweight call sent as an integration's downlink has no row. The REST API
writes a persistent call's row itself, before the rule engine sees it, so that its ``rpcId`` can be
answered at once. Lightweight rows (``persistent`` false) are only the hand-over between
processes: never shown by the API, deleted once delivered (one-way), answered (two-way) or expired.
"""

from django.db import models

from tenants.models import TenantScopedModel

__all__ = ["Rpc", "RpcStatus"]


class RpcStatus(models.TextChoices):
    """ThingsBoard's persistent-RPC states. QUEUED: saved, not yet taken; SENT: handed to the
    integration that serves the device; DELIVERED: the device took it on its long poll (the end of a
    one-way call); SUCCESSFUL: the device replied; EXPIRED: not taken or not answered before
    ``expirationTime``; FAILED: the integration refused it. TIMEOUT (a transport's delivery timeout
    in ThingsBoard) is not reached here: an HTTP poll either takes the call or leaves it queued."""

    QUEUED = "QUEUED"
    SENT = "SENT"
    DELIVERED = "DELIVERED"
    SUCCESSFUL = "SUCCESSFUL"
    TIMEOUT = "TIMEOUT"
    EXPIRED = "EXPIRED"
    FAILED = "FAILED"


#: states in which a device may still take a call on its long poll
PENDING = (RpcStatus.QUEUED, RpcStatus.SENT)
#: states in which a call still waits for something (to be taken, or answered)
OPEN = (RpcStatus.QUEUED, RpcStatus.SENT, RpcStatus.DELIVERED)


class Rpc(TenantScopedModel):
    """One server-side RPC to ``device``. ``id`` is the call's ``requestUUID`` (the persistent
    ``rpcId``); ``request_id`` the integer the device sees as ``id`` and answers to; ``request`` the
    body ``{"method", "params"}`` (params as JSON text, as ThingsBoard keeps it); ``response`` the
    device's reply (JSON); ``additional_info`` the request's ``additionalInfo``."""

    # no index of its own: every index and the unique constraint below start with the device
    device = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="+", db_index=False)
    request_id = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=RpcStatus.choices, default=RpcStatus.QUEUED)
    oneway = models.BooleanField(default=False)
    persistent = models.BooleanField(default=False)
    request = models.JSONField(default=dict)
    response = models.JSONField(null=True, blank=True)
    expiration_time = models.BigIntegerField(help_text="ms since the epoch")

    customer_lookup = "device__customer_id"

    class Meta:
        ordering = ["created_time", "id"]
        verbose_name = "RPC"
        verbose_name_plural = "RPCs"
        constraints = [models.UniqueConstraint(fields=["device", "request_id"], name="rpc_request_id_per_device")]
        indexes = [
            models.Index(fields=["device", "status", "created_time"], name="rpc_device_status"),  # the poll's
            models.Index(fields=["device", "created_time"], name="rpc_device_created"),  # the device's list
        ]

    def __str__(self) -> str:
        return f"{self.request.get('method', '?')} #{self.request_id} ({self.status})"
