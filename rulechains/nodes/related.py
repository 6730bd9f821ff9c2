"""Enrichment from the originator's customer, its tenant or a related entity (ThingsBoard's
"customer attributes", "tenant attributes" and "related entity data" nodes), and the lookups they
share with the details and change-originator nodes: relation queries, entities by (type, id), the
originator's customer, and where enrichment values go (``fetchTo``).

Every lookup is made for the whole batch at once and inside ``ctx.tenant_id``: an id of another
tenant is not found.
"""

from collections import defaultdict
from typing import NamedTuple

from django.db.models import Q

from devices.attributes import attribute_values
from devices.choices import AttributeScope
from devices.models import Asset, Device, EntityRelation
from devices.relations import COMMON, MAX_LEVEL
from devices.telemetry import latest_many
from rulechains.messages import SUCCESS, changed
from rulechains.nodes.base import (
    BaseNode,
    ConfigError,
    NodeError,
    Out,
    fail,
    field,
    int_option,
    normal_name,
    substitute,
)
from rulechains.nodes.enrichment import FETCH_TO, entity_field
from tenants.models import Customer, Tenant, User

__all__ = ["CustomerAttributesNode", "TenantAttributesNode", "RelatedAttributesNode", "RelationsQuery",
           "relations_query", "walk", "related_first", "load_entities", "customer_ids", "fetch_to", "check_body", "put",
           "NOT_AN_OBJECT", "DEFAULT_RELATIONS_QUERY", "CUSTOMER_HOLDERS"]

NOT_AN_OBJECT = "Message body is not an object!"
DIRECTIONS = ("FROM", "TO")
#: the relationsQuery of ThingsBoard's defaultConfiguration (related entity data, change originator)
DEFAULT_RELATIONS_QUERY = {"direction": "FROM", "maxLevel": 1, "fetchLastLevelOnly": False,
                           "filters": [{"relationType": "Contains", "entityTypes": []}]}
CUSTOMER_HOLDERS = ("CUSTOMER", "USER", "ASSET", "DEVICE")
#: ids per ``IN (...)`` list of one query (relation walks, aggregate latest's reads)
IN_CHUNK = 1_000


# --- fetchTo ---------------------------------------------------------------------------------------

def fetch_to(configuration: dict, default: str, old_key: str = "", if_true: str = "METADATA") -> str:
    """``fetchTo`` (METADATA or DATA); before ThingsBoard 3.6 a boolean ``old_key`` said it
    (``if_true`` when true), as ThingsBoard's upgrade reads it; absent: ``default``."""
    value = configuration.get("fetchTo")
    if value is None and old_key and configuration.get(old_key) is not None:
        old = str(configuration[old_key]).lower()
        if old not in ("true", "false"):
            raise ConfigError(f"{old_key} must be true or false")
        value = if_true if old == "true" else next(v for v in FETCH_TO if v != if_true)
    value = default if value is None else value
    if not isinstance(value, str) or value.upper() not in FETCH_TO:
        raise ConfigError(f"fetchTo must be METADATA or DATA, got {str(value)[:40]!r}")
    return value.upper()


def check_body(msg, fetch_to_value: str) -> None:
    """ThingsBoard refuses a message whose data is not a JSON object before anything else with DATA."""
    if fetch_to_value == "DATA" and not isinstance(msg.data, dict):
        raise NodeError(NOT_AN_OBJECT)


def put(msg, values: dict, fetch_to_value: str):
    """The message with ``values`` added to its data (typed) or its metadata (as text)."""
    check_body(msg, fetch_to_value)
    if not values:
        return msg
    if fetch_to_value == "DATA":
        return changed(msg, data={**msg.data, **values})
    return changed(msg, metadata={**msg.metadata, **values})


# --- entities ----------------------------------------------------------------------------------------

def load_entities(tenant_id, refs) -> dict:
    """{(type, id): row} of the devices, assets, customers and users among ``refs`` that belong to
    the tenant, and the tenant itself (type TENANT); one query per type."""
    wanted = defaultdict(set)
    for kind, pk in refs:
        if pk is not None:
            wanted[kind].add(pk)
    found = {}
    for kind, ids in wanted.items():
        if kind == "TENANT":
            rows = Tenant.objects.filter(pk=tenant_id) if tenant_id in ids else []
        elif kind in ("DEVICE", "ASSET"):
            rows = {"DEVICE": Device, "ASSET": Asset}[kind].objects.filter(
                tenant_id=tenant_id, pk__in=ids).select_related("profile")
        elif kind in ("CUSTOMER", "USER"):
            rows = {"CUSTOMER": Customer, "USER": User}[kind].objects.filter(tenant_id=tenant_id, pk__in=ids)
        else:
            continue
        found.update({(kind, row.pk): row for row in rows})
    return found


