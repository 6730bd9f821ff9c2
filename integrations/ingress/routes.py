"""Routing key -> what the ingress needs to know of an integration, cached in this process.

The ingress answers thousands of requests a second, so it reads the database only on a miss:
entries (unknown keys included, so a flood of wrong keys costs no queries) live ``TTL_SECONDS``
and are dropped at once when this process saves or deletes an integration or marks a tenant for
deletion (signals, again on commit; a tenant being deleted has no routes). Other processes see a
change within the TTL. Concurrent misses of one key in one event loop share one query; a load
that raced with an invalidation is not stored.
"""

import logging
import threading
import time
from dataclasses import dataclass, field

from asgiref.sync import sync_to_async
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from integrations.ingress.single_flight import single_flight
from integrations.models import Integration
from integrations.types import TYPES
from integrations.types.base import ConfigError, PushIntegration
from tbproject.db import read_again
from tenants.deletion import tenant_marked
from tenants.limits import TenantLimits, limits_of
from tenants.models import Tenant, TenantProfile

__all__ = ["Route", "RouteCache", "CACHE", "lookup", "lookup_sync", "TTL_SECONDS", "MAX_ENTRIES", "read"]

log = logging.getLogger(__name__)

TTL_SECONDS = 5.0
MAX_ENTRIES = 10_000


@dataclass(frozen=True, slots=True)
class Route:
    """An integration as the ingress sees it; ``handler`` is None when its type is not a push type
    or its stored configuration no longer parses (``problem`` says which)."""

    integration_id: str
    tenant_id: str
    name: str
    kind: str
    endpoint: str
    enabled: bool
    handler: PushIntegration | None
    #: integrationName and configuration.metadata: the start of every uplink's metadata
    metadata: dict[str, str] = field(default_factory=dict)
    problem: str = ""
    #: the tenant's rate limits when the route was loaded (a profile change clears the cache)
    limits: TenantLimits | None = None

    @property
    def replace_no_content(self) -> bool:
        return bool(getattr(self.handler.config, "replaceNoContentToOk", False)) if self.handler else False


class RouteCache:
    """A bounded, thread-safe map routing key -> (expiry, Route or None)."""

    def __init__(self, ttl: float = TTL_SECONDS, max_entries: int = MAX_ENTRIES):
        self.ttl, self.max_entries = ttl, max_entries
        self.clock = time.monotonic
        self._entries: dict[str, tuple[float, Route | None]] = {}
        self._lock = threading.Lock()
        #: bumped by every invalidation: a load that started before it must not be stored
        self.generation = 0

    def get(self, key: str) -> tuple[bool, Route | None]:
        entry = self._entries.get(key)
        if entry is None or entry[0] < self.clock():
            return False, None
        return True, entry[1]

    def put(self, key: str, route: Route | None, generation: int) -> None:
        with self._lock:
            if generation != self.generation:
                return
            if len(self._entries) >= self.max_entries and key not in self._entries:
                self._entries.pop(next(iter(self._entries)))  # the oldest insertion
            self._entries[key] = (self.clock() + self.ttl, route)

    def invalidate(self, *keys: str, integration_id=None) -> None:
        with self._lock:
            self.generation += 1
            for key in keys:
                self._entries.pop(key, None)
            if integration_id is not None:
                wanted = str(integration_id)
                for key in [k for k, (_, r) in self._entries.items() if r is not None and r.integration_id == wanted]:
                    del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self.generation += 1
            self._entries.clear()


CACHE = RouteCache()


def _route(obj: Integration) -> Route:
    base = {"integration_id": str(obj.pk), "tenant_id": str(obj.tenant_id), "name": obj.name, "kind": obj.type,
            "enabled": obj.enabled, "limits": limits_of(obj.tenant_id)}
    type_class = TYPES.load(obj.type) if obj.type in TYPES else None
    if type_class is None or not issubclass(type_class, PushIntegration):
        return Route(**base, endpoint="", handler=None, problem="not a push integration")
    try:
        handler = type_class(obj)
    except ConfigError as e:
        log.warning("integration %s has an invalid stored configuration: %s", obj.pk, e)
        return Route(**base, endpoint=type_class.endpoint, handler=None, problem="invalid configuration")
    metadata = {"integrationName": obj.name, **handler.config.metadata}  # as the listeners build it
    return Route(**base, endpoint=type_class.endpoint, handler=handler, metadata=metadata)


def read(query):
    """``query()`` on this thread's database connection, once more on a new one when the server
    broke it; a second failure is raised (the ingress answers 503)."""
    return read_again(query, "ingress")


def lookup_sync(key: str) -> Route | None:
    """The route of ``key`` (None: no such integration), from the cache or the database."""
    hit, route = CACHE.get(key)
    if hit:
        return route
    generation = CACHE.generation
    # a tenant being deleted (tenants/deletion.py) has no routes: its keys answer as unknown ones
    obj = read(Integration.objects.filter(routing_key=key, tenant__deleting_ts__isnull=True).first)
    route = _route(obj) if obj is not None else None
    CACHE.put(key, route, generation)
    return route


_load = sync_to_async(lookup_sync, thread_sensitive=True)
_load_shared = single_flight(lambda key: _load(key))  # _load looked up at call time (tests replace it)


async def lookup(key: str) -> Route | None:
    """:func:`lookup_sync` for the event loop: a hit costs no thread hop; misses of one key share a load."""
    hit, route = CACHE.get(key)
    if hit:
        return route
    return await _load_shared(key)


@receiver(post_save, sender=Integration, dispatch_uid="integrations.ingress.routes.saved")
@receiver(post_delete, sender=Integration, dispatch_uid="integrations.ingress.routes.deleted")
def _forget(sender, instance: Integration, **kwargs) -> None:
    def forget():
        CACHE.invalidate(instance.routing_key, integration_id=instance.pk)

    forget()
    transaction.on_commit(forget)  # a request between save and commit may have cached the old row


@receiver(post_save, sender=TenantProfile, dispatch_uid="integrations.ingress.routes.profile_saved")
@receiver(post_save, sender=Tenant, dispatch_uid="integrations.ingress.routes.tenant_saved")
@receiver(tenant_marked, sender=Tenant, dispatch_uid="integrations.ingress.routes.tenant_marked")
def _forget_all(sender, **kwargs) -> None:
    """A tenant profile's limits are part of every route of its tenants; a tenant marked for
    deletion has no routes any more."""
    CACHE.clear()
    transaction.on_commit(CACHE.clear)
