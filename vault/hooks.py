"""Who uses secrets: the apps above this one register here (a lower layer never imports up).

    hooks.register("INTEGRATION", rows=lambda tenant_id: [(id, name, configuration), ...],
                   refresh=lambda ids: ...)   # restart / reload those, after a value changed

:func:`users_of` answers ThingsBoard's delete refusal (``references``: entity type -> [{id, name}]);
:func:`refresh` runs after a secret's value changed (or the secret appeared), for every registered
user whose configuration names it.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from tbproject.api.ids import entity_id
from vault.resolution import references

__all__ = ["register", "users_of", "refresh", "Consumer"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Consumer:
    entity_type: str
    rows: Callable[[object], Iterable[tuple]]
    refresh: Callable[[list], None] | None = None


_CONSUMERS: dict[str, Consumer] = {}


def register(entity_type: str, rows, refresh=None) -> None:
    _CONSUMERS[entity_type] = Consumer(entity_type, rows, refresh)


def _naming(consumer: Consumer, tenant_id, name: str) -> dict:
    """{id: name} of the consumer's rows whose configuration names the secret ``name`` (any type)."""
    found = {}
    for pk, label, configuration in consumer.rows(tenant_id):
        if any(ref_name == name for ref_name, _ in references(configuration)):
            found.setdefault(pk, label)
    return found


def users_of(tenant_id, name: str) -> dict[str, list[dict]]:
    """ThingsBoard's ``references`` of a secret: entity type -> [{"id": {...}, "name"}], only non-empty ones."""
    out = {}
    for entity_type, consumer in sorted(_CONSUMERS.items()):
        found = _naming(consumer, tenant_id, name)
        if found:
            out[entity_type] = [{"id": entity_id(entity_type, pk), "name": label} for pk, label in found.items()]
    return out


def refresh(tenant_id, name: str) -> None:
    """Tell every user of the secret ``name`` to pick up its new value; one failing user does not stop the rest."""
    for consumer in _CONSUMERS.values():
        if consumer.refresh is None:
            continue
        try:
            ids = list(_naming(consumer, tenant_id, name))
            if ids:
                consumer.refresh(ids)
        except Exception:
            log.exception("refreshing the %s users of a secret failed", consumer.entity_type)
