"""Which tenants have calculated fields, and each tenant's fields by what triggers them: process caches.

    tenants_with_fields()        # frozenset of tenant ids: the writers' hook asks this, nothing else
    fields_of(tenant_id)         # the tenant's fields, parsed: TenantFields
    forget()                     # after a field is saved or deleted (now and on commit)

The writers' hook (calculated/receivers.py) runs in the hottest path there is (the integration
pipeline's batched writes): for a tenant without fields it costs one lookup in
:func:`tenants_with_fields`, which queries the database once per TTL_SECONDS and process. A field
saved or deleted in this process is seen at once (forget); in other processes within TTL_SECONDS.
"""

import uuid
from dataclasses import dataclass, field

from calculated.config import spec_of
from calculated.models import CalculatedField
from tbproject.process_cache import ProcessCache

__all__ = ["TTL_SECONDS", "tenants_with_fields", "fields_of", "all_fields", "forget", "clear", "Field", "TenantFields"]

TTL_SECONDS = 5.0
_TENANTS = ProcessCache(max_entries=1)
_FIELDS = ProcessCache(max_entries=10_000)
_ALL = "*"  # the key of all_fields() in _FIELDS


@dataclass(frozen=True, slots=True)
class Field:
    """A stored field with its parsed spec (calculated/config.py)."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    entity_type: str
    entity_id: uuid.UUID
    version: int
    spec: object
    debug_failures_enabled: bool
    debug_all_enabled_until: int


@dataclass(frozen=True)
class TenantFields:
    """A tenant's fields, indexed by the (kind, key, scope) of their arguments.

    ``by_own[(kind, key, scope)]``: fields with an argument of that key on the entity they are
    computed for; ``by_ref[(entity_id, kind, key, scope)]``: fields with an argument of that key on
    one named entity. ``kind`` is "TS" (latest and rolling telemetry) or "ATTRIBUTE"."""

    fields: tuple
    by_own: dict = field(default_factory=dict)
    by_ref: dict = field(default_factory=dict)
    refs: set = field(default_factory=set)  # (str(entity_id), kind, key, scope) of by_ref, for the writers' hook

    def wants(self, entity_id: str, kind: str, key: str, scope) -> bool:
        """Whether a written (entity, kind, key, scope) is an argument of any field (the hook's filter)."""
        return (kind, key, scope) in self.by_own or (entity_id, kind, key, scope) in self.refs


def trigger_of(argument) -> tuple[str, str, str | None]:
    return ("ATTRIBUTE", argument.key, argument.scope) if argument.kind == "ATTRIBUTE" else ("TS", argument.key, None)


def tenants_with_fields() -> frozenset:
    return _TENANTS.get_or_load(
        "tenants", lambda: frozenset(CalculatedField.objects.order_by().values_list("tenant_id", flat=True).distinct()),
        TTL_SECONDS)


def _load(tenant_id) -> TenantFields:
    """The tenant's fields; every tenant's when ``tenant_id`` is None (the hook's fallback: see all_fields)."""
    fields = []
    rows = CalculatedField.objects.all() if tenant_id is None else CalculatedField.objects.filter(tenant_id=tenant_id)
    for row in rows.order_by("created_time", "id"):
        try:
            spec = spec_of(row)
        except ValueError:  # saved before a rule it breaks existed: not computed (the API refuses it now)
            continue
        fields.append(Field(row.pk, row.tenant_id, row.name, row.entity_type, row.entity_id, row.version, spec,
                            row.debug_failures_enabled, row.debug_all_enabled_until))
    index = TenantFields(tuple(fields))
    for f in fields:
        for argument in f.spec.arguments.values():
            trigger = trigger_of(argument)
            if argument.ref_entity_id is None:
                index.by_own.setdefault(trigger, []).append(f)
            else:
                index.by_ref.setdefault((argument.ref_entity_id, *trigger), []).append(f)
                index.refs.add((str(argument.ref_entity_id), *trigger))
    return index


def fields_of(tenant_id) -> TenantFields:
    key = uuid.UUID(str(tenant_id))
    return _FIELDS.get_or_load(key, lambda: _load(key), TTL_SECONDS)


def all_fields() -> TenantFields:
    """Every tenant's fields in one index: the writers' hook filters a write whose caller did not
    say the tenant with it (one query per TTL_SECONDS and process; only when some tenant has fields)."""
    return _FIELDS.get_or_load(_ALL, lambda: _load(None), TTL_SECONDS)


def forget() -> None:
    """Drop both caches now and when the current transaction commits."""
    _TENANTS.forget_now_and_on_commit()
    _FIELDS.forget_now_and_on_commit()


def clear() -> None:
    """Drop both caches now (tests: a rolled-back test's fields must not outlive it)."""
    _TENANTS.forget()
    _FIELDS.forget()