def customer_ids(tenant_id, msgs) -> list:
    """Per message, the id of its originator's customer (a customer originator: itself) when the
    originator is a device, asset, user or customer of this tenant assigned to one; else None."""
    rows = load_entities(tenant_id, {(m.originator_type, m.originator_id) for m in msgs
                                     if m.originator_type in CUSTOMER_HOLDERS})
    ids = []
    for m in msgs:
        row = rows.get((m.originator_type, m.originator_id))
        ids.append(None if row is None else row.pk if m.originator_type == "CUSTOMER" else row.customer_id)
    return ids


def _field_of(entity, name: str):
    """An entity field as ThingsBoard's fields loader names it ("name" of a customer or tenant is its title)."""
    if name == "name" and not hasattr(entity, "name"):
        return getattr(entity, "title", None) or getattr(entity, "email", None)
    return entity_field(entity, name)


# --- relation queries ----------------------------------------------------------------------------------

class RelationsQuery(NamedTuple):
    """ThingsBoard's RelationsQuery: ``filters`` are (relation type or "", entity types) pairs."""

    direction: str
    max_level: int
    last_level_only: bool
    filters: tuple


def max_level(query: dict, key: str) -> int:
    """``maxLevel`` of a relation query (missing, null or blank: 1; 0 or less: as deep as
    devices.relations allows); ConfigError "<key>.maxLevel must be an integer from ..."."""
    try:
        return int_option(query, "maxLevel", 1)
    except ConfigError as e:
        raise ConfigError(f"{key}.{e}") from None


def relations_query(value, key: str = "relationsQuery") -> RelationsQuery:
    """The relation query of a configuration; ConfigError naming what is wrong."""
    if not isinstance(value, dict):
        raise ConfigError(f"{key} must be an object with direction, maxLevel and filters")
    direction = value.get("direction")
    if direction not in DIRECTIONS:
        raise ConfigError(f"{key}.direction must be FROM or TO")
    level = max_level(value, key)
    filters = value.get("filters") or []
    if not isinstance(filters, list) or not all(isinstance(f, dict) for f in filters):
        raise ConfigError(f"{key}.filters must be a list of {{relationType, entityTypes}}")
    parsed = []
    for item in filters:
        rel_type, types = item.get("relationType") or "", item.get("entityTypes") or []
        if not isinstance(rel_type, str) or not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            raise ConfigError(f"{key}.filters: relationType must be text and entityTypes a list of entity types")
        parsed.append((rel_type, frozenset(types)))
    return RelationsQuery(direction, level, bool(value.get("fetchLastLevelOnly")), tuple(parsed))


class _Walk:
    """One root's breadth-first walk: each entity is reached once, at its nearest level."""

    def __init__(self, root):
        self.frontier, self.seen, self.found = {root}, {root}, []

    def step(self, rows, forward: bool, last_level_only: bool) -> None:
        level, frontier = [], set()
        for relation in rows:
            near, far = _ends(relation, forward)
            if near in self.frontier and far not in self.seen:
                self.seen.add(far)
                frontier.add(far)
                level.append(relation)
        self.frontier = frontier
        if level:
            self.found = level if last_level_only else self.found + level


def _ends(relation, forward: bool) -> tuple:
    ends = ((relation.from_type, relation.from_id), (relation.to_type, relation.to_id))
    return ends if forward else ends[::-1]


def _relations_near(tenant_id, frontier, forward: bool) -> list:
    by_type = defaultdict(set)
    for kind, pk in frontier:
        by_type[kind].add(pk)
    found = []
    for kind, ids in by_type.items():
        ids = sorted(ids, key=str)
        for at in range(0, len(ids), IN_CHUNK):  # IN lists of at most IN_CHUNK ids
            part = ids[at:at + IN_CHUNK]
            near = Q(from_type=kind, from_id__in=part) if forward else Q(to_type=kind, to_id__in=part)
            found += EntityRelation.objects.filter(near, tenant_id=tenant_id, type_group=COMMON).order_by()
    return sorted(found, key=lambda relation: (relation.type, relation.pk))


