"""What the server knows of a remote integration's runner. Imported from integrations/models.py."""

from django.db import models

__all__ = ["RemoteStatus"]


class RemoteStatus(models.Model):
    """The remote runner of one integration, as its connection reports it (integrations/remote/).

    ``connected``, ``version``, ``host``, ``last_seen_ts`` and ``outbox_depth``/``dropped`` are
    what the integration page shows. ``outbox_id``/``last_seq`` are the deduplication mark: the
    highest batch number of that outbox the server has queued, so a batch resent after a
    reconnect is acknowledged again but queued once. ``session`` names the connection that
    owns the integration now (a newer connection replaces an older, possibly dead, one).
    """

    integration = models.OneToOneField("integrations.Integration", on_delete=models.CASCADE, primary_key=True,
                                       related_name="remote_status")
    connected = models.BooleanField(default=False)
    session = models.CharField(max_length=64, blank=True)
    version = models.CharField(max_length=64, blank=True)
    host = models.CharField(max_length=255, blank=True)
    address = models.CharField(max_length=255, blank=True, help_text="the remote's IP address as the server saw it")
    connected_ts = models.BigIntegerField(null=True, blank=True)
    last_seen_ts = models.BigIntegerField(null=True, blank=True)
    outbox_depth = models.BigIntegerField(default=0, help_text="uplinks waiting in the remote's outbox")
    dropped = models.BigIntegerField(default=0, help_text="uplinks the remote dropped: its outbox was full")
    outbox_id = models.CharField(max_length=64, blank=True)
    last_seq = models.BigIntegerField(default=0)

    class Meta:
        verbose_name_plural = "remote statuses"

    def __str__(self) -> str:
        state = "connected" if self.connected else "disconnected"
        return f"{self.integration_id}: {state} ({self.host or '?'} {self.version})"

    def as_info(self) -> dict:
        """The ``remoteStatus`` JSON of the integration API."""
        return {"connected": self.connected, "version": self.version, "host": self.host, "address": self.address,
                "connectedTime": self.connected_ts, "lastSeenTime": self.last_seen_ts,
                "outboxDepth": self.outbox_depth, "dropped": self.dropped}
