"""ThingsBoard's "change originator" transformation node: the message goes on with another
originator (type and id); its type, data and metadata stay.

Every source picks within the tenant (its customers, users, devices, assets, alarms, relation
rows); a relation row naming another tenant's entity (made before the tenancy checks) is caught
by the engine, which checks every new originator: the message then leaves by Failure as it came,
"<Type> with id [...] is not found" (rulechains/engine.py, rulechains/originators.py)."""

from dataclasses import replace

from devices.models import Asset, Device
from rulechains.messages import SUCCESS
from rulechains.models import Alarm
from rulechains.nodes.base import BaseNode, ConfigError, Out, fail, field, substitute
from rulechains.nodes.related import (
    CUSTOMER_HOLDERS,
    DEFAULT_RELATIONS_QUERY,
    customer_ids,
    related_first,
    relations_query,
)
from tenants.models import User

__all__ = ["ChangeOriginatorNode", "SOURCES", "NAMED_TYPES"]

SOURCES = ("CUSTOMER", "TENANT", "RELATED", "ALARM_ORIGINATOR", "ENTITY")
#: the entity types "Entity by name pattern" accepts (a user is found by email); entity views and
#: edges do not exist here, so a name of one is never found
NAMED_TYPES = ("DEVICE", "ASSET", "ENTITY_VIEW", "EDGE", "USER")
NOT_FOUND = "Failed to find new originator!"
_ENTITY = "'Entity by name pattern'"


class ChangeOriginatorNode(BaseNode):
    """``originatorSource``: CUSTOMER (the originator's customer; a customer stays itself),
    TENANT, RELATED (the first entity ``relationsQuery`` finds), ALARM_ORIGINATOR (for an alarm
    originator), ENTITY (the ``entityType`` entity named by ``entityNamePattern``, with
    ``${metadataKey}`` / ``$[data.path]``). No new originator: Failure "Failed to find new
    originator!" (ENTITY: "Failed to found DEVICE  entity by name: '<name>'!", ThingsBoard's text)."""

    label = "change originator"
    group = "TRANSFORMATION"
    defaults = {"originatorSource": "CUSTOMER", "entityType": None, "entityNamePattern": None,
                "relationsQuery": DEFAULT_RELATIONS_QUERY}
    fields = (field("originatorSource", "select", "Originator source", choices=SOURCES),
              field("relationsQuery", "json", "Relations query (RELATED)"),
              field("entityType", "select", "Entity type (ENTITY)", choices=NAMED_TYPES),
              field("entityNamePattern", "text", "Name pattern (ENTITY)", help="${metadataKey} or $[data.key]"))

    @classmethod
    def clean_config(cls, configuration):
        source = configuration.get("originatorSource")
        if source is None:
            raise ConfigError("originatorSource: Originator source should be specified.")
        if source not in SOURCES:
            raise ConfigError(f"originatorSource must be one of {', '.join(SOURCES)}, got {str(source)[:40]!r}")
        cleaned = {"source": source}
        if source == "RELATED":
            query = configuration.get("relationsQuery")
            if query is None:
                raise ConfigError("relationsQuery: Relations query should be specified if 'Related entity' source "
                                  "is selected.")
            cleaned["query"] = relations_query(query)
        if source == "ENTITY":
            cleaned.update(cls._entity(configuration))
        return cleaned

    @staticmethod
    def _entity(configuration) -> dict:
        entity_type, pattern = configuration.get("entityType"), configuration.get("entityNamePattern")
        if entity_type is None:
            raise ConfigError(f"entityType: Entity type should be specified if {_ENTITY} source is selected.")
        if entity_type not in NAMED_TYPES:
            raise ConfigError(f"entityType: Unexpected entity type {str(entity_type)[:40]}")
        if not isinstance(pattern, str) or not pattern:
            raise ConfigError(f"entityNamePattern: Name pattern should be specified if {_ENTITY} source is selected.")
        return {"entityType": entity_type, "pattern": pattern}

    def process_batch(self, ctx, msgs):
        finder = {"CUSTOMER": self._customers, "TENANT": self._tenant, "RELATED": self._related,
                  "ALARM_ORIGINATOR": self._alarm_originators, "ENTITY": self._named}[self.config["source"]]
        outs = []
        for msg, new in zip(msgs, finder(ctx, msgs), strict=True):
            if isinstance(new, str):
                outs.append(fail(msg, new))
            else:
                # the data now belongs to another entity: a save node must store it for that one
                outs.append([Out(SUCCESS, replace(msg, originator_type=new[0], originator_id=new[1], stored=False))])
        return outs

    def _customers(self, ctx, msgs):
        return [("CUSTOMER", cid) if cid is not None and m.originator_type in CUSTOMER_HOLDERS else NOT_FOUND
                for m, cid in zip(msgs, customer_ids(ctx.tenant_id, msgs), strict=True)]

    def _tenant(self, ctx, msgs):
        return [("TENANT", ctx.tenant_id)] * len(msgs)

    def _related(self, ctx, msgs):
        roots = [(m.originator_type, m.originator_id) for m in msgs]
        first = related_first(ctx.tenant_id, set(roots), self.config["query"])
        return [first[root] or NOT_FOUND for root in roots]

    def _alarm_originators(self, ctx, msgs):
        ids = {m.originator_id for m in msgs if m.originator_type == "ALARM"}
        rows = Alarm.objects.filter(tenant_id=ctx.tenant_id, pk__in=ids).values_list(
            "pk", "originator_type", "originator_id") if ids else []
        found = {pk: (kind, originator) for pk, kind, originator in rows}
        return [f"Unexpected original EntityType {m.originator_type}" if m.originator_type != "ALARM"
                else found.get(m.originator_id, NOT_FOUND) for m in msgs]

    def _named(self, ctx, msgs):
        kind = self.config["entityType"]
        names = [substitute(self.config["pattern"], m) for m in msgs]
        model, column = {"DEVICE": (Device, "name"), "ASSET": (Asset, "name"), "USER": (User, "email")}.get(
            kind, (None, None))
        found = {}
        if model is not None:
            rows = model.objects.filter(tenant_id=ctx.tenant_id, **{f"{column}__in": set(names)})
            found = {name: pk for pk, name in rows.values_list("pk", column)}
        return [(kind, found[name]) if name in found else f"Failed to found {kind}  entity by name: '{name}'!"
                for name in names]
