"""Auto-commit (ThingsBoard's auto-commit settings): a saved entity of a configured type is
committed to the configured branch (else the repository's default), with the configured save
options, as ``"Auto-commit: <type> <name>"``.

Debounced: the first save of an entity queues a task ``AUTO_COMMIT_DELAY`` seconds later and the
saves that follow within that time ride on it (the task commits the entity as it is then). Saves
that loading a version makes are not committed back. Which tenants auto-commit what is cached
briefly, so that the save of an entity of a tenant without auto-commit costs no query; and which
tenants have auto-commit settings at all is kept in this process for a few seconds, so that such a
save costs no cache round trip either (another process sees a tenant's first settings within
``_TENANTS_TTL`` seconds; this one at once).
"""

import contextvars
import logging

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from tbproject.process_cache import ProcessCache
from transfer.models import AutoCommitSettings, RepositorySettings
from transfer.vc import entities, layout

__all__ = ["connect", "commit", "suppressed", "forget"]

log = logging.getLogger(__name__)
_suppressed = contextvars.ContextVar("vc_autocommit_suppressed", default=False)
_TTL = 30
_TENANTS = ProcessCache(max_entries=1)
_TENANTS_TTL = 5


class suppressed:
    """No auto-commit for the saves inside (loading a version)."""

    def __enter__(self):
        self.token = _suppressed.set(True)

    def __exit__(self, *exc):
        _suppressed.reset(self.token)


def _config_key(tenant_id) -> str:
    return f"vc-auto-config:{tenant_id}"


def forget(tenant_id) -> None:
    cache.delete(_config_key(tenant_id))
    _TENANTS.forget_now_and_on_commit()


def _tenants() -> frozenset:
    """The tenants with auto-commit settings (whatever they say), as strings."""
    return _TENANTS.get_or_load("tenants", lambda: frozenset(
        str(t) for t in AutoCommitSettings.objects.order_by().values_list("tenant_id", flat=True)), _TENANTS_TTL)


def _config(tenant_id) -> dict:
    key = _config_key(tenant_id)
    found = cache.get(key)
    if found is None:
        row = AutoCommitSettings.objects.filter(tenant_id=tenant_id).first()
        repo = RepositorySettings.objects.filter(tenant_id=tenant_id, read_only=False).exists()
        found = row.config if row and repo else {}
        cache.set(key, found, _TTL)
    return found


def _on_save(sender, instance, created, raw=False, **kwargs):
    if raw or _suppressed.get():
        return
    entity_type = _TYPE_OF.get(sender)
    tenant_id = getattr(instance, "tenant_id", None)
    if entity_type is None or tenant_id is None or str(tenant_id) not in _tenants() \
            or entity_type not in _config(tenant_id):
        return
    debounce = f"vc-auto:{tenant_id}:{entity_type}:{instance.pk}"
    delay = getattr(settings, "AUTO_COMMIT_DELAY", 5)
    if cache.add(debounce, 1, delay + 5):
        from transfer.tasks import auto_commit

        args = [str(tenant_id), entity_type, str(instance.pk)]
        transaction.on_commit(lambda: auto_commit.apply_async(args, countdown=delay))


_TYPE_OF: dict = {}


def connect() -> None:
    """Subscribe to the saves of every versioned model (called from TransferConfig.ready)."""
    for entity_type in layout.TYPES:
        model = entities.model_of(entity_type)
        _TYPE_OF[model] = entity_type
        post_save.connect(_on_save, sender=model, dispatch_uid=f"vc-autocommit-{entity_type}")
    for signal in (post_save, post_delete):  # however the settings row is written (API, admin, a script)
        signal.connect(_TENANTS.forget, sender=AutoCommitSettings, dispatch_uid=f"vc-autocommit-tenants-{signal}")


def commit(tenant_id, entity_type: str, entity_id: str) -> dict | None:
    """Commit the entity as it is now; the VersionCreationResult, None when nothing is to be done."""
    from rest_framework.exceptions import APIException

    from tenants.choices import Authority
    from tenants.models import User
    from transfer.vc import versions
    from transfer.vc.calls import CallError
    from transfer.vc.git import GitError

    cache.delete(f"vc-auto:{tenant_id}:{entity_type}:{entity_id}")
    config = _config(tenant_id).get(entity_type)
    model = entities.model_of(entity_type)
    instance = model.objects.filter(tenant_id=tenant_id, pk=entity_id).first()
    user = (User.objects.filter(tenant_id=tenant_id, authority=Authority.TENANT_ADMIN, is_active=True)
            .order_by("pk").first())
    if config is None or instance is None or user is None:
        return None
    name = getattr(instance, layout.TYPES[entity_type][1], "")
    body = {"type": "SINGLE_ENTITY", "versionName": f"Auto-commit: {entity_type} {name}"[:255],
            "branch": config.get("branch") or None, "entityId": {"entityType": entity_type, "id": str(entity_id)},
            "config": config}
    try:
        return versions.create_version(user, body)
    except (GitError, CallError, APIException) as e:  # recorded in the log; the save itself stands
        log.warning("auto-commit of %s %s failed: %s", entity_type, entity_id, getattr(e, "message", None) or e)
        return None
