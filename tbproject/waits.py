"""One way for a request to wait for something another thread or process makes happen.

    waiter = arm("rpc-poll:<device id>")          # before what makes the wake-up happen
    notify("rpc-poll:<device id>", payload)        # anywhere: a view, a rule node in a worker
    waiter.wait(seconds) / await waiter.wait_async(seconds); waiter.payload; disarm(waiter)

A waiter is keyed by a string; :func:`notify` wakes every waiter of the key with a JSON-able payload.
Embedded (no REDIS_URL) the waiters of this process get it in memory. With REDIS_URL it is
PUBLISHed on one channel (per Redis database) and each process that waits runs one listener thread
subscribed to it, which hands every message to the waiters of its key in that process. Pub/sub rather
than a Redis list per key: a list needs a blocking BLPOP, so a connection or a thread, per waiting
request, which is what this module exists to avoid; one subscription serves any number of waiters.
A notification nobody waits for is dropped, so a waiter is armed (and, the first time, the listener
subscribed) *before* what makes the notification happen runs; waits that may miss one across a
Redis outage (RPC polls) look at the database again when they time out.

The long-waiting web endpoints (rule-engine REST calls, two-way RPC, the device HTTP API's RPC and
shared-attribute long polls) wait through tbproject/deferred.py, which holds no thread per waiting
request under the web server.

Waiting requests are counted per process: at most MAX_WAITING_REQUESTS in all,
MAX_WAITING_REQUESTS_PER_TENANT of one tenant and, for a device's long poll (``reserve(tenant,
device=key)``), MAX_WAITING_REQUESTS_PER_DEVICE of that key: an attribute poll and an RPC poll of a
device are counted apart. One more is :class:`TooManyWaiting` (a 429).

A notification with a large payload that few wait for (shared-attribute changes) is published only
when some process may wait for its key: the waiter calls :func:`expect` first (with REDIS_URL a
Redis key per wait key, expiring just after the wait), and the notifier passes
``notify_many(..., expected_only=True)``, which asks Redis which keys are expected (one MGET)
before it publishes those.

Every long wait follows one timeout rule, ThingsBoard's HTTP transport's: 0 or none is the
endpoint's default, and no wait lasts longer than :data:`MAX_WAIT_MS` (300 s,
``transport.http.max_request_timeout``).
"""

import asyncio
import json
import logging
import os
import threading
import time
from contextlib import suppress

from django.conf import settings

from tbproject import redis_client

__all__ = ["arm", "subscribe", "Subscription", "disarm",
           "notify", "notify_many", "expect", "expect_many", "waiting", "Waiter", "TooManyWaiting", "Slot",
           "reserve", "count", "wait_ms", "MAX_WAIT_MS", "CHANNEL"]

log = logging.getLogger(__name__)

#: the longest any request waits (ThingsBoard's HTTP transport: transport.http.max_request_timeout)
MAX_WAIT_MS = 300_000
#: the channel notifications cross processes on; the Redis database number is appended
CHANNEL = "tb:waits"
_READY_S = 5.0  # how long arming waits for this process's listener to be subscribed


def wait_ms(requested: int | None, default_ms: int) -> int:
    """The one timeout rule of every long wait: ``requested`` ms, 0/negative/None meaning
    ``default_ms``, at most MAX_WAIT_MS."""
    if requested is None or requested <= 0:
        return min(default_ms, MAX_WAIT_MS)
    return min(requested, MAX_WAIT_MS)


# --- the cap ------------------------------------------------------------------------------------

class TooManyWaiting(Exception):
    """This process has MAX_WAITING_REQUESTS requests waiting, or the tenant (or device) its share of them."""


_counts: dict[str, int] = {}
_device_counts: dict[str, int] = {}
_total = 0
_count_lock = threading.Lock()


def _drop(counts: dict, name: str) -> None:
    if counts[name] <= 1:
        del counts[name]
    else:
        counts[name] -= 1


class Slot:
    """One waiting request counted against the cap until :meth:`release` (idempotent)."""

    __slots__ = ("tenant", "device", "released")

    def __init__(self, tenant: str, device: str | None = None):
        self.tenant, self.device, self.released = tenant, device, False

    def release(self) -> None:
        global _total
        with _count_lock:
            if self.released:
                return
            self.released = True
            _total -= 1
            _drop(_counts, self.tenant)
            if self.device is not None:
                _drop(_device_counts, self.device)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()


