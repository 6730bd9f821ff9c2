"""The database part of the lean attribute and time-series saves (devices/api/lean_app.py): the
saves of concurrent requests run together, as one batch in one thread.

    save = await submit(Save(...))   # save.error: the error to answer; None: saved and announced

A request through Django costs its own thread hop, a user query, an entity query, an upsert and a
wait on the rule engine's outbox. Here the saves waiting when a batch starts (group commit: no timer;
under load a batch is what arrived while the previous one ran) share one user query, one entity
query per user and entity type (users and entities found lately are not asked for again: USER_TTL,
ENTITY_TTL), one attribute upsert and one time-series write; the
``attributes_saved`` signal is sent per save as the Django view sends it, and receivers whose work
is cheaper done once for the batch leave it to the batch (devices.services.BATCHED: the rule
engine's messages of the whole batch go to the broker in one publish, from this thread, before any
request is answered).

The checks run in the order the Django view (DRF) makes them, so that a request gets the same answer
either way: the user (401), its authority (403), the tenant profile's REST limits (429), the
entity's type and id (400), the entity (404: another tenant's or customer's is not seen), then the
scope and the body (400).
"""

import asyncio
import logging
import time
import weakref
from dataclasses import dataclass
from types import SimpleNamespace

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from rest_framework import exceptions

from devices import services
from devices.api.telemetry import ENTITY_MODELS, not_found, visible
from devices.attributes import save_attributes_many
from devices.models import AssetProfile, DeviceProfile
from devices.telemetry import Point, write_points
from tbproject.api.authentication import TokenExpiredError
from tbproject.api.permissions import IsTenantUser
from tbproject.api.throttles import TenantProfileThrottle
from tbproject.api.tokens import outdated
from tbproject.clock import now_ms
from tbproject.db import read_again
from tbproject.process_cache import ProcessCache

__all__ = ["Save", "submit", "run_batch", "MAX_BATCH", "forget_entities"]

log = logging.getLogger(__name__)

#: Most saves in one batch.
MAX_BATCH = 500
#: Most seconds a batch waits for the clients of the last one (_Batcher).
LINGER = 0.002


@dataclass(slots=True)
class Save:
    """One request's save. ``path_error``: the 400 of the entity's type or id; ``late_error``: the
    400 of the scope or the body (raised after the entity is found, as the view raises them)."""

    user_id: str
    #: the token's ``cc`` claim: a token issued before the user's last password change or disable is refused
    credentials: object = None
    #: "attributes" or "timeseries"
    kind: str = "attributes"
    entity_type: str = ""
    model: type | None = None
    pk: object = None
    scope: str = ""
    values: dict | None = None
    #: a time-series save's [(ts, {key: value})]
    entries: list | None = None
    path_error: Exception | None = None
    late_error: Exception | None = None
    #: set by the batch: the error to answer (None: saved and announced)
    error: Exception | None = None


def _read(query):
    """``query()``; again on a new connection when the one it ran on was broken (a restarted server).

    The batch thread is one long-lived thread: it keeps its connection (or its pool's) between
    batches rather than give it back and take it again for every batch."""
    return read_again(query, "lean attribute saves", recycle=False)


#: Seconds a user row read here serves later batches of this process. ThingsBoard does not read the
#: user per request at all (its JWT filter trusts the token's claims); this keeps the view's checks
#: (the user exists and is enabled, its authority, tenant and customer) at most this stale, and a
#: change saved in this process applies at once.
USER_TTL = 2.0
_users_seen: dict[str, tuple[float, object]] = {}


def _users(saves: list[Save]) -> dict:
    now, found, missing = time.monotonic(), {}, set()
    for user_id in {s.user_id for s in saves}:
        entry = _users_seen.get(user_id)
        if entry is not None and entry[0] > now:
            found[user_id] = entry[1]
        else:
            missing.add(user_id)
    if missing:
        if len(_users_seen) > 10_000:
            _users_seen.clear()
        for user in _read(lambda: list(get_user_model().objects.filter(pk__in=missing).defer("password_history"))):
            found[str(user.pk)] = user
            if not connection.in_atomic_block:  # a test's rows are rolled back: never keep them
                _users_seen[str(user.pk)] = (now + USER_TTL, user)
    return found


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="devices.lean_batch.user_saved")
@receiver(post_delete, sender=settings.AUTH_USER_MODEL, dispatch_uid="devices.lean_batch.user_deleted")
def _forget_users(sender, **kwargs) -> None:
    _users_seen.clear()
    transaction.on_commit(_users_seen.clear)
    _entities_seen.forget_now_and_on_commit()  # what a user sees was decided with its old row


