"""ThingsBoard PE's "duplicate to group" and "duplicate to related" nodes
(transform.TbDuplicateMsgToGroupNode, transform.TbDuplicateMsgToRelatedNode).

Each sends, by Success, one copy of the message per entity found, that entity as the copy's
originator (data, metadata and type unchanged); nothing found is a Failure. Groups and relations
are the tenant's only (another tenant's group is not found), read once per batch. Each copy is a
message of its own for the engine's loop guard (``Out.fork``: its own RULE_ENGINE_MAX_HOPS budget,
starting from the hop count of the message copied). More than RULE_ENGINE_MAX_DUPLICATES entities
for one message is a Failure (no copies), where ThingsBoard has no limit.
"""

import uuid

from devices.choices import GroupType
from devices.models import EntityGroup
from rulechains.messages import SUCCESS
from rulechains.nodes.analytics import group_members, related_all
from rulechains.nodes.base import (
    BaseNode,
    ConfigError,
    Out,
    bool_option,
    fail,
    field,
    max_duplicates,
    substitute,
    text_option,
)
from rulechains.nodes.related import DEFAULT_RELATIONS_QUERY, relations_query

__all__ = ["DuplicateToGroupNode", "DuplicateToGroupByNameNode", "DuplicateToRelatedNode"]


def _copies(msg, entities) -> list[Out]:
    limit = max_duplicates()
    if len(entities) > limit:
        return fail(msg, f"Too many entities to duplicate to: more than {limit} (RULE_ENGINE_MAX_DUPLICATES)")
    return [Out(SUCCESS, msg.__class__(msg.msg_type, msg.tenant_id, kind, pk, msg.data, dict(msg.metadata)),
                fork=True) for kind, pk in entities]


class DuplicateToGroupNode(BaseNode):
    """One copy per member of the entity group ``entityGroupId``, or with
    ``entityGroupIsMessageOriginator`` of the group that is the message's originator (an
    ENTITY_GROUP; any other originator goes by Failure). ``groupOwnerId`` (ThingsBoard PE's owner
    of the group, a customer's groups) is accepted: groups here are the tenant's."""

    label = "duplicate to group"
    group = "TRANSFORMATION"
    defaults = {"entityGroupId": None, "entityGroupIsMessageOriginator": False}
    fields = (field("entityGroupIsMessageOriginator", "bool", "Entity group is message originator"),
              field("entityGroupId", "text", "Entity group id"))

    @classmethod
    def clean_config(cls, configuration):
        from_originator = bool_option(configuration, "entityGroupIsMessageOriginator")
        raw = configuration.get("entityGroupId")
        raw = raw.get("id") if isinstance(raw, dict) else raw
        group = None
        if raw is not None and not from_originator:
            try:
                group = uuid.UUID(str(raw))
            except ValueError:
                raise ConfigError(f"entityGroupId must be an entity group's UUID, got {str(raw)[:40]!r}") from None
        return {"fromOriginator": from_originator, "group": group}

    def process_batch(self, ctx, msgs):
        wanted = []
        for msg in msgs:
            if self.config["fromOriginator"]:
                wanted.append(msg.originator_id if msg.originator_type == "ENTITY_GROUP" else None)
            else:
                wanted.append(self.config["group"])
        members = group_members(ctx.tenant_id, {g for g in wanted if g is not None}, max_duplicates())
        outs = []
        for msg, group in zip(msgs, wanted, strict=True):
            if self.config["fromOriginator"] and group is None:
                outs.append(fail(msg, f"Unsupported originator type: {msg.originator_type}! "
                                      "Only 'ENTITY_GROUP' type is allowed."))
            elif group is None:
                outs.append(fail(msg, "Entity group id should be specified!"))
            elif group not in members:
                outs.append(fail(msg, f"Entity group with id [{group}] is not found"))
            elif not members[group]:
                outs.append(fail(msg, f"Entity group with id [{group}] is empty: no entities to duplicate to"))
            else:
                outs.append(_copies(msg, members[group]))
        return outs


class DuplicateToGroupByNameNode(BaseNode):
    """One copy per member of the tenant's ``groupType`` group named ``groupName``
    (``${metadataKey}``, ``$[dataKey]``). ``searchEntityGroupForTenantOnly`` and
    ``considerMessageOriginatorAsAGroupOwner`` choose among owners' groups in ThingsBoard PE;
    groups here are the tenant's, so both are accepted and change nothing."""

    label = "duplicate to group by name"
    group = "TRANSFORMATION"
    defaults = {"groupType": "DEVICE", "groupName": "", "searchEntityGroupForTenantOnly": False,
                "considerMessageOriginatorAsAGroupOwner": False}
    fields = (field("groupType", "select", "Type", choices=tuple(GroupType.values)),
              field("groupName", label="Entity group name", help="${metadataKey}, $[dataKey]"),
              field("searchEntityGroupForTenantOnly", "bool", "Search entity group on Tenant level only"),
              field("considerMessageOriginatorAsAGroupOwner", "bool", "Consider originator as a group owner"))

    @classmethod
    def clean_config(cls, configuration):
        kind = configuration.get("groupType") or "DEVICE"
        if kind not in GroupType.values:
            raise ConfigError(f"groupType must be one of {', '.join(GroupType.values)}, got {str(kind)[:40]!r}")
        for key in ("searchEntityGroupForTenantOnly", "considerMessageOriginatorAsAGroupOwner"):
            bool_option(configuration, key)
        return {"groupType": kind, "groupName": text_option(configuration, "groupName", "") or ""}

    def process_batch(self, ctx, msgs):
        names = [substitute(self.config["groupName"], m) for m in msgs]
        groups = dict(EntityGroup.objects.filter(tenant_id=ctx.tenant_id, customer=None, type=self.config["groupType"],
                                                 name__in=set(names)).values_list("name", "pk"))  # tenant-owned
        members = group_members(ctx.tenant_id, groups.values(), max_duplicates())
        outs = []
        for msg, name in zip(msgs, names, strict=True):
            group = groups.get(name)
            if group is None:
                outs.append(fail(msg, f"Entity group with name '{name}' and type '{self.config['groupType']}' "
                                      "doesn't exist!"))
            elif not members.get(group):
                outs.append(fail(msg, f"Entity group with name '{name}' is empty: no entities to duplicate to"))
            else:
                outs.append(_copies(msg, members[group]))
        return outs


class DuplicateToRelatedNode(BaseNode):
    """One copy per entity ``relationsQuery`` finds from the originator (direction, maxLevel,
    fetchLastLevelOnly, filters of relation type and entity types)."""

    label = "duplicate to related"
    group = "TRANSFORMATION"
    defaults = {"relationsQuery": DEFAULT_RELATIONS_QUERY}
    fields = (field("relationsQuery", "json", "Relations query"),)

    @classmethod
    def clean_config(cls, configuration):
        return {"query": relations_query(configuration.get("relationsQuery"))}

    def process_batch(self, ctx, msgs):
        roots = {(m.originator_type, m.originator_id) for m in msgs}
        found = related_all(ctx.tenant_id, roots, self.config["query"])
        outs = []
        for msg in msgs:
            entities = found.get((msg.originator_type, msg.originator_id)) or []
            outs.append(_copies(msg, entities) if entities else
                        fail(msg, "Failed to find related entities to message originator using relation query "
                                  "specified in the configuration!"))
        return outs
