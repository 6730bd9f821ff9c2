"""ThingsBoard's "related device attributes" node (metadata.TbGetDeviceAttrNode).

It is the originator attributes node (rulechains.nodes.enrichment) run for another entity: the
first device that ``deviceRelationsQuery`` finds from the originator. Keys, prefixes (``cs_``,
``shared_``, ``ss_``, latest telemetry unprefixed), templates, ``getLatestValueWithTs`` and
``tellFailureIfAbsent`` are that node's; only the entity the values are read from differs.
"""

from dataclasses import replace
from typing import NamedTuple

from devices.relations import COMMON, search
from rulechains.nodes.base import ConfigError, NodeError, Out, fail, field
from rulechains.nodes.enrichment import OriginatorAttributesNode
from rulechains.nodes.related import check_body, fetch_to, load_entities, max_level

__all__ = ["DeviceAttributesNode", "DeviceRelationsQuery", "device_relations_query", "NOT_FOUND"]

NOT_FOUND = "Failed to find related device to message originator using relation query specified in the configuration!"
_QUERY = "deviceRelationsQuery"


class DeviceRelationsQuery(NamedTuple):
    """ThingsBoard's DeviceRelationsQuery: a relation search that keeps devices of ``device_types``."""

    direction: str
    max_level: int
    relation_type: str
    device_types: frozenset
    last_level_only: bool


def device_relations_query(value) -> DeviceRelationsQuery:
    """``deviceRelationsQuery`` of a configuration; ConfigError naming what is wrong. An empty or
    missing ``relationType`` matches any relation type, as ThingsBoard's relation filter does; no
    ``deviceTypes`` finds no device (ThingsBoard keeps only devices whose type is listed)."""
    if not isinstance(value, dict):
        raise ConfigError(f"{_QUERY} must be an object with direction, maxLevel, relationType and deviceTypes")
    direction = value.get("direction")
    if direction not in ("FROM", "TO"):
        raise ConfigError(f"{_QUERY}.direction must be FROM or TO")
    level = max_level(value, _QUERY)
    relation_type = value.get("relationType") or ""
    if not isinstance(relation_type, str):
        raise ConfigError(f"{_QUERY}.relationType must be a relation type name")
    types = value.get("deviceTypes") or []
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        raise ConfigError(f"{_QUERY}.deviceTypes must be a list of device profile names")
    last = value.get("fetchLastLevelOnly")
    if last is not None and not isinstance(last, bool):
        raise ConfigError(f"{_QUERY}.fetchLastLevelOnly must be true or false")
    return DeviceRelationsQuery(direction, level, relation_type, frozenset(types), bool(last))


def related_devices(tenant_id, roots, query: DeviceRelationsQuery) -> dict:
    """{root (type, id): id of the first device the query finds, or None}: the relation search
    ThingsBoard's device service runs (``relationType`` and DEVICE ends), then only devices of
    this tenant whose type is one of ``deviceTypes``; the first in search order wins."""
    ends = {}
    for root in roots:
        relations = search(tenant_id, root[0], root[1], direction=query.direction, max_level=query.max_level,
                           type_group=COMMON, last_level_only=query.last_level_only)
        far = (_far(relation, query.direction) for relation in relations
               if not query.relation_type or relation.type == query.relation_type)
        ends[root] = [end for end in far if end[0] == "DEVICE"]
    rows = load_entities(tenant_id, {end for found in ends.values() for end in found})
    first = {}
    for root, found in ends.items():
        devices = (rows.get(end) for end in found)
        first[root] = next((d.pk for d in devices if d is not None and d.type in query.device_types), None)
    return first


def _far(relation, direction: str) -> tuple:
    if direction == "FROM":
        return relation.to_type, relation.to_id
    return relation.from_type, relation.from_id


class DeviceAttributesNode(OriginatorAttributesNode):
    """Adds the attributes and latest telemetry of the first device related to the originator
    (``deviceRelationsQuery``: direction, maxLevel, relationType, deviceTypes, fetchLastLevelOnly)
    as the originator attributes node adds the originator's own. Failure "Failed to find related
    device ..." when there is none; "Message body is not an object!" before anything else when
    ``fetchTo`` is DATA and the data is not an object. Before ThingsBoard 3.6 ``fetchToData``
    (true: DATA) said where the values go."""

    label = "related device attributes"
    defaults = {"deviceRelationsQuery": {"direction": "FROM", "maxLevel": 1, "relationType": "Contains",
                                         "deviceTypes": ["default"], "fetchLastLevelOnly": False},
                "tellFailureIfAbsent": True, "fetchTo": "METADATA", "clientAttributeNames": [],
                "sharedAttributeNames": [], "serverAttributeNames": [], "latestTsKeyNames": [],
                "getLatestValueWithTs": False}
    fields = (field(_QUERY, "json", "Related device query"), *OriginatorAttributesNode.fields)

    @classmethod
    def clean_config(cls, configuration):
        where = fetch_to(configuration, "METADATA", "fetchToData", "DATA")
        cleaned = super().clean_config({**configuration, "fetchTo": where})
        return {**cleaned, "query": device_relations_query(configuration.get(_QUERY))}

    def process_batch(self, ctx, msgs):
        outs: list = [None] * len(msgs)
        found, proxies = [], []
        roots = {(m.originator_type, m.originator_id) for m in msgs}
        first = related_devices(ctx.tenant_id, roots, self.config["query"])
        for i, msg in enumerate(msgs):
            try:
                check_body(msg, self.config["fetchTo"])
            except NodeError as e:
                outs[i] = fail(msg, e)
                continue
            device_id = first[(msg.originator_type, msg.originator_id)]
            if device_id is None:
                outs[i] = fail(msg, NOT_FOUND)
                continue
            found.append(i)
            proxies.append(replace(msg, originator_type="DEVICE", originator_id=device_id))
        for i, result in zip(found, super().process_batch(ctx, proxies) if proxies else [], strict=True):
            outs[i] = [self._back(out, msgs[i]) for out in result]
        return outs

    @staticmethod
    def _back(out: Out, original) -> Out:
        """The enriched message from the original originator again."""
        msg = replace(out.msg, originator_type=original.originator_type, originator_id=original.originator_id)
        return out._replace(msg=msg)
