"""A request's answer deferred until its wait (tbproject/waits.py) is over, without a thread.

    return answer_when(request, key, tenant_id=..., timeout_ms=..., finish=..., start=..., check=...)

The long-waiting web endpoints (rule-engine REST calls, two-way RPC, the device HTTP API's RPC and
shared-attribute long polls) answer through :func:`answer_when`. Under the web server (ASGI:
tbproject/asgi.py wraps Django in :func:`with_waits`) the view's synchronous part (authentication,
checks, queueing: database work, in the request's thread) returns at once and the wait goes on in
the event loop, as Spring's DeferredResult does in ThingsBoard: no thread is held while it waits,
and Django has closed the request's database connection. (An ``async def`` Django view would not
do: Django's ASGI handler gives every request its own thread-sensitive executor at
``request_started``, whose thread lives until the request ends.) Anywhere else (WSGI, the test
client) the same call waits in the request's thread.
"""

import asyncio
import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from django.db import close_old_connections, connection
from django.http import HttpResponse

from tbproject.waits import MAX_WAIT_MS, Slot, Waiter, arm, disarm, reserve

__all__ = ["answer_when", "with_waits", "SCOPE_KEY"]

log = logging.getLogger(__name__)


@dataclass(eq=False)
class _Wait:
    """A request's wait: its key, cap slot and deadline; ``check`` (optional, database work) is
    asked after arming and after each wake-up, and a result other than None ends the wait (an RPC
    poll takes the oldest pending call); without it the notification's payload does. ``finish``
    turns that result (None: timed out) into the response and must not touch the database."""

    key: str
    slot: Slot
    deadline: float  # time.monotonic()
    finish: Callable[[Any], HttpResponse]
    check: Callable[[], Any] | None
    waiter: Waiter = field(default=None)

    def result(self):
        return self.waiter.payload if self.waiter.done else None

    def close(self) -> None:
        if self.waiter is not None:
            disarm(self.waiter)
        self.slot.release()

    def run(self) -> HttpResponse:
        """The wait in this thread (no ASGI wrapper)."""
        try:
            while True:
                woken = self.waiter.wait(self.deadline - time.monotonic())
                if self.check is None:
                    return self.finish(self.result())
                disarm(self.waiter)
                self.waiter = arm(self.key)
                found = self.check()
                if found is not None or not woken or time.monotonic() >= self.deadline:
                    return self.finish(found)
        finally:
            self.close()

    async def run_async(self) -> HttpResponse:
        """The wait on the event loop; ``check`` runs in a small pool of threads of its own."""
        try:
            while True:
                woken = await self.waiter.wait_async(self.deadline - time.monotonic())
                if self.check is None:
                    return self.finish(self.result())
                disarm(self.waiter)
                self.waiter = arm(self.key, ready=False)  # never block the loop
                found = await asyncio.get_running_loop().run_in_executor(_pool(), _database_work, self.check)
                if found is not None or not woken or time.monotonic() >= self.deadline:
                    return self.finish(found)
        finally:
            self.close()


def _database_work(fn):
    try:
        return fn()
    finally:
        close_old_connections()  # as a request does: honours CONN_MAX_AGE / the pool


_pools: dict[int, ThreadPoolExecutor] = {}


def _pool() -> ThreadPoolExecutor:
    pool = _pools.get(os.getpid())
    if pool is None:
        pool = _pools[os.getpid()] = ThreadPoolExecutor(max_workers=4, thread_name_prefix="waits")
    return pool


SCOPE_KEY = "tbproject.waits"
_MARKER = b"x-tbproject-deferred"


class _Holder:
    __slots__ = ("wait",)

    def __init__(self):
        self.wait = None


def answer_when(request, key: str, *, tenant_id, timeout_ms: int, finish: Callable[[Any], HttpResponse],
                start: Callable[[], None] | None = None, check: Callable[[], Any] | None = None,
                device_poll: bool = False, device_key: str | None = None) -> HttpResponse:
    """The response of a request that waits for ``key`` (up to ``timeout_ms``, cut to MAX_WAIT_MS):
    counts it against the cap (TooManyWaiting; ``device_poll``: a device's long poll, whose key is
    also counted against MAX_WAITING_REQUESTS_PER_DEVICE; ``device_key``: the same count under another
    name, for a device's waits whose keys are per request, e.g. its client-side RPC calls), arms the
    waiter, runs ``start`` (what makes the notification come; its errors propagate) and ``check`` once, then waits (see
    :class:`_Wait`). Under :func:`with_waits` the wait goes on in the event loop after this returns."""
    slot = reserve(tenant_id, device_key or (key if device_poll else None))
    wait = _Wait(key, slot, time.monotonic() + min(timeout_ms, MAX_WAIT_MS) / 1000, finish, check)
    try:
        wait.waiter = arm(key)
        if start is not None:
            start()
        if check is not None:
            found = check()
            if found is not None:
                wait.close()
                return finish(found)
    except BaseException:
        wait.close()
        raise
    holder = getattr(request, "scope", {}).get(SCOPE_KEY)
    if holder is None or holder.wait is not None:
        if not connection.in_atomic_block:
            connection.close()  # the wait may last minutes: the connection is not needed for it
        return wait.run()
    holder.wait = wait
    response = HttpResponse(status=204)
    response[_MARKER.decode()] = "1"
    return response


def with_waits(app):
    """ASGI middleware in front of Django: a request whose view deferred its answer
    (:func:`answer_when`) is answered here once its wait is over, after Django is done with it (its
    thread and database connection released); the headers middleware added are kept."""

    async def waits_app(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)
        holder = _Holder()
        captured = []

        async def capture(message):
            if holder.wait is None:
                return await send(message)
            captured.append(message)

        await app({**scope, SCOPE_KEY: holder}, receive, capture)
        wait = holder.wait
        if wait is None:
            return
        start = captured[0] if captured and captured[0]["type"] == "http.response.start" else None
        headers = start.get("headers", []) if start is not None else []
        if not any(name.lower() == _MARKER for name, _ in headers):
            wait.close()  # the view deferred, then something else answered: send that
            for message in captured:
                await send(message)
            return
        response = await _until_done_or_gone(wait, receive)
        if response is None:
            return
        skip = {_MARKER, b"content-type", b"content-length"}
        kept = [(name.lower(), value) for name, value in headers if name.lower() not in skip]
        body = response.content
        own = [(k.lower().encode("latin-1"), str(v).encode("latin-1")) for k, v in response.items()
               if k.lower() != "content-length"]
        await send({"type": "http.response.start", "status": response.status_code,
                    "headers": [*kept, *own, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    return waits_app


async def _until_done_or_gone(wait: _Wait, receive) -> HttpResponse | None:
    """The wait's response, or None when the client went away first (the wait is given up)."""
    task = asyncio.ensure_future(wait.run_async())
    gone = asyncio.ensure_future(_disconnected(receive))
    try:
        await asyncio.wait({task, gone}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            try:
                return task.result()
            except Exception:
                log.exception("waits: answering a deferred request failed")
                return HttpResponse(status=500)
        task.cancel()
        with suppress(asyncio.CancelledError, Exception):
            await task
        return None
    finally:
        gone.cancel()
        wait.close()


async def _disconnected(receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
