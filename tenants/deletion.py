"""Deleting a tenant in the background, in batches, as ThingsBoard's housekeeper does since 3.7
(DELETE /api/tenant/{id} answers at once; the tenant's entities, telemetry and attributes are
removed afterwards by background tasks):

- :func:`mark`: one short transaction. The tenant is marked (``Tenant.deleting_ts``), its users'
  logins are disabled as an administrator disabling them would (their tokens stop working, their
  pending links go), and the deletion task is queued once this commits. From then on the API
  answers 404 for the tenant and none of its users can log in.
- :func:`run`: the tenant's rows, model by model, in batches of ``BATCH`` rows, each batch its own
  transaction (the post_delete cleanups of devices, assets and customers, their telemetry,
  attributes and relations, run per batch), then the tenant itself. Idempotent: a run that is
  retried, or that starts again after its worker died halfway, deletes what is left.
- :func:`resume_stale`: the periodic job's part. A deletion without progress for ``STALE_MS`` (its
  worker died, its task message was lost, the embedded server stopped) is queued again.

The models are every model with a CASCADE foreign key to Tenant, found in the registry so that this
layer names no model of the apps above it. A model's rows go before those of the tenant's models
they reference (devices before their profiles and customers, integrations before their
converters): cascades stay small and PROTECT foreign keys do not refuse. A batch refused all the
same is tried again after the other models.
"""

import graphlib
import logging
import time
import uuid

from django.apps import apps
from django.db import models, transaction
from django.db.models import ProtectedError, RestrictedError
from django.dispatch import Signal

from tbproject.clock import now_ms
from tenants.models import CredentialsToken, Tenant, User

__all__ = ["BATCH", "STALE_MS", "deletion_started", "tenant_marked", "mark", "run", "resume_stale", "owned_models"]

BATCH = 1000
#: a deletion whose last step is older than this is taken for dead and queued again
STALE_MS = 10 * 60 * 1000

#: Sent (sender: Tenant, ``instance``: the tenant) before a run deletes rows of a tenant being
#: deleted: its entities go with it, as with ``pre_delete`` of the tenant (the audit log records
#: none of them).
deletion_started = Signal()

#: Sent (sender: Tenant, ``tenant_id``) by :func:`mark` inside its transaction, once the tenant is
#: marked: the apps above take it out of use as they would a deleted one (their per-process caches
#: are dropped now and on commit; the integrations host stops its listeners). ``mark`` updates
#: the row with ``update()``, so no ``post_save`` tells them.
tenant_marked = Signal()

log = logging.getLogger(__name__)


def mark(tenant: Tenant) -> bool:
    """Take ``tenant`` out of use and queue its deletion; False when it was being deleted already."""
    now = now_ms()
    with transaction.atomic():
        # its title goes too: a new tenant may take it while the old one's rows are still being deleted
        title = f"{tenant.title[:200]} [deleting {tenant.pk}]"
        if Tenant.objects.live().filter(pk=tenant.pk).update(deleting_ts=now, title=title) != 1:
            return False
        User.objects.filter(tenant=tenant).update(is_active=False, credentials_changed=now)
        CredentialsToken.objects.filter(user__tenant=tenant).delete()
        tenant_marked.send(sender=Tenant, tenant_id=tenant.pk)
        # robust: the tenant is marked whatever the queue says; resume_stale() picks it up again
        transaction.on_commit(lambda: _queue(tenant.pk), robust=True)
    return True


def _queue(tenant_id) -> None:
    from tenants.tasks import delete_tenant  # the task module imports this one

    delete_tenant.delay(str(tenant_id))


def owned_models() -> list[tuple[type[models.Model], str]]:
    """(model, name of its foreign key to Tenant) of every model a tenant's deletion empties, in the
    order it empties them: referencing rows before the rows they reference."""
    owned = {}
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, models.ForeignKey) and field.related_model is Tenant \
                    and field.remote_field.on_delete is models.CASCADE:
                owned.setdefault(model, field.name)
    referrers = {model: set() for model in owned}
    for model in owned:
        for field in model._meta.concrete_fields:
            target = field.related_model if isinstance(field, models.ForeignKey) else None
            if target in referrers and target is not model:
                referrers[target].add(model)
    try:
        order = list(graphlib.TopologicalSorter(referrers).static_order())
    except graphlib.CycleError:  # no such cycle today; run() retries what PROTECT refuses
        order = list(owned)
    return [(model, owned[model]) for model in order]


def run(tenant_id, *, batch: int = BATCH, seconds: float | None = None) -> bool:
    """Delete a marked tenant's rows, then the tenant. Stops after the batch that passes ``seconds``
    (None: runs to the end). True when nothing is left (an unmarked tenant is never touched)."""
    tenant = Tenant.objects.filter(pk=tenant_id, deleting_ts__isnull=False).first()
    if tenant is None:
        return True
    deletion_started.send(sender=Tenant, instance=tenant)
    deadline = None if seconds is None else time.monotonic() + seconds
    pending = owned_models()
    while pending:
        refused = []
        for model, field in pending:
            done = _empty(model, field, tenant.pk, batch, deadline)
            if done is None:
                return False  # out of time: the task queues the rest
            if not done:
                refused.append((model, field))
        if len(refused) == len(pending):
            break  # nothing moved: the tenant's own delete below raises the ProtectedError that says why
        pending = refused
    with transaction.atomic():
        tenant.delete()  # cascades what was added meanwhile; its post_delete cleanups run
    log.info("tenant %s deleted", tenant_id)
    return True


def _empty(model, field: str, tenant_id: uuid.UUID, batch: int, deadline: float | None) -> bool | None:
    """Delete ``model``'s rows of the tenant, ``batch`` at a time: True once none is left, False when
    a PROTECT foreign key refused a batch, None when ``deadline`` passed first."""
    rows = model._base_manager.filter(**{field: tenant_id}).order_by()
    while True:
        try:
            with transaction.atomic():
                ids = list(rows.values_list("pk", flat=True)[:batch])
                if not ids:
                    return True
                model._base_manager.filter(pk__in=ids).delete()
                Tenant.objects.filter(pk=tenant_id).update(deleting_ts=now_ms())
        except (ProtectedError, RestrictedError):
            return False
        if deadline is not None and time.monotonic() >= deadline:
            return None


def resume_stale(now: int | None = None) -> int:
    """Queue again the deletions that made no progress for STALE_MS; how many."""
    now = now_ms() if now is None else now
    resumed = 0
    stale = Tenant.objects.filter(deleting_ts__lt=now - STALE_MS).values_list("pk", "deleting_ts")
    for pk, seen in list(stale):
        # claimed with a conditional UPDATE: two sweeps never queue the same deletion twice
        if Tenant.objects.filter(pk=pk, deleting_ts=seen).update(deleting_ts=now) == 1:
            log.warning("tenant %s: its deletion stopped; resuming it", pk)
            _queue(pk)
            resumed += 1
    return resumed