def reserve(tenant_id, device: str | None = None) -> Slot:
    """Counts a waiting request of ``tenant_id`` (and, for a device's long poll, of ``device``: the
    poll's wait key); TooManyWaiting past any cap."""
    global _total
    tenant = str(tenant_id)
    with _count_lock:
        if _total >= settings.MAX_WAITING_REQUESTS or \
                _counts.get(tenant, 0) >= settings.MAX_WAITING_REQUESTS_PER_TENANT or \
                (device is not None and _device_counts.get(device, 0) >= settings.MAX_WAITING_REQUESTS_PER_DEVICE):
            raise TooManyWaiting(tenant)
        _total += 1
        _counts[tenant] = _counts.get(tenant, 0) + 1
        if device is not None:
            _device_counts[device] = _device_counts.get(device, 0) + 1
    return Slot(tenant, device)


def count(tenant_id=None, *, device: str | None = None) -> int:
    """Requests waiting in this process: of ``device`` (a poll's key), of ``tenant_id``, or all of them."""
    with _count_lock:
        if device is not None:
            return _device_counts.get(device, 0)
        return _total if tenant_id is None else _counts.get(str(tenant_id), 0)


# --- waiters ------------------------------------------------------------------------------------

class Waiter:
    """Woken once, by the first notification of its key after it was armed: ``payload`` is that
    notification's. Waited on from a thread (:meth:`wait`) or an event loop (:meth:`wait_async`)."""

    __slots__ = ("key", "payload", "done", "_event", "_lock", "_future", "_loop")

    def __init__(self, key: str):
        self.key, self.payload, self.done = key, None, False
        self._event, self._lock = threading.Event(), threading.Lock()
        self._future = self._loop = None

    def deliver(self, payload) -> None:
        with self._lock:
            if self.done:
                return
            self.done, self.payload = True, payload
            future, loop = self._future, self._loop
        self._event.set()
        if future is not None:
            with suppress(RuntimeError):  # the loop is gone: nobody waits any longer
                loop.call_soon_threadsafe(_resolve, future)

    def wait(self, seconds: float) -> bool:
        """True once woken, False after ``seconds``."""
        return self._event.wait(max(seconds, 0))

    async def wait_async(self, seconds: float) -> bool:
        loop = asyncio.get_running_loop()
        with self._lock:
            if self.done:
                return True
            self._loop, self._future = loop, loop.create_future()
        try:
            await asyncio.wait_for(self._future, max(seconds, 0))
        except TimeoutError:
            pass
        return self.done


def _resolve(future) -> None:
    if not future.done():
        future.set_result(None)


_waiters: dict[str, set[Waiter]] = {}
_lock = threading.Lock()


def arm(key: str, *, ready: bool = True) -> Waiter:
    """A waiter of ``key``, registered now: a notification from here on wakes it. With REDIS_URL
    and ``ready``, returns once this process's listener is subscribed (bounded)."""
    return _register(Waiter(key), ready)


def _register(entry, ready: bool):
    """Add a waiter or subscription to ``_waiters``; with REDIS_URL and ``ready``, once the listener is subscribed."""
    with _lock:
        _waiters.setdefault(entry.key, set()).add(entry)
    if settings.REDIS_URL:
        listener = _listener()
        if ready:
            listener.ready.wait(_READY_S)
    return entry


class Subscription:
    """Woken by every notification of its key until :func:`disarm`ed (a long-lived listener, such as a device's
    MQTT session subscribed to its shared attributes): ``callback(payload)`` runs in the notifying thread (this
    process's listener thread across processes), so it only hands the payload on (``call_soon_threadsafe``)."""

    __slots__ = ("key", "callback")

    def __init__(self, key: str, callback):
        self.key, self.callback = key, callback

    def deliver(self, payload) -> None:
        self.callback(payload)


def subscribe(key: str, callback, *, ready: bool = True) -> Subscription:
    """A :class:`Subscription` of ``key``, registered now (as :func:`arm` registers a waiter)."""
    return _register(Subscription(key, callback), ready)


def disarm(waiter: Waiter) -> None:
    with _lock:
        found = _waiters.get(waiter.key)
        if found is not None:
            found.discard(waiter)
            if not found:
                del _waiters[waiter.key]


def waiting(key: str) -> int:
    """Waiters of ``key`` armed in this process (tests, metrics)."""
    with _lock:
        return len(_waiters.get(key, ()))


def _deliver(key: str, payload) -> None:
    with _lock:
        found = list(_waiters.get(key, ()))
    if found and callable(payload):
        payload = payload()
    for waiter in found:
        waiter.deliver(payload)


def notify(key: str, payload=None) -> None:
    notify_many([(key, payload)])


