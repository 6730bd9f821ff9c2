"""Sending prepared requests: each delivery method of the template to each recipient, in batches.

    send_batch(jobs)   # one INSERT (or UPDATE) of the requests, one bulk INSERT of all inbox rows

A :class:`Job` carries everything resolved beforehand (recipients, the methods each user switched
off, the trigger's template parameters), so that a rule firing for thousands of alarms makes no
query per recipient. What each method did is the request's ``stats``, as ThingsBoard records it:
``sent`` per method, ``errors`` per method and recipient, ``totalSent``/``totalErrors``.

- WEB: an inbox row (:class:`Notification`) per user.
- EMAIL: one message per user through Django's mail (``EMAIL_*`` settings; the console backend
  when EMAIL_HOST is unset), all on one connection, sent by the Celery task
  ``notifications.tasks.send_mails`` queued once the request is stored (in a worker with REDIS_URL,
  inline in embedded mode), so that a slow mail server never holds up an alarm's commit or the
  rule engine; the task adds its ``sent``/``errors`` to the request's stats. Parameter values are
  HTML-escaped in the body (the template's own markup is kept).
- SLACK, MICROSOFT_TEAMS (their targets) and SMS (each user's phone): sent by the Celery task
  ``notifications.tasks.send_chats`` queued once the request is stored, as the e-mails are
  (notifications/chats.py); SMS without a system SMS provider is recorded "not configured" at once.
- MOBILE_APP: this server has no push provider; each recipient is recorded as an error saying so.
  Nothing is pretended delivered.
"""

import logging
from dataclasses import dataclass, field
from functools import partial
from html import unescape

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.utils.html import strip_tags

from notifications.chats import SMS_NOT_CONFIGURED, sms_sender
from notifications.models import Notification, NotificationRequest, RequestStatus
from notifications.templating import recipient_params, render
from notifications.validation import enabled_methods

__all__ = ["Job", "send_batch", "send_mails", "MAX_ERRORS_KEPT", "Stats", "add_stats"]

log = logging.getLogger(__name__)

#: error entries kept per method and request (all are counted in totalErrors)
MAX_ERRORS_KEPT = 100
_USER_METHODS = ("WEB", "EMAIL", "SMS", "MOBILE_APP")
_NOT_CONFIGURED = {"MOBILE_APP": "Mobile app delivery method is not configured"}


@dataclass
class Job:
    request: NotificationRequest
    recipients: list  # recipient dicts (notifications/recipients.py RECIPIENT_FIELDS), no duplicates
    others: list = field(default_factory=list)  # SLACK and MICROSOFT_TEAMS targets
    off: dict = field(default_factory=dict)  # user id -> methods the user switched off for this type
    params: dict = field(default_factory=dict)  # the trigger's template parameters


class Stats:
    def __init__(self):
        self.sent: dict[str, int] = {}
        self.errors: dict[str, dict[str, str]] = {}
        self.total_errors = 0

    def ok(self, method: str) -> None:
        self.sent[method] = self.sent.get(method, 0) + 1

    def failed(self, method: str, who: str, error: str) -> None:
        self.total_errors += 1
        kept = self.errors.setdefault(method, {})
        if len(kept) < MAX_ERRORS_KEPT:
            kept[who] = error[:500]

    def json(self) -> dict:
        return {"sent": self.sent, "errors": self.errors, "totalErrors": self.total_errors, "error": None,
                "totalSent": sum(self.sent.values())}


def _prepare(job: Job, stats: Stats, inbox: list, mails: list, chats: list, sms_ok: bool) -> None:
    request = job.request
    template = request.template or {}
    kind = template.get("notificationType") or "GENERAL"
    config = template.get("configuration") or {}
    methods = enabled_methods(config)
    by_method = config.get("deliveryMethodsTemplates") or {}
    for user in job.recipients:
        params = {**job.params, **recipient_params(user)}
        off = job.off.get(user["pk"], ())
        for method in methods:
            if method not in _USER_METHODS or method in off:
                continue
            spec = by_method[method]
            if method == "WEB":
                inbox.append(Notification(
                    request=request, recipient_id=user["pk"], type=kind, delivery_method="WEB",
                    subject=render(spec.get("subject") or "", params), text=render(spec.get("body") or "", params),
                    additional_config=spec.get("additionalConfig"), info=request.info,
                    created_time=request.created_time))
                stats.ok("WEB")
            elif method == "EMAIL":
                if not user["email"]:
                    stats.failed("EMAIL", str(user["pk"]), "User has no e-mail address")
                    continue
                mails.append((request, user["email"], render(spec.get("subject") or "", params),
                              render(spec.get("body") or "", params, html=True)))
            elif method == "SMS":
                phone = user.get("phone") or ""
                if not sms_ok:  # no SMS provider: known before anything is queued
                    stats.failed("SMS", user["email"], SMS_NOT_CONFIGURED)
                elif not phone:
                    stats.failed("SMS", user["email"], "User has no phone number")
                else:
                    chats.append([request, "SMS", user["email"], request.tenant_id, phone, "",
                                  render(spec.get("body") or "", params), {}])
            else:
                stats.failed(method, user["email"], _NOT_CONFIGURED[method])
    for target in job.others:
        method = "SLACK" if target.target_type == "SLACK" else "MICROSOFT_TEAMS"
        if method in methods:
            spec = by_method[method]
            chats.append([request, method, target.name, request.tenant_id, str(target.pk),
                              render(spec.get("subject") or "", job.params), render(spec.get("body") or "", job.params),
                              {k: spec[k] for k in ("themeColor", "button") if k in spec}])