#: Seconds an entity row found here serves later batches of this process, for the same user: the
#: lookup (a query joining the profile, one per batch) was a fifth of the web process's CPU per
#: attribute save and a sixth of PostgreSQL's (docs/performance.md). Only entities found are kept (a
#: missing one is looked up again); saving or deleting an entity, a profile or a user in this
#: process drops them at once, and another process's change (a deletion, a move to another customer)
#: reaches this one within the TTL, as the user rows above and the pipeline's devices
#: (devices/known.py) do.
ENTITY_TTL = USER_TTL
#: (user id, model, pk) -> the row as visible(model, user) gave it
_entities_seen = ProcessCache(100_000)


def _forget_entities(sender, **kwargs) -> None:
    _entities_seen.forget_now_and_on_commit()


#: for an app above whose changes alter what a user sees (roles/: sharing an entity group)
forget_entities = _forget_entities


# The models whose saves or deletions change an entity row or what it shows (the profile's name is
# its type), each by name: a post_delete receiver for every model would cost every other model's
# bulk deletes their fast path (Django's collector then loads and signals each row).
for _model in (*ENTITY_MODELS.values(), DeviceProfile, AssetProfile):
    post_save.connect(_forget_entities, sender=_model, dispatch_uid=f"devices.lean_batch.saved.{_model.__name__}")
    post_delete.connect(_forget_entities, sender=_model, dispatch_uid=f"devices.lean_batch.deleted.{_model.__name__}")


def _allowed(save: Save, user) -> Exception | None:
    """DRF's authentication, permission and throttle steps for one request, in its order."""
    if user is None or not user.is_active:
        return exceptions.AuthenticationFailed("User not found or disabled")
    if outdated(user, save.credentials):
        return TokenExpiredError()
    # the route the Django view would have resolved, so that the role table applies (roles/enforcement.py)
    name = "telemetry-timeseries-save" if save.kind == "timeseries" else "telemetry-attributes-save"
    # (the entity's id too: a customer user's write to an entity of a group shared with it needs WRITE there)
    match = SimpleNamespace(url_name=name, kwargs={"entity_type": save.entity_type, "scope": save.scope,
                                                   "entity_id": save.pk})
    request = SimpleNamespace(user=user, method="POST", resolver_match=match)
    if not IsTenantUser().has_permission(request, None):
        return exceptions.PermissionDenied(IsTenantUser.message)
    throttle = TenantProfileThrottle()
    if not throttle.allow_request(request, None):
        return exceptions.Throttled(throttle.wait())
    return save.path_error


def _entities(saves: list[Save], users: dict) -> dict:
    """{(user id, model, pk): row} of the entities each user may see: those seen lately (ENTITY_TTL),
    and one query per user and model for the others."""
    now, found, wanted = time.monotonic(), {}, {}
    for save in saves:
        key = (save.user_id, save.model, save.pk)
        row = _entities_seen.get(key, now)
        if row is not None:
            found[key] = row
        else:
            wanted.setdefault((save.user_id, save.model), set()).add(save.pk)
    generation = _entities_seen.generation  # a lookup that raced with a change does not keep what it read
    loaded = []
    for (user_id, model), pks in wanted.items():
        # no ORDER BY: the models' default (by name) can lead the planner to walk a whole tenant's rows
        for row in visible(model, users[user_id]).filter(pk__in=pks).order_by():
            found[(user_id, model, row.pk)] = row
            loaded.append(((user_id, model, row.pk), row))
    if loaded and not connection.in_atomic_block:  # a test's rows are rolled back: never keep them
        _entities_seen.put_many(loaded, generation, ENTITY_TTL, now=now)
    return found


def _store(saves: list[tuple[Save, object]]) -> None:
    """One upsert of every save's values, overwriting as devices.attributes.save_attributes does
    (a later request's value of the same key wins)."""
    ts = now_ms()
    save_attributes_many(((entity.pk, save.scope, key, value, ts) for save, entity in saves
                          for key, value in save.values.items()), keep_newer=False, tenant_id=_tenant_of(saves))


def _tenant_of(stored: list[tuple[Save, object]]):
    """The one tenant of a batch's entities (announced with its writes: devices/data_events.py), else None."""
    tenants = {getattr(entity, "tenant_id", None) for _, entity in stored}
    return tenants.pop() if len(tenants) == 1 else None


