"""Shared-attribute changes handed to the devices that wait for them (ThingsBoard's attribute
update subscription, served over HTTP as a long poll: devices/api/device_updates.py).

    announce([(entity_id, {"k": v}, ["gone"])])        # devices/attributes.py, after every shared write
    return answer_when_changed(request, device, ms, finish)  # the poll's response: finish(update or None)
    update = wait(device_id, seconds)                  # the same in this thread: {"k": v, "deleted": [...]}

Every write of SHARED_SCOPE attributes goes through devices/attributes.py (the REST API, its lean
batch, rule nodes, deletes), which calls :func:`announce`; the change is handed on once the
transaction commits, so a rolled-back save wakes nobody. The shape is ThingsBoard's
AttributeUpdateNotification as its transports send it: the updated keys with their values, and
``"deleted": [keys]`` when keys were removed.

The hand-over is tbproject/waits.py's, keyed ``attributes:{device id}``: in memory embedded, over
Redis pub/sub across processes (several web processes, the rule engine in workers). Every poll of
the device gets the change. A change made while no poll of that device waits is not kept, as
ThingsBoard keeps none: the next poll waits for the next change. So across processes a change is
published only for an entity some process has a poll waiting for (waits.expect, a Redis key per
polled device expiring after its poll): a shared attribute of an asset, or of a device nobody
polls, costs one MGET per commit and no payload on the channel every web process decodes; its
values are not even decoded (the payload is made only for a device found waiting).

A device has at most MAX_WAITING_REQUESTS_PER_DEVICE polls waiting in a process (429 past it).
"""

from functools import partial
from uuid import UUID

from django.db import transaction

from tbproject import deferred, waits

__all__ = ["announce", "answer_when_changed", "wait", "waiting", "key"]


def key(device_id) -> str:
    return f"attributes:{UUID(str(device_id))}"


def announce(changes) -> None:
    """Hand on ``[(entity_id, {key: value}, [deleted keys])]`` once the current transaction commits.

    ``{key: value}`` may be a function of no arguments returning it: it is called only for a device
    that has a poll waiting (a batch of saves need not decode values nobody asked for)."""
    changes = [(str(entity_id), values, list(deleted or ())) for entity_id, values, deleted in changes
               if values or deleted]
    if changes:
        transaction.on_commit(partial(_publish, changes), robust=True)


def _payload(values, deleted: list) -> dict:
    update = dict(values() if callable(values) else values or {})
    if deleted:
        update["deleted"] = deleted
    return update


def _publish(changes) -> None:
    waits.notify_many(((key(entity_id), partial(_payload, values, deleted)) for entity_id, values, deleted in changes),
                      expected_only=True)


def answer_when_changed(request, device, timeout_ms: int, finish):
    """The poll's response: ``finish(update)`` at the device's next change, ``finish(None)`` after
    ``timeout_ms``. TooManyWaiting past the cap of waiting requests (the device's included)."""
    waits.expect(key(device.pk), timeout_ms)
    return deferred.answer_when(request, key(device.pk), tenant_id=device.tenant_id, timeout_ms=timeout_ms,
                                finish=finish, device_poll=True)


def waiting(device_id) -> int:
    """Polls of ``device_id`` waiting in this process (for tests and metrics)."""
    return waits.waiting(key(device_id))


def wait(device_id, seconds: float) -> dict | None:
    """The next change of ``device_id``'s shared attributes, or None after ``seconds`` (this thread;
    not counted against the cap)."""
    waits.expect(key(device_id), int(seconds * 1000))
    waiter = waits.arm(key(device_id))
    try:
        waiter.wait(seconds)
        return waiter.payload if waiter.done else None
    finally:
        waits.disarm(waiter)
