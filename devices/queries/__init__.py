"""ThingsBoard's entity data queries over devices, assets, entity views, customers, the tenant and
entity groups.

spec.py reads the query JSON, entities.py resolves the entity filter inside the caller's tenancy,
predicates.py evaluates key filters, fields.py and values.py read and render entity fields and
latest values, engine.py plans and runs find / count / find keys.
"""

from devices.queries.engine import (
    MAX_CANDIDATES,
    count,
    dynamic_resolver,
    find,
    find_keys,
    render_entities,
    select_entities,
)
from devices.queries.entities import MAX_ROOTS
from devices.queries.keys import find_keys_v2
from devices.queries.spec import MAX_IN_ITEMS, MAX_KEY_FILTERS, MAX_PREDICATES

__all__ = ["find", "count", "find_keys", "find_keys_v2", "dynamic_resolver", "select_entities", "render_entities",
           "MAX_CANDIDATES", "MAX_KEY_FILTERS", "MAX_PREDICATES", "MAX_IN_ITEMS", "MAX_ROOTS"]
