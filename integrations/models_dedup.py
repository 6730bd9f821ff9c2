"""Deduplication keys seen recently (integrations/dedup.py), when no Redis is configured.

One row per (integration, key hash) until ``expires_ts``: a batch claims its keys in one
``INSERT ... ON CONFLICT DO UPDATE ... WHERE expired RETURNING``; a periodic job deletes expired rows.
"""

from django.db import models

__all__ = ["UplinkSeen"]


class UplinkSeen(models.Model):
    integration = models.ForeignKey("integrations.Integration", on_delete=models.CASCADE, related_name="+")
    key_hash = models.CharField(max_length=40, help_text="sha1 of the deduplication key")
    expires_ts = models.BigIntegerField(help_text="ms; after it the key may be stored again")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["integration", "key_hash"], name="uplink_seen_key")]
        indexes = [models.Index(fields=["expires_ts"], name="uplink_seen_expiry")]

    def __str__(self) -> str:
        return f"{self.integration_id} {self.key_hash} until {self.expires_ts}"
