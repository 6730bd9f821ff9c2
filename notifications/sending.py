"""Notification requests: made by a user or a rule, sent at once or scheduled.

    owner_of(user)                          -> the tenant id a user's notification records carry (None: system)
    targets_of(tenant_id, ids)              -> the owner's targets, in order; another owner's id is a 404
    submit(tenant_id, targets, template, ...) -> the NotificationRequest, SENT (or SCHEDULED with a delay)
    jobs_for(requests, targets_by_id)       -> delivery Jobs, recipients resolved once per target and batch
    send_due(now)                           -> sends the SCHEDULED requests whose time came (the periodic job)
"""

import logging

from django.db import transaction
from django.db.models import Q
from rest_framework.exceptions import NotFound

from notifications import recipients, user_prefs
from notifications.delivery import Job, send_batch
from notifications.models import NotificationRequest, NotificationTarget, RequestStatus
from tbproject.clock import now_ms
from tenants.choices import Authority

__all__ = ["owner_of", "targets_of", "submit", "jobs_for", "send_now", "send_due", "DUE_BATCH",
           "CLAIM_TIMEOUT_MS"]

DUE_BATCH = 200  # scheduled requests claimed per run of the periodic job
#: a claimed (PROCESSING) request not sent after this long is claimed again (its runner died)
CLAIM_TIMEOUT_MS = 10 * 60_000

log = logging.getLogger(__name__)


def owner_of(user):
    return None if user.authority == Authority.SYS_ADMIN else user.tenant_id


def targets_of(tenant_id, ids) -> list[NotificationTarget]:
    found = {str(t.pk): t for t in NotificationTarget.objects.filter(tenant_id=tenant_id, pk__in=list(ids))}
    missing = [i for i in ids if str(i) not in found]
    if missing:
        raise NotFound(f"Notification target with id [{missing[0]}] is not found")
    return [found[str(i)] for i in ids]


def jobs_for(requests: list[NotificationRequest], targets_by_id: dict, cache: dict | None = None) -> list[Job]:
    """A Job per request. Recipients are resolved once per (target, context) and the users'
    switched-off methods once per (recipient set, notification type), across the whole batch."""
    cache = {} if cache is None else cache
    jobs = []
    for request in requests:
        context = (request.context or {}).get("recipients") or {}
        key = tuple(sorted(context.items()))
        users, others = {}, []
        for target_id in request.targets:
            target = targets_by_id.get(str(target_id))
            if target is None:
                continue  # deleted since the request was made
            if target.target_type != "PLATFORM_USERS":
                others.append(target)
                continue
            found = cache.get((target.pk, key))
            if found is None:
                found = cache[(target.pk, key)] = recipients.resolve([target], request.tenant_id, context)[target.pk]
            users.update((u["pk"], u) for u in found)
        kind = (request.template or {}).get("notificationType") or "GENERAL"
        off_key = ("off", kind, frozenset(users))
        off = cache.get(off_key)
        if off is None:
            off = cache[off_key] = user_prefs.disabled(users, kind)
        jobs.append(Job(request, list(users.values()), others, off, (request.context or {}).get("params") or {}))
    return jobs


def send_now(requests: list[NotificationRequest], cache: dict | None = None) -> None:
    ids = {str(t) for r in requests for t in r.targets}
    owners = {r.tenant_id for r in requests}
    by_id = {str(t.pk): t for t in NotificationTarget.objects.filter(pk__in=ids, tenant_id__in=owners - {None})}
    if None in owners:
        by_id.update({str(t.pk): t for t in NotificationTarget.objects.filter(pk__in=ids, tenant__isnull=True)})
    send_batch(jobs_for(requests, by_id, cache))


def submit(tenant_id, targets: list, template: dict, *, template_ref=None, delay_sec: int = 0, info=None,
           additional_config=None, rule=None, sender=None, originator=None, context=None,
           now: int | None = None) -> NotificationRequest:
    now = now_ms() if now is None else now
    request = NotificationRequest(
        tenant_id=tenant_id, targets=[str(t.pk) for t in targets], template_ref=template_ref, template=template,
        info=info, additional_config=additional_config, rule=rule, sender=sender, context=context,
        originator_type=originator[0] if originator else "", originator_id=originator[1] if originator else None,
        created_time=now)
    if delay_sec > 0:
        request.status, request.send_at = RequestStatus.SCHEDULED, now + delay_sec * 1000
        request.save()
        return request
    send_now([request])
    return request


def send_due(now: int | None = None) -> int:
    """Claim and send the scheduled requests that are due; returns how many were claimed.

    A request is claimed by one runner only (a conditional UPDATE from SCHEDULED, or from a
    PROCESSING claim older than CLAIM_TIMEOUT_MS: a runner that died or failed midway, to
    PROCESSING with ``claimed_at``). The batch is sent together; when that fails each request is
    sent alone, and one that fails again is recorded SENT with the error in its stats (ThingsBoard's
    ``stats.error``; its client knows no FAILED status), never left PROCESSING."""
    now = now_ms() if now is None else now
    stale = Q(status=RequestStatus.PROCESSING, claimed_at__isnull=False, claimed_at__lt=now - CLAIM_TIMEOUT_MS)
    claimable = Q(status=RequestStatus.SCHEDULED, send_at__lte=now) | stale
    due = list(NotificationRequest.objects.filter(claimable).order_by("send_at").values_list("pk", flat=True)
               [:DUE_BATCH])
    if not due:
        return 0
    with transaction.atomic():
        claimed = [pk for pk in due if NotificationRequest.objects.filter(claimable, pk=pk).update(
            status=RequestStatus.PROCESSING, claimed_at=now) == 1]
    requests = list(NotificationRequest.objects.filter(pk__in=claimed))
    try:
        with transaction.atomic():
            send_now(requests)
    except Exception:
        log.exception("sending %d scheduled notification request(s) failed; sending each alone", len(requests))
        for request in requests:
            _send_alone(request)
    return len(requests)


def _send_alone(request: NotificationRequest) -> None:
    try:
        with transaction.atomic():
            send_now([request])
    except Exception as e:
        log.exception("scheduled notification request %s failed", request.pk)
        NotificationRequest.objects.filter(pk=request.pk, status=RequestStatus.PROCESSING).update(
            status=RequestStatus.SENT, send_at=None, stats={
                "sent": {}, "errors": {}, "totalSent": 0, "totalErrors": 0,
                "error": f"{type(e).__name__}: {e}"[:500]})
