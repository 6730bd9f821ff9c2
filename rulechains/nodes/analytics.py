"""What ThingsBoard PE's analytics nodes share: aggregation functions, time units, the entity
queries their ``parentEntitiesQuery`` / ``childRelationsQuery`` name, and their periodic work.

Aggregate latest (rulechains/nodes/analytics_latest.py) and aggregate stream
(rulechains/nodes/analytics_stream.py) act on a schedule: the generators' periodic job
(``rulechains.tasks.run_generators``, each second) calls :func:`run_due` through ``timers.TICKS``,
and each node's ``tick(now)`` decides whether it is due (its next run time is kept in the cache,
Redis with a worker, as the message count node keeps its own).
"""

import logging
import math
import uuid
from collections import defaultdict

from devices.models import EntityGroup
from rulechains.nodes.base import ConfigError, int_option
from rulechains.nodes.related import IN_CHUNK, relations_query, walk

__all__ = ["FUNCTIONS", "UNITS", "aggregate", "number", "period_ms", "entity_ref", "related_all", "group_members",
           "ParentQuery", "parent_query", "run_due", "chunks", "IN_CHUNK", "MAX_PARENTS", "MAX_CHILDREN"]

log = logging.getLogger(__name__)

FUNCTIONS = ("MIN", "MAX", "SUM", "AVG", "COUNT", "COUNT_UNIQUE")
#: parents an aggregate latest run handles, and children in all (beyond: the first ones, logged)
MAX_PARENTS = 1_000
MAX_CHILDREN = 10_000
#: java.util.concurrent.TimeUnit names, as ThingsBoard's configurations hold them, in ms
UNITS = {"MILLISECONDS": 1, "SECONDS": 1000, "MINUTES": 60_000, "HOURS": 3_600_000, "DAYS": 86_400_000}


def number(value):
    """A value as a number (numbers, booleans as 0/1, numeric text), or None."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            parsed = float(value.strip())
        except ValueError:
            return None
        return parsed if math.isfinite(parsed) else None
    return None


def aggregate(function: str, values: list):
    """MIN/MAX/SUM/AVG of the numeric values (None when there are none); COUNT of all values;
    COUNT_UNIQUE of the distinct ones."""
    if function == "COUNT":
        return len(values)
    if function == "COUNT_UNIQUE":
        return len({str(v) for v in values})
    numbers = [n for n in (number(v) for v in values) if n is not None]
    if not numbers:
        return None
    if function == "MIN":
        return min(numbers)
    if function == "MAX":
        return max(numbers)
    total = sum(numbers)
    return total / len(numbers) if function == "AVG" else total


def chunks(items, size: int | None = None) -> list[list]:
    """``items`` in lists of at most ``size`` (IN_CHUNK): one query's ``IN (...)`` each."""
    items, size = list(items), size or IN_CHUNK
    return [items[i:i + size] for i in range(0, len(items), size)]


def choice(configuration: dict, key: str, allowed, default):
    value = configuration.get(key)
    value = default if value is None else value
    if not isinstance(value, str) or value not in allowed:
        raise ConfigError(f"{key} must be one of {', '.join(allowed)}, got {str(value)[:40]!r}")
    return value


def period_ms(configuration: dict, value_key: str, unit_key: str, default_value: int, default_unit: str) -> int:
    value = int_option(configuration, value_key, default_value, low=1)
    return value * UNITS[choice(configuration, unit_key, tuple(UNITS), default_unit)]


def entity_ref(value, key: str, *, required: bool = True):
    """(entity type, UUID) of ``{"entityType", "id"}``; ConfigError naming ``key``."""
    if value is None and not required:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("entityType"), str):
        raise ConfigError(f"{key} must be an entity id {{entityType, id}}")
    try:
        return value["entityType"], uuid.UUID(str(value.get("id")))
    except ValueError:
        raise ConfigError(f"{key}.id must be a UUID, got {str(value.get('id'))[:40]!r}") from None


def related_all(tenant_id, roots, query) -> dict:
    """{root (type, id): [(type, id), ...]} every entity the relation query finds from each root
    (rulechains.nodes.related.walk: one query per level for all roots, tenant-scoped)."""
    return walk(tenant_id, roots, query)


#: group members read per query
MEMBER_PAGE = 2_000


def group_members(tenant_id, group_ids, limit: int | None = None) -> dict:
    """{group id: [(type, id), ...]} of the tenant's groups among ``group_ids`` (another tenant's are
    left out), read by pages of MEMBER_PAGE per member type; with ``limit``, at most ``limit`` + 1
    members per group (enough to tell that a group has more than ``limit``)."""
    groups = {g.pk: g.type for g in EntityGroup.objects.filter(tenant_id=tenant_id, pk__in=list(group_ids))}
    members: dict = {pk: [] for pk in groups}
    relations = {"DEVICE": EntityGroup.devices, "ASSET": EntityGroup.assets, "ENTITY_VIEW": EntityGroup.entity_views,
                 "USER": EntityGroup.users}
    by_type = defaultdict(list)
    for pk, kind in groups.items():
        by_type[kind].append(pk)
    for kind, ids in by_type.items():
        if kind not in relations:
            continue
        through = relations[kind].through
        column = next(f.attname for f in through._meta.fields if f.is_relation and f.attname != "entitygroup_id")
        last = None
        while ids:
            rows = through.objects.filter(entitygroup_id__in=ids).order_by("pk")
            page = list((rows if last is None else rows.filter(pk__gt=last)).values_list(
                "pk", "entitygroup_id", column)[:MEMBER_PAGE])
            for _, group_id, member in page:
                if limit is None or len(members[group_id]) <= limit:
                    members[group_id].append((kind, member))
            if len(page) < MEMBER_PAGE:
                break
            last = page[-1][0]
            if limit is not None:
                ids = [g for g in ids if len(members[g]) <= limit]
    return members


