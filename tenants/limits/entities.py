"""The tenant profile's entity count limits (``maxAssets``, ``maxCustomers``... ENTITY_KEYS in profile.py) and
byte limits of resources (``maxResourcesInBytes``, ``maxResourceSize``; devices/ota/packages.py checks
``maxOtaPackagesInBytes``), enforced as ThingsBoard's data validators do (its DataValidator's
validateNumberOfEntitiesPerTenant and validateMaxSumDataSizePerTenant, Apache-licensed CE code; the calculated
fields' maxCalculatedFieldsPerEntity, maxArgumentsPerCF, maxDataPointsPerRollingArg: calculated/limits.py).
0 or unset means no limit; a creation that would make the tenant's count exceed
the limit is refused with ThingsBoard's EntitiesLimitExceededException text, ``"<Normal name>s limit reached"``
("Assets limit reached", "Rule chains limit reached"), a 400 in the REST API.

The counted models live in higher layers, which register them from their ``AppConfig.ready()``::

    entities.guard(Asset, "ASSET")              # every save() that inserts a row is checked first
    entities.guard_autocommit(Device, "DEVICE", DevicesLimitReached)  # devices/device_quota.py checks them
                                                # after their insert; one saved in autocommit, before it
    entities.guard_bytes(Resource, entities.RESOURCES, "data")    # dashboards/apps.py

A guarded model is checked in ``pre_save`` when the row is new, so that every way of making one (the REST
API, the admin, imports, version control, sign-up and OAuth users, auto-provisioned customers) is refused
before anything is written. Rows inserted in bulk (``bulk_create`` sends no signal) are checked after the
insert with :func:`check_added`, inside the inserting transaction; a batch that may pass the limit asks
:func:`room_left` first and inserts only that many (devices/provisioning.py).

Concurrency: inside a transaction the tenant's row is locked (FOR NO KEY UPDATE, on PostgreSQL) before
counting, so concurrent creations of one tenant are counted one after the other until commit and cannot
pass the limit together (devices/device_quota.py does the same); SQLite writes one transaction at a time.
A save in autocommit (a script, no transaction to hold the lock in) is checked before its insert only:
two racing ones may both be counted with the same room and both kept, passing the limit by the number of
racers. That overshoot is accepted: a committed row is never deleted again (deleting it would cascade to
rows other requests linked to it meanwhile), and rows ``bulk_create`` inserted in autocommit are counted
but never refused.

Byte limits: a resource whose bytes grow (a new one, or an update with more data) is checked against
``maxResourcesInBytes`` as ThingsBoard's validateMaxSumDataSizePerTenant does, by summing the tenant's
resources; inside a transaction that sum is taken after locking the tenant's row (FOR NO KEY UPDATE), so
concurrent resource uploads and updates of one tenant wait for each other until commit, as creations do.

:data:`entities_counted` is sent after a counted creation of a tenant with a limit (notifications/
subscribes: ENTITIES_LIMIT rules); a tenant without a limit pays one cached dict lookup and nothing else.
"""

from collections.abc import Callable
from functools import partial

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.db.models.functions import Length
from django.db.models.signals import post_save, pre_save
from django.dispatch import Signal

from tenants.limits.profile import ENTITY_KEYS, max_entities
from tenants.models import Tenant

__all__ = ["ENTITY_KEYS", "EntitiesLimitReached", "SizeLimitReached", "entities_counted", "register", "guard",
           "guard_bytes", "guard_autocommit", "count", "limit_of", "check_added", "check_room", "room_left",
           "lock_tenant", "normal_name",
           "display_size", "RESOURCES", "counts_of"]

RESOURCES = "TB_RESOURCE"
_SIZE_KEYS = {RESOURCES: "maxResourcesInBytes"}  # maxOtaPackagesInBytes: devices/ota/packages.py checks it
_SIZE_NAMES = {RESOURCES: "Resource"}  # ThingsBoard's EntityType normal names
MAX_RESOURCE_SIZE = "maxResourceSize"

#: Sent (sender: the counted model) after a creation of a tenant with a limit was counted and allowed, inside
#: the creating transaction: ``tenant_id``, ``entity_type`` ("ASSET"...), ``count`` (with the new rows),
#: ``added`` (how many new rows) and ``limit``.
entities_counted = Signal()

_models: dict[str, type] = {}  # entity type -> its model (every row of a tenant counts)
_guarded: dict[type, str] = {}  # model -> entity type, checked in pre_save
_sized: dict[type, tuple] = {}  # model -> (RESOURCES, its bytes field, its size field or None)


