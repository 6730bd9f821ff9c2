"""Server-side RPC rows (rulechains.rpc_models.Rpc): written, taken by a device's long poll, answered, expired.

    record(tenant_id, device_id, request_uuid, body, ...)   # the API: a persistent call for the device
    record_many(tenant_id, [Call(...), ...])                 # the node: a batch's calls, one INSERT
    poll(request, device, timeout_ms, finish)                # GET /api/v1/{token}/rpc (a response)
    wait_for_call(device, timeout_ms) -> Rpc | None          # the same, waiting in this thread
    answer(device, request_id, text) -> bool                 # POST /api/v1/{token}/rpc/{id}
    expire_due(tenant_id, device_id=None)                    # EXPIRED / deleted once past expirationTime
    sweep()                                                  # the periodic job: all tenants, and rpcTtlDays

The waits are tbproject/waits.py's: a long poll waits for a nudge on the key ``rpc-poll:{device}``
(a new call for the device, sent once its row is committed) and then takes the oldest QUEUED row
from the database, so a call queued while no poll waited is taken by the next one; a two-way REST
call waits on its ``requestUUID`` (rulechains.replies), which :func:`answer` sends the device's reply
to. Both cross processes with REDIS_URL and stay in memory in embedded mode.

Only QUEUED calls are for the poll: a call handed to the integration that serves the device is SENT
and never taken by a poll too (one delivery per call). Lightweight rows (``persistent`` false) are
the hand-over only: deleted once taken (one-way), answered (two-way) or expired. Persistent rows
keep their final state until the tenant profile's ``rpcTtlDays`` (ThingsBoard's persistent-RPC TTL,
counted from creation; 0 or unset keeps them) is over: :func:`sweep`, a periodic job.
"""

import json
import secrets
import uuid
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F

from rulechains import replies
from rulechains.rpc_models import OPEN, Rpc, RpcStatus
from tbproject import deferred, waits
from tbproject.clock import now_ms
from tenants.models import Tenant

__all__ = ["record", "record_many", "Call", "poll", "wait_for_call", "take", "answer", "expire_due", "sweep",
           "render", "device_call", "poll_key", "latest_expiration", "MAX_AHEAD_MS"]

_DAY_MS = 86_400_000
#: how far ahead a call's expirationTime may be (ThingsBoard reads a long; a bigint column holds less)
MAX_AHEAD_MS = 365 * _DAY_MS


def latest_expiration(now: int | None = None) -> int:
    """The latest expirationTime a call may have: now plus :data:`MAX_AHEAD_MS`."""
    return (now_ms() if now is None else now) + MAX_AHEAD_MS


def poll_key(device_id) -> str:
    return f"rpc-poll:{device_id}"


def _nudge(device_ids) -> None:
    keys = [(poll_key(d), None) for d in dict.fromkeys(device_ids)]
    transaction.on_commit(lambda: waits.notify_many(keys), robust=True)


def record(tenant_id, device_id, request_uuid: str, body: dict, *, oneway: bool, persistent: bool,
           expiration_time: int, additional_info=None, status: str = RpcStatus.QUEUED, nudge: bool = True) -> Rpc:
    """The row of call ``request_uuid`` for the device, made QUEUED (or ``status``) unless it exists
    (a persistent call the API saved first: then only a QUEUED one moves on to ``status``, and the
    returned row's status tells whether it did or a poll had taken it already). Once
    committed, a waiting long poll of the device is told (``nudge``, for a QUEUED call)."""
    rpc = Rpc.objects.filter(tenant_id=tenant_id, pk=request_uuid).first()
    if rpc is None:
        rpc = _create(tenant_id, device_id, request_uuid, body, oneway=oneway, persistent=persistent,
                      expiration_time=expiration_time, additional_info=additional_info, status=status)
    elif rpc.status == RpcStatus.QUEUED and status != RpcStatus.QUEUED:
        if Rpc.objects.filter(pk=rpc.pk, status=RpcStatus.QUEUED).update(status=status, version=F("version") + 1):
            rpc.status = status
        else:  # a poll took it meanwhile: the caller sees it is no longer QUEUED, nor ``status``
            rpc.refresh_from_db(fields=["status"])
    if nudge and rpc.status == RpcStatus.QUEUED:
        _nudge([device_id])
    return rpc


@dataclass(frozen=True)
class Call:
    """One call for :func:`record_many`: what :func:`record` takes, by name."""

    device_id: object
    request_uuid: str
    body: dict
    oneway: bool
    persistent: bool
    expiration_time: int
    status: str = RpcStatus.QUEUED


