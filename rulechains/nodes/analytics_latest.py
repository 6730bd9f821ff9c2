"""ThingsBoard PE's "aggregate latest" node (analytics.latest.telemetry.TbAggLatestNode).

Every ``periodValue`` ``periodTimeUnit`` it finds the parent entities of ``parentEntitiesQuery``
and their children, reads the children's latest telemetry or attributes named by ``aggMappings``
and sends, per parent, one POST_TELEMETRY_REQUEST whose originator is the parent and whose data is
``{target: result, ...}`` by Success (connect a "save timeseries" node to store it). Runs from
the generators' periodic job (rulechains/nodes/analytics.py); the next run time is kept in the
cache, so a restarted worker goes on with the schedule. A run handles at most MAX_PARENTS parents
and MAX_CHILDREN children in all (rulechains/nodes/analytics.py; beyond: the first ones, logged),
and reads the children's values IN_CHUNK ids per query.
"""

from devices.attributes import attribute_values
from devices.choices import AttributeScope
from devices.telemetry import latest_many
from rulechains.messages import POST_TELEMETRY_REQUEST, SUCCESS, Msg
from rulechains.nodes.analytics import FUNCTIONS, UNITS, aggregate, choice, chunks, number, parent_query, period_ms
from rulechains.nodes.base import BaseNode, ConfigError, bool_option, field, text_option

__all__ = ["AggLatestNode"]

SCOPES = tuple(AttributeScope.values)
_RELATIONS = {"direction": "FROM", "maxLevel": 1, "fetchLastLevelOnly": False,
              "filters": [{"relationType": "Contains", "entityTypes": ["DEVICE"]}]}


def _mapping(item, index: int) -> dict:
    key = f"aggMappings[{index}]"
    if not isinstance(item, dict):
        raise ConfigError(f"{key} must be an object")
    source, target = item.get("source"), item.get("target")
    if not isinstance(source, str) or not source.strip() or not isinstance(target, str) or not target.strip():
        raise ConfigError(f"{key}: source and target key names are required")
    if item.get("filter") not in (None, {}, False):
        raise ConfigError(f"{key}.filter: child filter scripts are not supported here")
    default = item.get("defaultValue")
    if default is not None and number(default) is None:
        raise ConfigError(f"{key}.defaultValue must be a number")
    return {"source": source, "target": target, "latest": bool_option(item, "latest", True),
            "sourceScope": choice(item, "sourceScope", SCOPES, "SERVER_SCOPE"),
            "aggFunction": choice(item, "aggFunction", FUNCTIONS, "AVG"),
            "defaultValue": None if default is None else number(default),
            "latestTsKeyName": text_option(item, "latestTsKeyName", "") or ""}