def normal_name(entity_type: str) -> str:
    """ThingsBoard's EntityType normal name: RULE_CHAIN -> "Rule chain"."""
    return _SIZE_NAMES.get(entity_type) or entity_type.replace("_", " ").capitalize()


def display_size(size: int) -> str:
    """Apache commons-io's FileUtils.byteCountToDisplaySize, as ThingsBoard's messages show a byte limit."""
    for unit, power in (("EB", 6), ("PB", 5), ("TB", 4), ("GB", 3), ("MB", 2), ("KB", 1)):
        if size // 1024 ** power > 0:
            return f"{size // 1024 ** power} {unit}"
    return f"{size} bytes"


class EntitiesLimitReached(ValidationError, ValueError):
    """A 400 in the REST API (a Django ValidationError); a ValueError for the uplink pipeline, which fails
    only the message that would create the entity (integrations/pipeline.py), and for device provisioning."""

    def __init__(self, entity_type: str, limit: int = 0):
        self.entity_type, self.limit = entity_type, limit
        super().__init__(f"{normal_name(entity_type)}s limit reached")

    def __reduce__(self):  # pickled as it was made (a task's failure crosses processes)
        return type(self), (self.entity_type, self.limit)

    def __str__(self) -> str:  # the text alone, as the pipeline's error and the logs show it
        return self.messages[0]


class SizeLimitReached(ValidationError, ValueError):
    """A resource whose bytes would exceed the tenant profile's byte limits."""

    def __init__(self, message: str):
        super().__init__(message)

    def __str__(self) -> str:
        return self.messages[0]


def register(model, entity_type: str) -> None:
    """Count ``model``'s rows of a tenant (``tenant_id``) as ``entity_type``."""
    if entity_type not in ENTITY_KEYS:
        raise ValueError(f"no count limit for {entity_type!r}: one of {', '.join(ENTITY_KEYS)}")
    _models[entity_type] = model


def guard(model, entity_type: str) -> None:
    """:func:`register`, and refuse a new row past the tenant's limit in ``pre_save`` (every ``save()``)."""
    register(model, entity_type)
    _guarded[model] = entity_type
    label = model._meta.label_lower
    pre_save.connect(_before_insert, sender=model, dispatch_uid=f"tenants.limits.entities.pre.{label}")
    post_save.connect(_after_insert, sender=model, dispatch_uid=f"tenants.limits.entities.post.{label}")


def guard_autocommit(model, entity_type: str,
                     error: Callable[[str, int], Exception] = EntitiesLimitReached) -> None:
    """:func:`register`, and check a new row saved in autocommit before its insert (``pre_save``): for a model
    whose rows are checked after their insert (:func:`check_added`), which can refuse them only inside a
    transaction."""
    register(model, entity_type)
    label = model._meta.label_lower
    pre_save.connect(partial(_before_autocommit_insert, entity_type, error), sender=model, weak=False,
                     dispatch_uid=f"tenants.limits.entities.autocommit.{label}")


def limit_of(tenant_id, entity_type: str) -> int:
    """The tenant's limit of ``entity_type`` (0: none), from the cached profile (tenants/limits/profile.py)."""
    return max_entities(tenant_id, ENTITY_KEYS[entity_type]) if tenant_id else 0


def count(tenant_id, entity_type: str) -> int:
    """How many ``entity_type`` rows the tenant has (0 when no app registered the type)."""
    if entity_type not in _models:
        return 0
    return _models[entity_type]._default_manager.filter(tenant_id=tenant_id).count()


def counts_of(tenant_id) -> dict[str, int]:
    """Every registered entity type's count of the tenant (``GET /api/usage``)."""
    return {entity_type: count(tenant_id, entity_type) for entity_type in _models}


def lock_tenant(tenant_id) -> bool:
    """Lock the tenant's row until the transaction ends (True), or False in autocommit (nothing to hold)."""
    if not transaction.get_connection().in_atomic_block:
        return False
    # NO KEY UPDATE: the new rows' own foreign-key checks on the tenant hold KEY SHARE
    list(Tenant.objects.select_for_update(no_key=True).filter(pk=tenant_id).values_list("pk", flat=True))
    return True


def check_room(tenant_id, entity_type: str, adding: int = 1, *,
               error: Callable[[str, int], Exception] = EntitiesLimitReached) -> tuple[int, int, bool] | None:
    """Before inserting ``adding`` rows: raise EntitiesLimitReached when they would exceed the limit; else
    (count with them, limit, whether the tenant is locked), or None when the tenant has no limit."""
    limit = limit_of(tenant_id, entity_type)
    if not limit:
        return None
    locked = lock_tenant(tenant_id)
    now = count(tenant_id, entity_type)
    if now + adding > limit:
        raise error(entity_type, limit)
    return now + adding, limit, locked


