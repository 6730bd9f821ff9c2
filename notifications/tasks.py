"""Celery tasks of the notification center: thin wrappers around sending.py."""

from celery import shared_task

__all__ = ["send_scheduled", "send_mails"]


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