class AggLatestNode(BaseNode):
    """ThingsBoard PE's "aggregate latest". Messages that reach it go no further (it acts on its
    schedule). A mapping (``source``, ``latest``: latest telemetry or else the ``sourceScope``
    attribute, ``aggFunction`` MIN/MAX/SUM/AVG/COUNT/COUNT_UNIQUE, ``defaultValue`` for a child
    without the key, ``target``) gives one key of the result; a MIN/MAX/SUM/AVG with no numeric
    value leaves its key out, a parent with no result key sends nothing. ``latestTsKeyName`` also
    sends the newest child value's ts under that key. Child filter scripts are refused."""

    label = "aggregate latest"
    group = "ACTION"
    side_effects = True
    savepoint = False
    defaults = {"periodValue": 5, "periodTimeUnit": "MINUTES", "outMsgType": POST_TELEMETRY_REQUEST,
                "parentEntitiesQuery": {"type": "group", "entityGroupId": None},
                "aggMappings": [{"source": "temperature", "latest": True, "sourceScope": "SERVER_SCOPE",
                                 "aggFunction": "AVG", "defaultValue": 0, "target": "avgTemperature"}]}
    fields = (field("periodValue", "number", "Execution period value"),
              field("periodTimeUnit", "select", "Execution period time unit", choices=tuple(UNITS)),
              field("parentEntitiesQuery", "json", "Entities",
                    help='{"type": "group", "entityGroupId"} | {"type": "single", "entityId", "childRelationsQuery"}'
                         ' | {"type": "relationsQuery", "rootEntityId", "relationsQuery", "childRelationsQuery"}'),
              field("aggMappings", "json", "Aggregate latest mappings",
                    help="[{source, latest, sourceScope, aggFunction, defaultValue, target}]"),
              field("outMsgType", "text", "Output message type"))

    @classmethod
    def clean_config(cls, configuration):
        mappings = configuration.get("aggMappings", configuration.get("aggregateMappings"))
        if not isinstance(mappings, list) or not mappings:
            raise ConfigError("aggMappings: at least one mapping should be specified")
        cleaned = [_mapping(m, i) for i, m in enumerate(mappings)]
        period = period_ms(configuration, "periodValue", "periodTimeUnit", 5, "MINUTES")
        query = configuration.get("parentEntitiesQuery")
        if isinstance(query, dict) and query.get("type") == "group" and query.get("entityGroupId") is None:
            parents = None  # ThingsBoard's default: no group picked yet; the node does nothing until one is
        else:
            parents = parent_query(query)
        return {"period": period, "parents": parents, "mappings": cleaned,
                "outMsgType": text_option(configuration, "outMsgType") or POST_TELEMETRY_REQUEST}

    def process_batch(self, ctx, msgs):
        return [[] for _ in msgs]

    def _key(self, part: str) -> str:
        return f"rulenode-agglatest:{self.id}:{part}"

    def tick(self, now: int) -> int:
        """Aggregate and send when the period is over; returns how many messages went on."""
        from django.core.cache import cache

        due = cache.get(self._key("next"))
        if due is None:  # first seen: the first run is one period later, as ThingsBoard schedules it
            cache.add(self._key("next"), now + self.config["period"], timeout=None)
            return 0
        if now < due or not cache.add(self._key(f"tick:{due}"), 1, timeout=3600):  # not yet, or another took it
            return 0
        cache.set(self._key("next"), max(due + self.config["period"], now + 1), timeout=None)
        msgs = self.results(self.row.tenant_id, now)
        if not msgs:
            return 0
        from rulechains import engine

        report = engine.resume(self.row.tenant_id, self.row.rule_chain_id, self.id, SUCCESS, msgs, now=now)
        return len(msgs) - report.refused

    def results(self, tenant_id, now: int) -> list[Msg]:
        """One message per parent with a result (reads: one query per kind of value for all children)."""
        if self.config["parents"] is None:
            return []
        tree = self.config["parents"].resolve(tenant_id)
        children = {child[1] for kids in tree.values() for child in kids}
        mappings = self.config["mappings"]
        latest_keys = {m["source"] for m in mappings if m["latest"]}
        latest, attrs = {}, {}
        for part in chunks(children):
            if latest_keys:
                latest.update(latest_many(part, latest_keys))
            for scope in {m["sourceScope"] for m in mappings if not m["latest"]}:
                keys = [m["source"] for m in mappings if not m["latest"] and m["sourceScope"] == scope]
                for (entity, key), found in attribute_values(part, scope, keys).items():
                    attrs[(scope, entity, key)] = found
        msgs = []
        for (parent_type, parent_id), kids in tree.items():
            data = {}
            for m in mappings:
                values, newest = [], None
                for _, child in kids:
                    found = latest.get((child, m["source"])) if m["latest"] else attrs.get(
                        (m["sourceScope"], child, m["source"]))
                    if found is not None:
                        values.append(found[1])
                        newest = found[0] if newest is None else max(newest, found[0] or 0)
                    elif m["defaultValue"] is not None:
                        values.append(m["defaultValue"])
                result = aggregate(m["aggFunction"], values)
                if result is not None:
                    data[m["target"]] = result
                    if m["latestTsKeyName"] and newest is not None:
                        data[m["latestTsKeyName"]] = newest
            if data:
                msgs.append(Msg(self.config["outMsgType"], tenant_id, parent_type, parent_id, data, {"ts": str(now)}))
        return msgs