def room_left(tenant_id, entity_type: str) -> int | None:
    """How many more ``entity_type`` rows the tenant may have (0 when at or past its limit), or None when it has
    no limit. Inside a transaction the tenant stays locked until it ends, so the room holds for its inserts."""
    limit = limit_of(tenant_id, entity_type)
    if not limit:
        return None
    lock_tenant(tenant_id)
    return max(limit - count(tenant_id, entity_type), 0)


def check_added(tenant_id, entity_type: str, added: int, *,
                error: Callable[[str, int], Exception] = EntitiesLimitReached, sender=None) -> None:
    """After ``added`` rows were inserted, uncommitted (``bulk_create``): raise ``error`` when the tenant's
    count now exceeds its limit (rolling back the transaction drops them), else send :data:`entities_counted`.
    In autocommit the rows are committed already: they are counted, never refused nor deleted."""
    limit = limit_of(tenant_id, entity_type)
    if not limit or not added:
        return
    locked = lock_tenant(tenant_id)
    now = count(tenant_id, entity_type)
    if now > limit and locked:
        raise error(entity_type, limit)
    entities_counted.send(sender or _models[entity_type], tenant_id=tenant_id, entity_type=entity_type,
                          count=now, added=added, limit=limit)


def _before_insert(sender, instance, raw=False, **kwargs) -> None:
    if raw or not instance._state.adding or not getattr(instance, "tenant_id", None):
        return
    counted = check_room(instance.tenant_id, _guarded[sender])
    if counted is not None:
        instance._entities_counted = counted


def _before_autocommit_insert(entity_type, error, sender, instance, raw=False, **kwargs) -> None:
    if raw or not instance._state.adding or not getattr(instance, "tenant_id", None):
        return
    if not transaction.get_connection().in_atomic_block:
        check_room(instance.tenant_id, entity_type, error=error)


def _after_insert(sender, instance, created, raw=False, **kwargs) -> None:
    counted = instance.__dict__.pop("_entities_counted", None)
    if counted is None or not created:
        return
    now, limit, _ = counted  # in autocommit a racing save may have had the same room: accepted (see above)
    entity_type = _guarded[sender]
    entities_counted.send(sender, tenant_id=instance.tenant_id, entity_type=entity_type, count=now, added=1,
                          limit=limit)


# --- byte limits ----------------------------------------------------------------------------------------------


def guard_bytes(model, kind: str, data_field: str, size_field: str | None = None) -> None:
    """Refuse a ``model`` row, new or with more bytes, whose ``data_field`` would take the tenant's rows of
    ``kind`` (RESOURCES) past the profile's byte limit (ThingsBoard's "Resources total size
    exceeds the maximum of 5 MB"), and a resource past ``maxResourceSize``. ``size_field``: a column that
    holds each row's size (else the database measures ``data_field``)."""
    _sized[model] = (kind, data_field, size_field)
    label = model._meta.label_lower
    pre_save.connect(_before_bytes, sender=model, dispatch_uid=f"tenants.limits.entities.bytes.{label}")


def _before_bytes(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    tenant_id = getattr(instance, "tenant_id", None)
    kind, data_field, size_field = _sized[sender]
    if raw or not tenant_id or (update_fields is not None and data_field not in update_fields):
        return
    total_limit = max_entities(tenant_id, _SIZE_KEYS[kind])
    one_limit = max_entities(tenant_id, MAX_RESOURCE_SIZE) if kind == RESOURCES else 0
    if not total_limit and not one_limit:
        return
    data = getattr(instance, data_field, None)
    new = len(data) if data is not None else 0
    if not new:
        return
    rows = sender._default_manager.filter(tenant_id=tenant_id)
    measure = Sum(size_field) if size_field else Sum(Length(data_field))
    if not instance._state.adding:
        before = rows.filter(pk=instance.pk).aggregate(n=measure)["n"] or 0
        if new <= before:
            return  # no more bytes than it had: never refused for what is stored already
    if one_limit and new > one_limit:
        raise SizeLimitReached(f"Resource exceeds the maximum size of {display_size(one_limit)}")
    if not total_limit:
        return
    lock_tenant(tenant_id)
    used = rows.exclude(pk=instance.pk).aggregate(n=measure)["n"] or 0
    if used + new > total_limit:
        raise SizeLimitReached(f"{_SIZE_NAMES[kind]}s total size exceeds the maximum of {display_size(total_limit)}")
