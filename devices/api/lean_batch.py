"""The database part of the lean attribute saves (devices/api/lean_app.py): the saves of concurrent
requests run together, as one batch in one thread.

    outcome = await submit(Save(...))   # None (saved; outcome.waits to await) or the error to answer

A request through Django costs its own thread hop, a user query, an entity query, an upsert and a
wait on the rule engine's outbox. Here the saves waiting when a batch starts (group commit: no timer;
under load a batch is what arrived while the previous one ran) share one user query, one entity
query per user and entity type, and one upsert; the ``attributes_saved`` signal is sent per save as
the Django view sends it, and receivers that would wait on the broker hand their wait back
(devices.services.DEFERRED_WAITS) so that the thread goes on to the next batch.

The checks run in the order the Django view (DRF) makes them, so that a request gets the same answer
either way: the user (401), its authority (403), the tenant profile's REST limits (429), the
entity's type and id (400), the entity (404: another tenant's or customer's is not seen), then the
scope and the body (400).
"""

import asyncio
import logging
import weakref
from dataclasses import dataclass, field
from types import SimpleNamespace

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.db import InterfaceError, OperationalError, close_old_connections, connection
from rest_framework import exceptions

from devices import services
from devices.api.telemetry import not_found, visible
from devices.models import Attribute
from devices.values import COLUMNS, encode
from tbproject.api.permissions import IsTenantUser
from tbproject.api.throttles import TenantProfileThrottle
from tbproject.clock import now_ms

__all__ = ["Save", "submit", "run_batch", "MAX_BATCH"]

log = logging.getLogger(__name__)

#: Most saves in one batch.
MAX_BATCH = 500


@dataclass(slots=True)
class Save:
    """One request's save. ``path_error``: the 400 of the entity's type or id; ``late_error``: the
    400 of the scope or the body (raised after the entity is found, as the view raises them)."""

    user_id: str
    entity_type: str = ""
    model: type | None = None
    pk: object = None
    scope: str = ""
    values: dict | None = None
    path_error: Exception | None = None
    late_error: Exception | None = None
    #: set by the batch: the error to answer, or the futures of the receivers' hand-offs
    error: Exception | None = None
    waits: list = field(default_factory=list)


def _read(query):
    """``query()``; again on a new connection when the one it ran on was broken (a restarted server)."""
    if connection.in_atomic_block:  # a test's transaction: a new connection would not see it
        return query()
    close_old_connections()  # a long-lived thread outside Django's request cycle
    try:
        return query()
    except (OperationalError, InterfaceError) as exc:
        log.warning("lean attribute saves: database connection lost (%s); trying a new one", str(exc).strip()[:200])
        connection.close()
        return query()


def _users(saves: list[Save]) -> dict:
    ids = {s.user_id for s in saves}
    return {str(u.pk): u for u in get_user_model().objects.filter(pk__in=ids)}


def _allowed(save: Save, user) -> Exception | None:
    """DRF's authentication, permission and throttle steps for one request, in its order."""
    if user is None or not user.is_active:
        return exceptions.AuthenticationFailed("User not found or disabled")
    request = SimpleNamespace(user=user, method="POST")
    if not IsTenantUser().has_permission(request, None):
        return exceptions.PermissionDenied(IsTenantUser.message)
    throttle = TenantProfileThrottle()
    if not throttle.allow_request(request, None):
        return exceptions.Throttled(throttle.wait())
    return save.path_error


def _entities(saves: list[Save], users: dict) -> dict:
    """{(user id, model, pk): row} of the entities each user may see, one query per user and model."""
    wanted: dict[tuple, set] = {}
    for save in saves:
        wanted.setdefault((save.user_id, save.model), set()).add(save.pk)
    found = {}
    for (user_id, model), pks in wanted.items():
        for row in visible(model, users[user_id]).filter(pk__in=pks):
            found[(user_id, model, row.pk)] = row
    return found


def _store(saves: list[tuple[Save, object]]) -> None:
    """One upsert of every save's values, as devices.attributes.save_attributes writes them."""
    ts, latest = now_ms(), {}
    for save, entity in saves:
        for key, value in save.values.items():  # a later request's value of the same key wins
            latest[(entity.pk, save.scope, key)] = value
    rows = [Attribute(entity_id=entity_id, scope=scope, key=key, last_update_ts=ts,
                      **dict(zip(COLUMNS, encode(value), strict=True)))
            for (entity_id, scope, key), value in sorted(latest.items(), key=lambda item: item[0])]
    # sorted: concurrent batches lock the rows in the same order (no deadlock)
    Attribute.objects.bulk_create(rows, update_conflicts=True, unique_fields=["entity_id", "scope", "key"],
                                  update_fields=[*COLUMNS, "last_update_ts"])


def run_batch(saves: list[Save]) -> None:
    """Check, store and announce ``saves``; each one's ``error`` or ``waits`` is set. Raises only
    when the database failed (every save of the batch then answers 500, as the view would)."""
    users = _read(lambda: _users(saves))
    looked_up = []
    for save in saves:
        save.error = _allowed(save, users.get(save.user_id))
        if save.error is None:
            looked_up.append(save)
    rows = _entities(looked_up, users) if looked_up else {}
    stored = []
    for save in looked_up:
        entity = rows.get((save.user_id, save.model, save.pk))
        if entity is None:
            save.error = not_found(save.entity_type, save.pk)
        elif save.late_error is not None:
            save.error = save.late_error
        else:
            stored.append((save, entity))
    if not stored:
        return
    _store(stored)
    for save, entity in stored:
        entity.entity_type = save.entity_type
        token = services.DEFERRED_WAITS.set(save.waits)
        try:
            services.on_attributes_saved(entity, save.scope, save.values)
        finally:
            services.DEFERRED_WAITS.reset(token)


_run = sync_to_async(run_batch, thread_sensitive=True)


class _Batcher:
    """The saves of one event loop waiting for a batch, and the task that runs them."""

    def __init__(self):
        self.waiting: list[tuple[Save, asyncio.Future]] = []
        self.running = False

    async def submit(self, save: Save) -> Save:
        future = asyncio.get_running_loop().create_future()
        self.waiting.append((save, future))
        if not self.running:
            self.running = True
            asyncio.get_running_loop().create_task(self._drain())
        await future
        return save

    async def _drain(self) -> None:
        try:
            while self.waiting:
                batch, self.waiting = self.waiting[:MAX_BATCH], self.waiting[MAX_BATCH:]
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

