"""ThingsBoard's "REST API to rule engine": a request becomes a message, a rule node's reply its answer.

    return reply_later(request, tenant_id, request_id, start, timeout_ms=..., finish=...)  # a view
    body = call(tenant_id, "DEVICE", device_id, {"temp": 1}, timeout_ms=10_000)  # JSON text, or None
    send(tenant_id, [(request_id, body_text, expiration_ms), ...])  # the rest call / rpc call reply nodes

:func:`message` makes a REST_API_REQUEST message with ThingsBoard's metadata (``serviceId``,
``requestUUID``, ``expirationTime``), queued for the tenant's root chain the way every API-made
message goes (rulechains.outbox); the caller waits until a "rest call reply" node
(rulechains/nodes/rest_reply.py) sends the message data back for that ``requestUUID``, or the
timeout passes. Two-way RPC and a device's client-side RPC wait the same way for their replies.

The wait is tbproject/waits.py's, keyed ``reply:{tenant id}:{request id}``: a node of another tenant
that learned the id answers nobody. It is armed before the message is queued, so a reply cannot
come too early; a reply nobody waits for is dropped. A reply is one-shot: the first one answers.
Across processes (a worker runs the node, the web process waits) it crosses Redis pub/sub; embedded
it is handed over in memory. Each wait counts against the process's cap of waiting requests
(waits.TooManyWaiting, a 429) and, under the web server, holds no thread while it waits
(tbproject/deferred.py).
"""

import os
import socket
import uuid
from contextlib import contextmanager

from django.db import connection

from rulechains import messages
from tbproject import deferred, waits
from tbproject.clock import now_ms

__all__ = ["call", "message", "reply_later", "await_reply", "send", "expecting", "service_id", "key",
           "TooManyWaiting", "REST_API_REQUEST", "DEFAULT_TIMEOUT_MS", "MAX_TIMEOUT_MS"]

REST_API_REQUEST = "REST_API_REQUEST"
#: ThingsBoard's default wait for the reply
DEFAULT_TIMEOUT_MS = 10_000
#: the longest a caller may ask to wait: the one rule of every long wait (tbproject.waits)
MAX_TIMEOUT_MS = waits.MAX_WAIT_MS

TooManyWaiting = waits.TooManyWaiting


def key(tenant_id, request_id: str) -> str:
    """``tenant id:request id``, the name of a reply."""
    return f"{uuid.UUID(str(tenant_id))}:{request_id}"


def _wait_key(tenant_id, request_id: str) -> str:
    return f"reply:{key(tenant_id, request_id)}"


def service_id() -> str:
    """This process, as ThingsBoard's ``serviceId`` names the server that took the request."""
    return f"{socket.gethostname()}:{os.getpid()}"


def message(tenant_id, originator_type: str, originator_id, data, *, timeout_ms: int) -> tuple[str, list]:
    """``(request id, encoded REST_API_REQUEST)`` for outbox.queue."""
    request_id = str(uuid.uuid4())
    metadata = {"serviceId": service_id(), "requestUUID": request_id, "expirationTime": str(now_ms() + timeout_ms)}
    return request_id, [messages.encode(messages.Msg(REST_API_REQUEST, tenant_id, originator_type, originator_id,
                                                     data, metadata))]


def reply_later(request, tenant_id, request_id: str, start, *, timeout_ms: int, finish, device_key: str | None = None):
    """The response of ``request``, which waits for the reply to ``request_id``: ``start()`` (what
    makes the reply come: queue a message) runs once the reply is expected, ``finish(text or None)``
    makes the response (no database work there). TooManyWaiting past the cap; errors of ``start``
    propagate. ``device_key``: the waits of one device counted together against
    MAX_WAITING_REQUESTS_PER_DEVICE (a device's client-side RPC calls)."""
    return deferred.answer_when(request, _wait_key(tenant_id, request_id), tenant_id=tenant_id, timeout_ms=timeout_ms,
                                start=start, finish=finish, device_key=device_key)


def await_reply(tenant_id, request_id: str, start, *, timeout_ms: int) -> str | None:
    """:func:`reply_later` in this thread: the reply's text, or None after ``timeout_ms``."""
    with waits.reserve(tenant_id), expecting(tenant_id, request_id) as wait:
        start()
        if not connection.in_atomic_block:
            connection.close()  # the wait may be long: the connection is not needed for it
        return wait(min(timeout_ms, MAX_TIMEOUT_MS) / 1000)


def call(tenant_id, originator_type: str, originator_id, data, *, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> str | None:
    """Run ``data`` through the tenant's root chain as REST_API_REQUEST, waiting in this thread:
    the reply's JSON text, or None when none came within ``timeout_ms``."""
    from rulechains import outbox

    request_id, payload = message(tenant_id, originator_type, originator_id, data, timeout_ms=timeout_ms)
    return await_reply(tenant_id, request_id, lambda: outbox.queue(payload), timeout_ms=timeout_ms)


def send(tenant_id, replies: list[tuple[str, str, int | None]]) -> None:
    """Hand ``(request id, JSON text, expiration ms or None)`` replies to the callers of ``tenant_id``
    (the tenant of the node that sends them); a reply nobody of that tenant waits for is dropped."""
    waits.notify_many((_wait_key(tenant_id, request_id), body) for request_id, body, _ in replies)


@contextmanager
def expecting(tenant_id, request_id: str):
    """A ``wait(seconds) -> reply text | None`` for ``request_id`` of ``tenant_id``, armed before
    the message is queued."""
    waiter = waits.arm(_wait_key(tenant_id, request_id))

    def wait(seconds: float):
        waiter.wait(seconds)
        return waiter.payload if waiter.done else None

    try:
        yield wait
    finally:
        waits.disarm(waiter)