def _matches(query: RelationsQuery, relation, far) -> bool:
    if not query.filters:
        return True
    return any((not rel_type or rel_type == relation.type) and (not types or far[0] in types)
               for rel_type, types in query.filters)


def walk(tenant_id, roots, query: RelationsQuery) -> dict:
    """{root (type, id): [(type, id), ...]} the entities ThingsBoard's relation search finds from
    each root, nearest level first (levels up to ``maxLevel``, 0 meaning as deep as
    devices.relations allows; only the deepest level reached with ``fetchLastLevelOnly``), that
    pass the query's filters. Each entity once, at its nearest level; tenant-scoped; one query per
    level for all the roots of a batch."""
    forward = query.direction == "FROM"
    levels = query.max_level if 0 < query.max_level <= MAX_LEVEL else MAX_LEVEL
    walks = {root: _Walk(root) for root in roots}
    for _ in range(levels):
        frontier = {end for one in walks.values() for end in one.frontier}
        if not frontier:
            break
        rows = _relations_near(tenant_id, frontier, forward)
        for one in walks.values():
            one.step(rows, forward, query.last_level_only)
    found = {}
    for root, one in walks.items():
        ends = [_ends(relation, forward)[1] for relation in one.found]
        found[root] = [end for relation, end in zip(one.found, ends, strict=True) if _matches(query, relation, end)]
    return found


def related_first(tenant_id, roots, query: RelationsQuery) -> dict:
    """{root (type, id): (type, id) of the first entity :func:`walk` finds, or None}."""
    return {root: ends[0] if ends else None for root, ends in walk(tenant_id, roots, query).items()}


# --- the entity data nodes -------------------------------------------------------------------------

_ATTRIBUTES, _LATEST, _FIELDS = "ATTRIBUTES", "LATEST_TELEMETRY", "FIELDS"


class _EntityDataNode(BaseNode):
    """Adds the server attributes, latest telemetry (or, for a related entity, fields) of the
    entity :meth:`targets` finds, as ``dataMapping`` ({source key: target key}, both may use
    ``${metadataKey}`` / ``$[data.path]``) says, to the metadata or the data (``fetchTo``). Keys
    the entity does not have are skipped. Before ThingsBoard 3.6: ``attrMapping`` and
    ``telemetry`` (true: latest telemetry), always to the metadata."""

    group = "ENRICHMENT"
    data_kinds: tuple = (_ATTRIBUTES, _LATEST)
    defaults = {"dataMapping": {"alarmThreshold": "threshold"}, "dataToFetch": _ATTRIBUTES, "fetchTo": "METADATA"}
    fields = (field("dataToFetch", "select", "Data to fetch", choices=(_ATTRIBUTES, _LATEST)),
              field("dataMapping", "json", "Source key -> target key"),
              field("fetchTo", "select", "Add to", choices=FETCH_TO))

    @classmethod
    def clean_config(cls, configuration):
        mapping = configuration.get("dataMapping", configuration.get("attrMapping"))
        if not isinstance(mapping, dict) or not mapping:
            raise ConfigError("dataMapping: At least one mapping entry should be specified!")
        if not all(isinstance(k, str) and k and isinstance(v, str) and v for k, v in mapping.items()):
            raise ConfigError("dataMapping must map key names to non-empty key names")
        return {"mapping": mapping, "dataToFetch": cls._data_to_fetch(configuration),
                "fetchTo": fetch_to(configuration, "METADATA")}

    @classmethod
    def _data_to_fetch(cls, configuration) -> str:
        value = configuration.get("dataToFetch")
        if value is None:
            old = str(configuration.get("telemetry", False)).lower()
            if old not in ("true", "false"):
                raise ConfigError("telemetry must be true or false")
            value = _LATEST if old == "true" else _ATTRIBUTES
        if value not in cls.data_kinds:
            raise ConfigError(f"dataToFetch: DataToFetch property has invalid value: {str(value)[:40]}. "
                              f"Only {' and '.join(cls.data_kinds)} values supported!")
        return value

    def targets(self, ctx, msgs) -> list:
        """Per message, the (type, id) of the entity to read, or the failure text."""
        raise NotImplementedError

    def process_batch(self, ctx, msgs):
        refs = self.targets(ctx, msgs)
        mappings = [self._mapping(m) for m in msgs]
        found = self._read(ctx, [r for r in refs if isinstance(r, tuple)], {k for m in mappings for k in m})
        return [self._one(m, ref, mapping, found) for m, ref, mapping in zip(msgs, refs, mappings, strict=True)]

    def _mapping(self, msg) -> dict:
        fields_only = self.config["dataToFetch"] == _FIELDS  # a field name is never a template
        mapping = self.config["mapping"].items()
        return {(k if fields_only else substitute(k, msg)): substitute(v, msg) for k, v in mapping}

    def _read(self, ctx, refs: list, keys: set) -> dict:
        if not refs or not keys:
            return {}
        # only entities of this tenant: a relation or an originator can name another tenant's id
        entities = load_entities(ctx.tenant_id, refs)
        if self.config["dataToFetch"] == _FIELDS:
            return entities
        ids = {pk for _, pk in entities}
        if not ids:
            return {}
        if self.config["dataToFetch"] == _ATTRIBUTES:
            return attribute_values(ids, AttributeScope.SERVER_SCOPE, keys)
        return latest_many(ids, sorted(keys))

    def _one(self, msg, ref, mapping: dict, found: dict) -> list[Out]:
        try:
            check_body(msg, self.config["fetchTo"])
            if isinstance(ref, str):
                return fail(msg, ref)
            return [Out(SUCCESS, put(msg, self._values(ref, mapping, found), self.config["fetchTo"]))]
        except NodeError as e:
            return fail(msg, e)

    def _values(self, ref, mapping: dict, found: dict) -> dict:
        values = {}
        if self.config["dataToFetch"] == _FIELDS:
            entity = found.get(ref)
            for source, target in mapping.items():
                value = None if entity is None else _field_of(entity, source)
                if value not in (None, ""):  # ThingsBoard reads fields ignoring empty strings here
                    values[target] = str(value)
            return values
        for source, target in mapping.items():
            hit = found.get((ref[1], source))
            if hit is not None:
                values[target] = hit[1]
        return values


