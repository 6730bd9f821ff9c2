"""Where an AZURE_EVENT_HUB integration stands in each partition of its Event Hub.

ThingsBoard keeps Event Hub checkpoints in Azure Blob storage when ``enablePersistentCheckpoints``
is set; this project keeps them in its own database, always (integrations/listeners/
azure_sdk.py ``DbCheckpointStore``): a checkpoint is written only after the events up to it
were durably queued, and a restarted listener (here or on another host) resumes from it.
"""

from django.db import models

from tbproject.clock import now_ms

__all__ = ["EventHubCheckpoint"]


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