def run_batch(saves: list[Save]) -> None:
    """Check, store and announce ``saves``; a refused one's ``error`` is set. Raises only
    when the database failed (every save of the batch then answers 500, as the view would)."""
    users = _users(saves)
    looked_up = []
    for save in saves:
        save.error = _allowed(save, users.get(save.user_id))
        if save.error is None:
            looked_up.append(save)
    rows = _read(lambda: _entities(looked_up, users)) if looked_up else {}
    stored = []
    for save in looked_up:
        entity = rows.get((save.user_id, save.model, save.pk))
        if entity is None:
            save.error = not_found(save.entity_type, save.pk)
        elif save.late_error is not None:
            save.error = save.late_error
        else:
            stored.append((save, entity))
    points = [Point(entity.pk, key, ts, value) for save, entity in stored if save.kind == "timeseries"
              for ts, values in save.entries for key, value in values.items()]
    if points:
        write_points(points, tenant_id=_tenant_of([s for s in stored if s[0].kind == "timeseries"]))
    stored = [(save, entity) for save, entity in stored if save.kind == "attributes"]
    if not stored:
        return
    _store(stored)
    batched: dict = {}
    token = services.BATCHED.set(batched)
    try:
        for save, entity in stored:
            entity.entity_type = save.entity_type
            services.on_attributes_saved(entity, save.scope, save.values)
    finally:
        services.BATCHED.reset(token)
    for flush, items in batched.items():
        try:
            flush(items)
        except Exception:  # the attributes are saved: answered 200 as the view does (it logs the same way)
            log.exception("lean attribute saves: %d items of %s not handed on", len(items),
                          getattr(flush, "__qualname__", flush))


_run = sync_to_async(run_batch, thread_sensitive=True)


class _Batcher:
    """The saves of one event loop waiting for a batch, and the task that runs them.

    Group commit, with one refinement: the answers of a batch go out together, so its clients'
    next requests come back together too, over a millisecond or so. Starting the next batch with
    the first of them alone made batches alternate between one save and all the others (measured:
    1, 15, 1, 15...), each costing about the same round trips. So when fewer saves wait than the
    last batch held, the batch waits up to LINGER seconds for that many; an idle server (the last
    batch one save) never waits.

    One batch at a time: two in threads of their own (each with its connection) were measured
    slower, not faster (batches of 8 took 15-28 ms against 6-17 ms for 16 in one: the threads
    share the web process's interpreter lock, and saves of the same entities wait on each other's
    row locks)."""

    def __init__(self):
        self.waiting: list[tuple[Save, asyncio.Future]] = []
        self.running = False
        self.last_size = 0
        self.arrived = asyncio.Event()

    async def submit(self, save: Save) -> Save:
        future = asyncio.get_running_loop().create_future()
        self.waiting.append((save, future))
        self.arrived.set()
        if not self.running:
            self.running = True
            asyncio.get_running_loop().create_task(self._drain())
        await future
        return save

    async def _gather(self) -> None:
        """Wait up to LINGER for as many saves as the last batch held."""
        loop = asyncio.get_running_loop()
        target, deadline = min(self.last_size, MAX_BATCH), loop.time() + LINGER
        while len(self.waiting) < target and deadline > loop.time():
            self.arrived.clear()
            try:
                await asyncio.wait_for(self.arrived.wait(), deadline - loop.time())
            except TimeoutError:
                return

    async def _drain(self) -> None:
        try:
            while self.waiting:
                await self._gather()
                batch, self.waiting = self.waiting[:MAX_BATCH], self.waiting[MAX_BATCH:]
                self.last_size = len(batch)
                saves = [save for save, _ in batch]
                try:
                    await _run(saves)
                except Exception as exc:
                    log.exception("lean attribute saves: a batch of %d failed", len(saves))
                    for save in saves:
                        save.error = exc
                for _, future in batch:
                    if not future.done():
                        future.set_result(None)
        finally:
            self.running = False


_batchers: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Batcher]" = weakref.WeakKeyDictionary()


async def submit(save: Save) -> Save:
    """Run ``save`` in the next batch of this event loop; returns it with ``error`` or ``waits`` set."""
    loop = asyncio.get_running_loop()
    batcher = _batchers.get(loop)
    if batcher is None:
        batcher = _batchers[loop] = _Batcher()
    return await batcher.submit(save)

