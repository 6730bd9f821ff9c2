"""Celery tasks of the notification center: thin wrappers around sending.py."""

from celery import shared_task

__all__ = ["send_scheduled", "send_mails", "send_chats", "remove_expired", "check_api_usage",
           "check_resources"]


@shared_task(name="notifications.tasks.send_scheduled", ignore_result=True)
def send_scheduled() -> int:
    """Periodic: send the scheduled requests (sendingDelayInSec, alarm escalations) that are due."""
    from notifications import sending

    return sending.send_due()


@shared_task(name="notifications.tasks.send_mails", ignore_result=True)
def send_mails(mails: list) -> None:
    """The e-mails of stored requests ([request id, address, subject, HTML body]), queued on commit."""
    from notifications import delivery

    delivery.send_mails(mails)


@shared_task(name="notifications.tasks.send_chats", ignore_result=True)
def send_chats(items: list) -> None:
    """Slack, Microsoft Teams and SMS deliveries of stored requests, queued on commit (notifications/chats.py)."""
    from notifications import chats

    chats.send_chats(items)


@shared_task(name="notifications.tasks.remove_expired", ignore_result=True)
def remove_expired() -> int:
    """Periodic: inbox rows and sent requests older than NOTIFICATIONS_TTL_SECONDS (ThingsBoard: 30 days)."""
    from notifications import retention

    return retention.remove_expired()


@shared_task(name="notifications.tasks.check_api_usage", ignore_result=True)
def check_api_usage() -> int:
    """Periodic: API_USAGE_LIMIT notifications when a tenant's usage state changes (notifications/usage_states.py)."""
    from notifications import usage_states

    return usage_states.check()


@shared_task(name="notifications.tasks.check_resources", ignore_result=True)
def check_resources() -> int:
    """Periodic: RESOURCES_SHORTAGE notifications when this host's CPU, RAM or storage usage crosses a rule's
    threshold (notifications/resources.py)."""
    from notifications import resources

    return resources.check()