def send_mails(mails: list) -> None:
    """Send ``mails`` ([request id, address, subject, HTML body]) on one connection and add what
    happened to each request's stats (the Celery task ``notifications.tasks.send_mails``)."""
    if not mails:
        return
    by_request: dict[str, Stats] = {}
    try:
        connection = get_connection(fail_silently=False)
        connection.open()
    except Exception as e:
        for request_id, email, _, _ in mails:
            by_request.setdefault(request_id, Stats()).failed("EMAIL", email,
                                                               f"Failed to connect to the mail server: {e}"[:500])
        add_stats(by_request)
        return
    try:
        for request_id, email, subject, body in mails:
            stats = by_request.setdefault(request_id, Stats())
            message = EmailMultiAlternatives(subject.replace("\n", " ").replace("\r", " "),
                                             unescape(strip_tags(body)), settings.DEFAULT_FROM_EMAIL, [email],
                                             connection=connection)
            message.attach_alternative(body, "text/html")
            try:
                message.send()
                stats.ok("EMAIL")
            except Exception as e:
                log.warning("notification e-mail to a recipient failed: %s", e)
                stats.failed("EMAIL", email, str(e))
    finally:
        connection.close()
    add_stats(by_request)


def add_stats(by_request: dict) -> None:
    with transaction.atomic():
        for request in NotificationRequest.objects.select_for_update().filter(pk__in=list(by_request)):
            done, stats = by_request[str(request.pk)], dict(request.stats or {})
            sent, errors = dict(stats.get("sent") or {}), dict(stats.get("errors") or {})
            for method, count in done.sent.items():
                sent[method] = sent.get(method, 0) + count
            for method, kept in done.errors.items():
                errors[method] = {**errors.get(method, {}), **kept}
            stats.update(sent=sent, errors=errors, totalSent=sum(sent.values()),
                         totalErrors=(stats.get("totalErrors") or 0) + done.total_errors)
            request.stats = stats
            request.save(update_fields=["stats"])


def _queue_mails(mails: list) -> None:
    from notifications.tasks import send_mails as task

    payload = [[str(request.pk), email, subject, body] for request, email, subject, body in mails]
    transaction.on_commit(partial(task.delay, payload), robust=True)


def send_batch(jobs: list[Job]) -> None:
    """Deliver every job and store its request (SENT, with stats) and the inbox rows; e-mails are
    queued to a task once they are stored (its stats are added then)."""
    inbox, mails, chats, all_stats = [], [], [], []
    sms_ok = any("SMS" in enabled_methods((j.request.template or {}).get("configuration")) for j in jobs) \
        and sms_sender() is not None
    for job in jobs:
        stats = Stats()
        all_stats.append(stats)
        _prepare(job, stats, inbox, mails, chats, sms_ok)
    new, known = [], []
    for job, stats in zip(jobs, all_stats, strict=True):
        job.request.status, job.request.stats, job.request.send_at = RequestStatus.SENT, stats.json(), None
        (new if job.request._state.adding else known).append(job.request)
    if new:
        NotificationRequest.objects.bulk_create(new, batch_size=500)
    if known:
        NotificationRequest.objects.bulk_update(known, ["status", "stats", "send_at"], batch_size=500)
    Notification.objects.bulk_create(inbox, batch_size=1000)
    if mails:
        _queue_mails(mails)
    if chats:
        from notifications.tasks import send_chats as task

        payload = [[str(r.pk), method, who, str(tenant) if tenant else None, *rest] for r, method, who, tenant, *rest
                   in chats]
        transaction.on_commit(partial(task.delay, payload), robust=True)
