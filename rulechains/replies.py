"""ThingsBoard's "REST API to rule engine": a request becomes a message, a rule node's reply its answer.

    body = call(tenant_id, "DEVICE", device_id, {"temp": 1}, timeout_ms=10_000)  # JSON text, or None
    send(tenant_id, [(request_id, body_text, expiration_ms), ...])               # the rest call reply node

:func:`call` makes a REST_API_REQUEST message with ThingsBoard's metadata (``serviceId``,
``requestUUID``, ``expirationTime``), queues it for the tenant's root chain the way every
API-made message goes (rulechains.outbox), and waits until a "rest call reply" node
(rulechains/nodes/rest_reply.py) sends the message data back for that ``requestUUID``, or the
timeout passes. A reply is keyed by the tenant and the request id: a node of another tenant that
learned the id answers nobody. At most RULE_ENGINE_REST_MAX_WAITING_CALLS calls of one tenant wait
at a time in one web process (each holds a thread, and with Redis a connection); one more raises
:class:`TooManyWaiting` (a 429).

The reply crosses processes in production (a worker runs the node, the web process waits): with
REDIS_URL each request has a Redis list ``KEY_PREFIX + tenant id + ":" + requestUUID``, which the node RPUSHes to
(expiring with the request) and the caller BLPOPs, so a reply that comes before the wait starts
is not lost either. In embedded mode (no REDIS_URL) the engine runs in this process and a reply
is handed over in memory, to whichever thread waits. The wait blocks only the calling thread:
the web process serves each request's synchronous part in a thread of that request
(tbproject/asgi.py), never on the event loop.
"""

import os
import socket
import threading
import uuid
from contextlib import contextmanager

from django.conf import settings
from django.db import connection

from rulechains import messages
from tbproject import redis_client
from tbproject.clock import now_ms

__all__ = ["call", "send", "expecting", "service_id", "key", "TooManyWaiting", "REST_API_REQUEST", "KEY_PREFIX",
           "DEFAULT_TIMEOUT_MS", "MAX_TIMEOUT_MS"]

REST_API_REQUEST = "REST_API_REQUEST"
KEY_PREFIX = "tb:rule-engine-reply:"
#: ThingsBoard's default wait for the reply
DEFAULT_TIMEOUT_MS = 10_000
#: the longest a caller may ask to wait: each waiting request holds a thread of the web process
MAX_TIMEOUT_MS = 60_000
#: how long past the request's expiration a reply stays in Redis (clocks of two machines differ)
_GRACE_MS = 5_000


class TooManyWaiting(Exception):
    """The tenant already has RULE_ENGINE_REST_MAX_WAITING_CALLS calls waiting in this process."""


def key(tenant_id, request_id: str) -> str:
    """``tenant id:request id``, the name of a reply on both sides (Redis list, slot in memory)."""
    return f"{uuid.UUID(str(tenant_id))}:{request_id}"


def service_id() -> str:
    """This process, as ThingsBoard's ``serviceId`` names the server that took the request."""
    return f"{socket.gethostname()}:{os.getpid()}"


def call(tenant_id, originator_type: str, originator_id, data, *, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> str | None:
    """Run ``data`` through the tenant's root chain as REST_API_REQUEST; the reply's JSON text, or
    None when no reply came within ``timeout_ms``. TooManyWaiting when the tenant has too many calls
    waiting here already; other errors when the message could not be queued."""
    from rulechains import outbox

    request_id = str(uuid.uuid4())
    with _waiting(tenant_id), expecting(tenant_id, request_id) as wait:
        metadata = {"serviceId": service_id(), "requestUUID": request_id,
                    "expirationTime": str(now_ms() + timeout_ms)}
        payload = [messages.encode(messages.Msg(REST_API_REQUEST, tenant_id, originator_type, originator_id, data,
                                                metadata))]
        outbox.queue(payload)
        if not connection.in_atomic_block:
            # the wait may last a minute: the database connection is not needed for it
            connection.close()
        return wait(timeout_ms / 1000)


def send(tenant_id, replies: list[tuple[str, str, int | None]]) -> None:
    """Hand ``(request id, JSON text, expiration ms or None)`` replies to the callers of ``tenant_id``
    (the tenant of the node that sends them); a reply nobody of that tenant waits for is dropped
    (in Redis, when the request expires)."""
    if not replies:
        return
    if settings.REDIS_URL:
        now = now_ms()
        pipe = _redis().pipeline(transaction=False)
        for request_id, body, expiration in replies:
            ttl = min(max((expiration or now + MAX_TIMEOUT_MS) - now, 0), MAX_TIMEOUT_MS) + _GRACE_MS
            pipe.rpush(KEY_PREFIX + key(tenant_id, request_id), body)
            pipe.pexpire(KEY_PREFIX + key(tenant_id, request_id), ttl)
        pipe.execute()
        return
    with _cond:
        for request_id, body, _ in replies:
            slot = key(tenant_id, request_id)
            if slot in _slots and _slots[slot] is None:
                _slots[slot] = body
        _cond.notify_all()


# In memory (embedded mode): key(tenant, request id) -> reply text, None while it is awaited.
_slots: dict[str, str | None] = {}
_cond = threading.Condition()


@contextmanager
def expecting(tenant_id, request_id: str):
    """A ``wait(seconds) -> reply text | None`` for ``request_id`` of ``tenant_id``, ready before the
    message is queued."""
    slot = key(tenant_id, request_id)
    if settings.REDIS_URL:
        def wait(seconds: float):
            # BLPOP takes fractions of a second (Redis 6+); 0 would mean "forever"
            found = _redis().blpop([KEY_PREFIX + slot], timeout=max(seconds, 0.01))
            return None if found is None else found[1].decode()

        yield wait
        return

    def wait(seconds: float):
        with _cond:
            _cond.wait_for(lambda: _slots.get(slot) is not None, timeout=seconds)
            return _slots.get(slot)

    with _cond:
        _slots[slot] = None
    try:
        yield wait
    finally:
        with _cond:
            _slots.pop(slot, None)


# Calls waiting in this process, per tenant (RULE_ENGINE_REST_MAX_WAITING_CALLS).
_waiters: dict[str, int] = {}
_waiters_lock = threading.Lock()


@contextmanager
def _waiting(tenant_id):
    """Counts a waiting call of ``tenant_id`` while the block runs; TooManyWaiting beyond the cap."""
    tenant = str(tenant_id)
    with _waiters_lock:
        if _waiters.get(tenant, 0) >= settings.RULE_ENGINE_REST_MAX_WAITING_CALLS:
            raise TooManyWaiting(tenant)
        _waiters[tenant] = _waiters.get(tenant, 0) + 1
    try:
        yield
    finally:
        with _waiters_lock:
            if _waiters[tenant] <= 1:
                del _waiters[tenant]
            else:
                _waiters[tenant] -= 1


def _redis():
    """This process's client of REDIS_URL; its read timeout outlasts the longest wait."""
    return redis_client.shared(socket_timeout=MAX_TIMEOUT_MS / 1000 + 5, connect_timeout=2)