class CustomerAttributesNode(_EntityDataNode):
    """ThingsBoard's "customer attributes": the data of the originator's customer (a device, asset
    or user assigned to one; a customer originator is its own). Failure "Failed to find customer
    for entity with id: <id> and type: <Type>" when there is none; other originator types fail
    with "Unexpected originator EntityType: <TYPE>"."""

    label = "customer attributes"

    def targets(self, ctx, msgs):
        refs = []
        for msg, customer_id in zip(msgs, customer_ids(ctx.tenant_id, msgs), strict=True):
            if msg.originator_type not in CUSTOMER_HOLDERS:
                refs.append(f"Unexpected originator EntityType: {msg.originator_type}")
            elif customer_id is None:
                refs.append(f"Failed to find customer for entity with id: {msg.originator_id} and type: "
                            f"{normal_name(msg.originator_type)}")
            else:
                refs.append(("CUSTOMER", customer_id))
        return refs


class TenantAttributesNode(_EntityDataNode):
    """ThingsBoard's "tenant attributes": the data of the tenant the rule chain runs for."""

    label = "tenant attributes"

    def targets(self, ctx, msgs):
        return [("TENANT", ctx.tenant_id)] * len(msgs)


class RelatedAttributesNode(_EntityDataNode):
    """ThingsBoard's "related entity data": the data of the first entity the ``relationsQuery``
    finds from the originator (``dataToFetch`` FIELDS too: name, type, label, id, createdTime...).
    Failure "Failed to find related entity to message originator using relation query specified
    in the configuration!" when there is none."""

    label = "related entity data"
    data_kinds = (_ATTRIBUTES, _LATEST, _FIELDS)
    defaults = {"relationsQuery": DEFAULT_RELATIONS_QUERY, "dataMapping": {"serialNumber": "sn"},
                "dataToFetch": _ATTRIBUTES, "fetchTo": "METADATA"}
    fields = (field("relationsQuery", "json", "Relations query"),
              field("dataToFetch", "select", "Data to fetch", choices=data_kinds),
              *_EntityDataNode.fields[1:])

    @classmethod
    def clean_config(cls, configuration):
        cleaned = super().clean_config(configuration)
        return {**cleaned, "query": relations_query(configuration.get("relationsQuery"))}

    def targets(self, ctx, msgs):
        roots = [(m.originator_type, m.originator_id) for m in msgs]
        first = related_first(ctx.tenant_id, set(roots), self.config["query"])
        missing = ("Failed to find related entity to message originator using relation query specified in the "
                   "configuration!")
        return [first[root] or missing for root in roots]
