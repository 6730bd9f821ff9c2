"""ThingsBoard PE's "alarms count" node (analytics.latest.alarm.TbAlarmsCountNodeV2).

On each message (typically an alarm message: its originator is the alarm's originator and its
data the alarm), it counts the alarms of the originator, and with
``countAlarmsForPropagationEntities`` of the entities the message's alarm propagates to
(``propagationEntityTypes``: those types only; empty: all), and sends per entity one
``outMsgType`` message (POST_TELEMETRY_REQUEST) with ``{target: count, ...}`` by Success. An
entity's alarms are its own and those propagated to it (rulechains.alarms' model: Alarm and
EntityAlarm rows), counted by the database (one conditional COUNT per mapping, grouped by
entity). Three queries per batch whatever its size.
"""

import functools
import operator
import uuid
from collections import defaultdict

from django.db.models import Count, F, Q

from rulechains.messages import POST_TELEMETRY_REQUEST, SUCCESS, Msg
from rulechains.models import Alarm, AlarmSeverity, EntityAlarm
from rulechains.nodes.base import BaseNode, ConfigError, Out, bool_option, field, int_option, text_option

__all__ = ["AlarmsCountNode"]

STATUSES = ("ACTIVE", "CLEARED", "ACK", "UNACK", "ANY")
SEVERITIES = tuple(AlarmSeverity.values)


def _strings(item: dict, key: str, allowed, where: str) -> frozenset:
    values = item.get(key) or []
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ConfigError(f"{where}.{key} must be a list of texts")
    if allowed is not None and not set(values) <= set(allowed):
        raise ConfigError(f"{where}.{key}: each must be one of {', '.join(allowed)}")
    return frozenset(values)


def _mapping(item, index: int) -> dict:
    where = f"alarmsCountMappings[{index}]"
    if not isinstance(item, dict):
        raise ConfigError(f"{where} must be an object")
    target = item.get("target")
    if not isinstance(target, str) or not target.strip():
        raise ConfigError(f"{where}.target: the target telemetry key is required")
    return {"target": target, "types": _strings(item, "typesList", None, where),
            "severities": _strings(item, "severityList", SEVERITIES, where),
            "statuses": _strings(item, "statusList", STATUSES, where),
            "latestInterval": int_option(item, "latestInterval", 0, low=0, high=2**62)}


_STATUS = {"ACTIVE": ("cleared", False), "CLEARED": ("cleared", True), "ACK": ("acknowledged", True),
           "UNACK": ("acknowledged", False)}


def _condition(mapping: dict, now: int, prefix: str = "") -> Q | None:
    """The mapping's filters as a condition on alarms (``prefix``: the path to the alarm), None: any."""
    parts = []
    if mapping["types"]:
        parts.append(Q(**{f"{prefix}type__in": sorted(mapping["types"])}))
    if mapping["severities"]:
        parts.append(Q(**{f"{prefix}severity__in": sorted(mapping["severities"])}))
    statuses = mapping["statuses"]
    if statuses and "ANY" not in statuses:
        either = Q()
        for status in sorted(statuses):
            column, value = _STATUS[status]
            either |= Q(**{f"{prefix}{column}": value})
        parts.append(either)
    if mapping["latestInterval"]:
        parts.append(Q(**{f"{prefix}created_time__gte": now - mapping["latestInterval"]}))
    return functools.reduce(operator.and_, parts) if parts else None