class ParentQuery:
    """ThingsBoard PE's ParentEntitiesQuery: ``type`` "group" (``entityGroupId``: the parent is the
    group, its members the children), "single" (``entityId`` and ``childRelationsQuery``) or
    "relationsQuery" (the entities ``relationsQuery`` finds from ``rootEntityId``, each with the
    children ``childRelationsQuery`` finds)."""

    def __init__(self, kind, group=None, entity=None, root=None, relations=None, children=None):
        self.kind, self.group, self.entity, self.root = kind, group, entity, root
        self.relations, self.children = relations, children

    def resolve(self, tenant_id) -> dict:
        """{parent (type, id): [child (type, id), ...]} within the tenant: the first MAX_PARENTS
        parents, and the first MAX_CHILDREN children in all (more is logged)."""
        if self.kind == "group":
            members = group_members(tenant_id, [self.group], MAX_CHILDREN)
            tree = {("ENTITY_GROUP", self.group): members[self.group]} if self.group in members else {}
            return _capped(tree, self.kind)
        if self.kind == "single":
            parents = [self.entity]
        else:
            parents = related_all(tenant_id, [self.root], self.relations)[self.root]
        if len(parents) > MAX_PARENTS:
            log.warning("aggregate latest: %d parent entities found, only the first %d (MAX_PARENTS) are used",
                        len(parents), MAX_PARENTS)
            parents = parents[:MAX_PARENTS]
        from rulechains import originators

        lost = set()
        for part in chunks(parents):
            lost |= originators.missing((tenant_id, kind, pk) for kind, pk in part)
        parents = [p for p in parents if (tenant_id, *p) not in lost]
        return _capped(related_all(tenant_id, parents, self.children), self.kind) if parents else {}


def _capped(tree: dict, kind: str) -> dict:
    """``tree`` with its first MAX_CHILDREN children in all (logged when more)."""
    total = sum(len(kids) for kids in tree.values())
    if total <= MAX_CHILDREN:
        return tree
    log.warning("aggregate latest (%s): %d or more child entities found, only the first %d (MAX_CHILDREN) are used",
                kind, total, MAX_CHILDREN)
    left, capped = MAX_CHILDREN, {}
    for parent, kids in tree.items():
        capped[parent], left = kids[:left], max(0, left - len(kids))
    return capped


def parent_query(value, key: str = "parentEntitiesQuery") -> ParentQuery:
    if not isinstance(value, dict):
        raise ConfigError(f"{key} must be an object with a type: group, single or relationsQuery")
    kind = value.get("type")
    if kind == "group":
        raw = value.get("entityGroupId")
        raw = raw.get("id") if isinstance(raw, dict) else raw
        try:
            return ParentQuery("group", group=uuid.UUID(str(raw)))
        except ValueError:
            raise ConfigError(f"{key}.entityGroupId must be an entity group's UUID") from None
    if kind not in ("single", "relationsQuery"):
        raise ConfigError(f"{key}.type must be group, single or relationsQuery, got {str(kind)[:40]!r}")
    children = relations_query(value.get("childRelationsQuery"), f"{key}.childRelationsQuery")
    if kind == "single":
        return ParentQuery("single", entity=entity_ref(value.get("entityId"), f"{key}.entityId"), children=children)
    return ParentQuery("relationsQuery", root=entity_ref(value.get("rootEntityId"), f"{key}.rootEntityId"),
                       relations=relations_query(value.get("relationsQuery"), f"{key}.relationsQuery"),
                       children=children)


def run_due(now: int) -> int:
    """The periodic work of every aggregate latest and aggregate stream node; messages sent."""
    from django.utils.module_loading import import_string

    from rulechains.models import RuleNode

    kinds = {"org.thingsboard.rule.engine.analytics.latest.telemetry.TbAggLatestTelemetryNode":
             "rulechains.nodes.analytics_latest.AggLatestNode",
             "org.thingsboard.rule.engine.analytics.incoming.TbSimpleAggMsgNode":
             "rulechains.nodes.analytics_stream.SimpleAggMsgNode"}
    made = 0
    for row in RuleNode.objects.filter(type__in=list(kinds)).order_by():
        try:
            made += import_string(kinds[row.type])(row).tick(now)
        except ConfigError as e:
            log.warning("rule node '%s' (%s): %s", row.name, row.pk, e)
        except Exception:  # one node's trouble must not stop the others' ticks
            log.exception("rule node '%s' (%s): its periodic work failed", row.name, row.pk)
    return made
