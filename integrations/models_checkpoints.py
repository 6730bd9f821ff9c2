"""Where stream integrations stand: AZURE_EVENT_HUB per partition of its Event Hub, AWS_KINESIS per
shard of its stream.

ThingsBoard keeps Event Hub checkpoints in Azure Blob storage when ``enablePersistentCheckpoints``
is set; this project keeps them in its own database, always (integrations/listeners/
azure_sdk.py ``DbCheckpointStore``): a checkpoint is written only after the events up to it
were durably queued, and a restarted listener (here or on another host) resumes from it.
"""

from django.db import models

from tbproject.clock import now_ms

__all__ = ["EventHubCheckpoint", "StreamCheckpoint"]


class EventHubCheckpoint(models.Model):
    integration = models.ForeignKey("integrations.Integration", on_delete=models.CASCADE, related_name="+")
    namespace = models.CharField(max_length=255, help_text="fully qualified namespace")
    eventhub = models.CharField(max_length=255)
    consumer_group = models.CharField(max_length=255)
    partition_id = models.CharField(max_length=64)
    offset = models.CharField(max_length=64, blank=True)
    sequence_number = models.BigIntegerField(null=True, blank=True)
    updated_ts = models.BigIntegerField(default=now_ms)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["integration", "namespace", "eventhub", "consumer_group",
                                                       "partition_id"], name="eventhub_checkpoint_partition")]

    def __str__(self) -> str:
        return f"{self.eventhub}/{self.consumer_group}/{self.partition_id} @ {self.sequence_number}"


class StreamCheckpoint(models.Model):
    """How far a stream integration (AWS Kinesis) has read, per shard (integrations/checkpoints.py).

    ``position`` is the sequence number of the last record that was durably queued in the
    pipeline, with every record before it; a listener that restarts, on this host or another,
    resumes right after it. Written once per read batch, never per record.
    """

    integration = models.ForeignKey("integrations.Integration", on_delete=models.CASCADE, related_name="+")
    stream = models.CharField(max_length=255)
    shard = models.CharField(max_length=255)
    position = models.CharField(max_length=255, help_text="sequence number of the last queued record")
    updated_ts = models.BigIntegerField(default=now_ms)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["integration", "stream", "shard"],
                                               name="stream_checkpoint_per_shard")]

    def __str__(self) -> str:
        return f"{self.integration_id} {self.stream}/{self.shard} @ {self.position}"