class AlarmsCountNode(BaseNode):
    """ThingsBoard PE's "alarms count": per mapping (``target``, ``typesList``, ``severityList``,
    ``statusList`` of ACTIVE/CLEARED/ACK/UNACK/ANY, ``latestInterval`` ms, 0: any age; empty lists:
    any) the number of matching alarms. The incoming message itself goes no further."""

    label = "alarms count"
    group = "ACTION"
    defaults = {"alarmsCountMappings": [{"target": "alarmsCount", "typesList": [], "severityList": [],
                                         "statusList": ["ACTIVE"], "latestInterval": 0}],
                "countAlarmsForPropagationEntities": True, "propagationEntityTypes": [],
                "outMsgType": POST_TELEMETRY_REQUEST}
    fields = (field("alarmsCountMappings", "json", "Alarms count mappings",
                    help="[{target, typesList, severityList, statusList, latestInterval}]"),
              field("countAlarmsForPropagationEntities", "bool", "Count alarms for propagation entities"),
              field("propagationEntityTypes", "list", "Propagation entity types", help="empty: all"),
              field("outMsgType", "text", "Output message type"))

    @classmethod
    def clean_config(cls, configuration):
        mappings = configuration.get("alarmsCountMappings")
        if not isinstance(mappings, list) or not mappings:
            raise ConfigError("alarmsCountMappings: at least one mapping should be specified")
        return {"mappings": [_mapping(m, i) for i, m in enumerate(mappings)],
                "propagation": bool_option(configuration, "countAlarmsForPropagationEntities", True),
                "propagationTypes": _strings(configuration, "propagationEntityTypes", None, "configuration"),
                "outMsgType": text_option(configuration, "outMsgType") or POST_TELEMETRY_REQUEST}

    def targets(self, ctx, msgs) -> list[list[tuple]]:
        """Per message, the (type, id) of the entities to count for: its originator, and with
        propagation the entities its alarm (``data.id``) propagates to (one query)."""
        alarm_ids = {}
        if self.config["propagation"]:
            for i, msg in enumerate(msgs):
                raw = msg.data.get("id") if isinstance(msg.data, dict) else None
                raw = raw.get("id") if isinstance(raw, dict) else raw
                try:
                    alarm_ids[i] = uuid.UUID(str(raw)) if raw else None
                except ValueError:
                    alarm_ids[i] = None
        spread = defaultdict(list)
        wanted = {a for a in alarm_ids.values() if a}
        if wanted:
            rows = EntityAlarm.objects.filter(tenant_id=ctx.tenant_id, alarm_id__in=wanted).order_by("entity_type")
            for alarm_id, kind, pk in rows.values_list("alarm_id", "entity_type", "entity_id"):
                if not self.config["propagationTypes"] or kind in self.config["propagationTypes"]:
                    spread[alarm_id].append((kind, pk))
        found = []
        for i, msg in enumerate(msgs):
            entities = [(msg.originator_type, msg.originator_id)]
            entities += [e for e in spread.get(alarm_ids.get(i), ()) if e not in entities]
            found.append(entities)
        return found

    def process_batch(self, ctx, msgs):
        targets = self.targets(ctx, msgs)
        counts = self.counts(ctx, {pk for entities in targets for _, pk in entities})
        outs = []
        for entities in targets:
            out = []
            for kind, pk in entities:
                data = {m["target"]: counts[pk][n] for n, m in enumerate(self.config["mappings"])}
                out.append(Out(SUCCESS, Msg(self.config["outMsgType"], ctx.tenant_id, kind, pk, data,
                                            {"ts": str(ctx.now)})))
            outs.append(out)
        return outs

    def counts(self, ctx, ids) -> dict:
        """{entity id: [count per mapping]}: its own alarms and those propagated to it (an alarm of
        its own with a propagation row to itself once), in two grouped queries."""
        mappings = self.config["mappings"]
        counts = defaultdict(lambda: [0] * len(mappings))
        if not ids:
            return counts
        own = Alarm.objects.filter(tenant_id=ctx.tenant_id, originator_id__in=ids).order_by()
        spread = (EntityAlarm.objects.filter(tenant_id=ctx.tenant_id, alarm__tenant_id=ctx.tenant_id, entity_id__in=ids)
                  .exclude(alarm__originator_id=F("entity_id")).order_by())
        for rows, entity, prefix in ((own, "originator_id", ""), (spread, "entity_id", "alarm__")):
            columns = {f"m{n}": Count("pk", filter=_condition(m, ctx.now, prefix)) for n, m in enumerate(mappings)}
            for row in rows.values(entity).annotate(**columns):
                found = counts[row[entity]]
                for n in range(len(mappings)):
                    found[n] += row[f"m{n}"]
        return counts
