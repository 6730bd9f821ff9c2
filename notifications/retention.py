"""The notification center's TTL, as ThingsBoard's NotificationsCleanUpService: inbox rows and requests
created more than NOTIFICATIONS_TTL_SECONDS ago (default 30 days, ThingsBoard's SQL_TTL_NOTIFICATIONS_SECS)
are removed by the periodic job ``notifications.tasks.remove_expired`` (daily, as ThingsBoard checks).
A SCHEDULED request (an escalation or a delayed sending still waiting) and a PROCESSING one (still being
sent) are kept whatever their age.
Deleted in batches of BATCH rows, so that one run never holds a long lock."""

from notifications import conf
from notifications.models import Notification, NotificationRequest, RequestStatus
from tbproject.clock import now_ms

__all__ = ["remove_expired", "BATCH"]

BATCH = 5000


def _delete_in_batches(queryset) -> int:
    removed = 0
    while True:
        ids = list(queryset.values_list("pk", flat=True)[:BATCH])
        if not ids:
            return removed
        removed += queryset.model.objects.filter(pk__in=ids).delete()[1].get(queryset.model._meta.label, 0)


def remove_expired(now: int | None = None) -> int:
    """How many inbox rows and requests were removed (0 when the TTL is 0: kept forever)."""
    ttl = conf.ttl_seconds()
    if ttl <= 0:
        return 0
    cutoff = (now_ms() if now is None else now) - ttl * 1000
    removed = _delete_in_batches(Notification.objects.filter(created_time__lt=cutoff))
    removed += _delete_in_batches(NotificationRequest.objects.filter(created_time__lt=cutoff)
                                  .exclude(status__in=[RequestStatus.SCHEDULED, RequestStatus.PROCESSING]))
    return removed