def notify_many(items, *, expected_only: bool = False) -> None:
    """Wake the waiters of each ``(key, payload)``, in this process or (REDIS_URL) any process;
    ``expected_only``: across processes, only the keys some process expects now (:func:`expect`; a
    payload nobody waits for is neither encoded nor sent). A payload may be a function of no
    arguments: it is called only for a key that is delivered or published."""
    client = redis_client.shared(socket_timeout=5, connect_timeout=2) if settings.REDIS_URL else None
    if client is None:
        for key, payload in items:
            _deliver(key, payload)
        return
    if expected_only:
        items = list(items)
        if not items:
            return
        marks = client.mget([_expect_key(key) for key, _ in items])
        items = [item for item, mark in zip(items, marks, strict=True) if mark is not None]
    items = list(items)
    if not items:
        return
    pipe = client.pipeline(transaction=False)
    channel = _channel(client)
    for key, payload in items:
        if callable(payload):
            payload = payload()
        pipe.publish(channel, json.dumps([key, payload], separators=(",", ":")))
    pipe.execute()


def _expect_key(key: str) -> str:
    return f"{CHANNEL}:expect:{key}"


def expect(key: str, timeout_ms: int) -> None:
    """Tell every process that a waiter of ``key`` may wait for up to ``timeout_ms`` from now
    (call it before arming): ``notify_many(..., expected_only=True)`` publishes ``key`` meanwhile.
    With REDIS_URL a Redis key that expires a second after the wait (only ever made later by
    another waiter, never sooner); embedded nothing. A Redis error is logged: the wait goes on and
    may miss a notification, as any wait across a Redis outage may."""
    expect_many([key], timeout_ms)


def expect_many(keys, timeout_ms: int) -> None:
    """:func:`expect` of each of ``keys``, in one Redis round trip."""
    keys = list(keys)
    if not settings.REDIS_URL or not keys:
        return
    ms = max(int(timeout_ms), 0) + 1000
    try:
        client = redis_client.shared(socket_timeout=5, connect_timeout=2)
        if client is None:
            return
        pipe = client.pipeline(transaction=False)
        for key in keys:
            pipe.set(_expect_key(key), 1, px=ms, nx=True)
            pipe.pexpire(_expect_key(key), ms, gt=True)
        pipe.execute()
    except Exception:
        log.exception("waits: could not mark %s as expected", keys[0] if len(keys) == 1 else f"{len(keys)} keys")


def _channel(client) -> str:
    # pub/sub channels are shared by every database of a server: keep deployments (and tests) apart
    return f"{CHANNEL}:{client.connection_pool.connection_kwargs.get('db', 0)}"


class _Listener(threading.Thread):
    """One per process and REDIS_URL: subscribed while the process lives, subscribing again after a
    lost connection (notifications made while it is away are not seen)."""

    def __init__(self):
        super().__init__(name="waits-listener", daemon=True)
        self.ready, self.stopped = threading.Event(), False

    def run(self) -> None:
        while not self.stopped:
            pubsub = None
            try:
                client = redis_client.shared(socket_timeout=30, connect_timeout=2)
                if client is None:
                    return
                pubsub = client.pubsub()
                pubsub.subscribe(_channel(client))
                while not self.stopped:
                    message = pubsub.get_message(timeout=5.0)
                    if message is None:
                        continue
                    if message["type"] == "subscribe":
                        self.ready.set()
                    elif message["type"] == "message":
                        self._handle(message["data"])
            except Exception:  # Redis away: keep trying; waits meanwhile end on their timeout
                self.ready.clear()
                log.exception("waits: Redis subscription lost; retrying")
                time.sleep(1.0)
            finally:
                if pubsub is not None:
                    with suppress(Exception):
                        pubsub.close()

    @staticmethod
    def _handle(data) -> None:
        try:
            key, payload = json.loads(data)
        except (ValueError, TypeError):
            log.warning("waits: unreadable notification ignored")
            return
        if isinstance(key, str):
            _deliver(key, payload)


_listeners: dict[tuple, _Listener] = {}  # (pid, url) -> the running listener


def _listener() -> _Listener:
    key = (os.getpid(), settings.REDIS_URL)
    found = _listeners.get(key)
    if found is None or not found.is_alive():
        with _lock:
            found = _listeners.get(key)
            if found is None or not found.is_alive():
                for stale in [k for k in _listeners if k != key]:  # another URL (tests) or a parent's
                    _listeners.pop(stale).stopped = True
                found = _listeners[key] = _Listener()
                found.start()
    return found