def record_many(tenant_id, calls: list[Call]) -> dict[str, str | None]:
    """:func:`record` of a batch's calls in one INSERT (plus an UPDATE for persistent calls the API
    saved QUEUED that are now SENT, and one SELECT): ``{request_uuid: the row's status}``, None for
    a call whose id is another tenant's call. Once committed, the waiting polls of the devices with
    a QUEUED call are told."""
    if not calls:
        return {}
    rows = [Rpc(pk=c.request_uuid, tenant_id=tenant_id, device_id=c.device_id, status=c.status, request=c.body,
                request_id=secrets.randbelow(2**31 - 1) + 1, oneway=c.oneway, persistent=c.persistent,
                expiration_time=c.expiration_time, additional_info={}) for c in calls]
    # ON CONFLICT DO NOTHING: a call the API saved first keeps its row (and state); so does a call
    # whose random request_id collided with another of its device's (made one at a time below)
    Rpc.objects.bulk_create(rows, ignore_conflicts=True)
    sent = [c.request_uuid for c in calls if c.status == RpcStatus.SENT]
    if sent:
        Rpc.objects.filter(tenant_id=tenant_id, pk__in=sent, status=RpcStatus.QUEUED).update(
            status=RpcStatus.SENT, version=F("version") + 1)
    found = {str(pk): status for pk, status in Rpc.objects.filter(
        tenant_id=tenant_id, pk__in=[c.request_uuid for c in calls]).values_list("pk", "status")}
    statuses = {}
    for c in calls:
        status = found.get(str(uuid.UUID(str(c.request_uuid))))
        if status is None:
            try:
                status = _create(tenant_id, c.device_id, c.request_uuid, c.body, oneway=c.oneway,
                                 persistent=c.persistent, expiration_time=c.expiration_time, status=c.status,
                                 additional_info=None).status
            except IntegrityError:
                status = None  # the id of another tenant's call
        statuses[c.request_uuid] = status
    queued = [c.device_id for c in calls if statuses[c.request_uuid] == RpcStatus.QUEUED]
    if queued:
        _nudge(queued)
    return statuses


def _create(tenant_id, device_id, request_uuid, body, *, status, additional_info, **fields) -> Rpc:
    for attempt in range(5):
        try:
            with transaction.atomic():
                return Rpc.objects.create(
                    pk=request_uuid, tenant_id=tenant_id, device_id=device_id, status=status, request=body,
                    request_id=secrets.randbelow(2**31 - 1) + 1,  # the device's integer id; unique per device
                    additional_info=additional_info if additional_info is not None else {}, **fields)
        except IntegrityError:
            existing = Rpc.objects.filter(tenant_id=tenant_id, pk=request_uuid).first()
            if existing is not None:  # made by another process meanwhile
                return existing
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


def expire_due(tenant_id, device_id=None) -> None:
    """Calls past their expirationTime and still open: persistent ones become EXPIRED, lightweight
    ones (nobody waits for them any longer) are deleted."""
    due = Rpc.objects.filter(status__in=OPEN, expiration_time__lte=now_ms())
    if tenant_id is not None:
        due = due.filter(tenant_id=tenant_id)
    if device_id is not None:
        due = due.filter(device_id=device_id)
    if not due.exists():  # the common case: a read, no write lock
        return
    due.filter(persistent=False).delete()
    due.filter(persistent=True).update(status=RpcStatus.EXPIRED, version=F("version") + 1)


def sweep() -> dict:
    """The periodic clean-up of every tenant's calls: persistent ones still open past their
    expiration become EXPIRED, lightweight ones past it are deleted whatever their state, and
    persistent ones created more than the tenant profile's ``rpcTtlDays`` ago are deleted (as
    ThingsBoard's RPC clean-up does). Counts of what it did."""
    now = now_ms()
    expired = Rpc.objects.filter(status__in=OPEN, persistent=True, expiration_time__lte=now).update(
        status=RpcStatus.EXPIRED, version=F("version") + 1)
    lightweight = Rpc.objects.filter(persistent=False, expiration_time__lte=now).delete()[0]
    removed = 0
    tenants = Rpc.objects.filter(persistent=True).values_list("tenant_id", flat=True).distinct()
    for tenant_id, data in Tenant.objects.filter(pk__in=tenants).values_list("pk", "tenant_profile__profile_data"):
        days = ttl_days(data)
        if days:
            removed += Rpc.objects.filter(tenant_id=tenant_id, persistent=True,
                                          created_time__lt=now - days * _DAY_MS).delete()[0]
    return {"expired": expired, "lightweight_deleted": lightweight, "ttl_deleted": removed}


def ttl_days(profile_data) -> int:
    """``rpcTtlDays`` of a tenant profile's configuration; 0 (keep) when unset or not a positive int."""
    configuration = profile_data.get("configuration") if isinstance(profile_data, dict) else None
    days = configuration.get("rpcTtlDays") if isinstance(configuration, dict) else None
    if isinstance(days, str) and days.strip().isdigit():
        days = int(days)
    return days if isinstance(days, int) and not isinstance(days, bool) and days > 0 else 0


def _candidates(device):
    return Rpc.objects.filter(tenant_id=device.tenant_id, device_id=device.pk, status=RpcStatus.QUEUED,
                              expiration_time__gt=now_ms()).order_by("created_time", "pk")


def take(device) -> Rpc | None:
    """The device's oldest QUEUED call, now DELIVERED (a lightweight one-way call is done then, and
    deleted); None when there is none. Two polls never take the same call, and a call SENT through
    an integration is never taken."""
    expire_due(device.tenant_id, device.pk)
    for rpc in _candidates(device)[:10]:
        if Rpc.objects.filter(pk=rpc.pk, status=RpcStatus.QUEUED).update(status=RpcStatus.DELIVERED,
                                                                          version=F("version") + 1):
            rpc.status = RpcStatus.DELIVERED
            if rpc.oneway and not rpc.persistent:
                rpc.delete()
            return rpc
    return None


def poll(request, device, timeout_ms: int, finish):
    """The response of a device's long poll: ``finish(rpc or None)`` once a call is taken or the
    timeout passed (tbproject.deferred: under the web server the poll holds no thread meanwhile).
    TooManyWaiting past the cap of waiting requests."""
    return deferred.answer_when(request, poll_key(device.pk), tenant_id=device.tenant_id, timeout_ms=timeout_ms,
                                finish=finish, check=lambda: take(device), device_poll=True)


def wait_for_call(device, timeout_ms: int) -> Rpc | None:
    """:func:`poll` in this thread: a call for the device, or None if none came in time."""
    return poll(None, device, timeout_ms, lambda rpc: rpc)


def device_call(rpc: Rpc) -> dict:
    """What the device's long poll answers: ``{"id", "method", "params"}``, params as JSON again."""
    params = rpc.request.get("params")
    if isinstance(params, str):
        try:
            params = json.loads(params)
        except ValueError:
            pass  # not JSON text: the string as it was given
    return {"id": rpc.request_id, "method": rpc.request.get("method"), "params": params}


def answer(device, request_id: int, text: str) -> bool:
    """The device's reply ``text`` (JSON) to its call ``request_id``: a persistent call keeps it and
    is SUCCESSFUL, a lightweight one hands it to the REST call waiting for it and is deleted. False
    when the device has no open two-way call of that id (an unknown, expired or answered one)."""
    expire_due(device.tenant_id, device.pk)
    rpc = Rpc.objects.filter(tenant_id=device.tenant_id, device_id=device.pk, request_id=request_id,
                             status__in=OPEN, oneway=False).first()
    if rpc is None:
        return False
    if rpc.persistent:
        updated = Rpc.objects.filter(pk=rpc.pk, status__in=OPEN).update(
            status=RpcStatus.SUCCESSFUL, response=json.loads(text), version=F("version") + 1)
        return bool(updated)
    if not Rpc.objects.filter(pk=rpc.pk, status__in=OPEN).delete()[0]:
        return False  # answered twice at once: the first one counts
    replies.send(device.tenant_id, [(str(rpc.pk), text, rpc.expiration_time)])
    return True


def _ref(kind: str, pk) -> dict:
    return {"entityType": kind, "id": str(pk)}


def render(rpc: Rpc) -> dict:
    """ThingsBoard's ``Rpc`` JSON."""
    info = rpc.additional_info if rpc.additional_info not in ({}, None) else None
    request = {"id": str(rpc.pk), "tenantId": _ref("TENANT", rpc.tenant_id), "deviceId": _ref("DEVICE", rpc.device_id),
               "oneway": rpc.oneway, "expirationTime": rpc.expiration_time, "body": rpc.request,
               "persisted": rpc.persistent, "retries": None, "additionalInfo": info}
    return {"id": _ref("RPC", rpc.pk), "createdTime": rpc.created_time, "tenantId": request["tenantId"],
            "deviceId": request["deviceId"], "expirationTime": rpc.expiration_time, "request": request,
            "response": rpc.response, "status": rpc.status, "additionalInfo": info}
