"""Filter nodes that route by what a message is: its type, its originator's entity type or
profile, the keys it carries, its originator's relations, and (for alarm messages) the alarm's
status. ThingsBoard's org.thingsboard.rule.engine.filter nodes of the same names."""

import re
import uuid

from devices.models import Asset, Device, EntityRelation
from rulechains.messages import FAILURE, FALSE, TRUE
from rulechains.models import Alarm
from rulechains.nodes.base import BaseNode, ConfigError, Out, bool_option, fail, field, normal_name
from tenants.models import Customer

__all__ = ["MsgTypeFilterNode", "OriginatorTypeFilterNode", "OriginatorTypeSwitchNode", "CheckMessageNode",
           "CheckRelationNode", "CheckAlarmStatusNode", "DeviceTypeSwitchNode", "AssetTypeSwitchNode",
           "ENTITY_TYPES", "ALARM_STATUSES"]

#: ThingsBoard CE's EntityType names (org.thingsboard.server.common.data.EntityType), in its order
ENTITY_TYPES = (
    "TENANT", "CUSTOMER", "USER", "DASHBOARD", "ASSET", "DEVICE", "ALARM", "RULE_CHAIN", "RULE_NODE", "ENTITY_VIEW",
    "WIDGETS_BUNDLE", "WIDGET_TYPE", "TENANT_PROFILE", "DEVICE_PROFILE", "ASSET_PROFILE", "API_USAGE_STATE",
    "TB_RESOURCE", "OTA_PACKAGE", "EDGE", "RPC", "QUEUE", "NOTIFICATION_TARGET", "NOTIFICATION_TEMPLATE",
    "NOTIFICATION_REQUEST", "NOTIFICATION", "NOTIFICATION_RULE", "QUEUE_STATS", "OAUTH2_CLIENT", "DOMAIN",
    "MOBILE_APP", "MOBILE_APP_BUNDLE", "CALCULATED_FIELD", "JOB", "ADMIN_SETTINGS", "AI_MODEL",
)
# Entity type names are enum constants; other editions (and later versions) have more of them,
# so any name of that shape is accepted rather than a fixed list.
_ENTITY_TYPE = re.compile(r"^[A-Z][A-Z0-9_]*$")
ALARM_STATUSES = ("ACTIVE_UNACK", "ACTIVE_ACK", "CLEARED_UNACK", "CLEARED_ACK")
_EMPTY = {"version": 0}  # ThingsBoard's EmptyNodeConfiguration


def _strings(configuration: dict, key: str, *, required: bool = True) -> list[str]:
    value = configuration.get(key)
    if value is None and not required:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{key} must be a list of strings")
    return value


def _entity_types(configuration: dict, key: str) -> list[str]:
    types = _strings(configuration, key)
    bad = [t for t in types if not _ENTITY_TYPE.match(t)]
    if bad:
        raise ConfigError(f"{key}: not entity types: {', '.join(bad)[:100]} (e.g. DEVICE, ASSET)")
    return types


class MsgTypeFilterNode(BaseNode):
    """``messageTypes``: True when the message's type is one of them (custom types too), else False."""

    savepoint = False
    label = "message type filter"
    group = "FILTER"
    defaults = {"messageTypes": ["POST_ATTRIBUTES_REQUEST", "POST_TELEMETRY_REQUEST", "TO_SERVER_RPC_REQUEST"]}
    fields = (field("messageTypes", "list", "Message types"),)
    relations = (TRUE, FALSE, FAILURE)

    @classmethod
    def clean_config(cls, configuration):
        return {"messageTypes": set(_strings(configuration, "messageTypes"))}

    def process(self, ctx, msg):
        return [Out(TRUE if msg.msg_type in self.config["messageTypes"] else FALSE, msg)]


class OriginatorTypeFilterNode(BaseNode):
    """``originatorTypes`` (entity types: DEVICE, ASSET, ...): True when the originator is of one
    of them, else False (ThingsBoard's "entity type filter")."""

    savepoint = False
    label = "entity type filter"
    group = "FILTER"
    defaults = {"originatorTypes": ["DEVICE"]}
    fields = (field("originatorTypes", "list", "Entity types", help="DEVICE, ASSET, CUSTOMER, TENANT, ..."),)
    relations = (TRUE, FALSE, FAILURE)

    @classmethod
    def clean_config(cls, configuration):
        return {"originatorTypes": set(_entity_types(configuration, "originatorTypes"))}

    def process(self, ctx, msg):
        return [Out(TRUE if msg.originator_type in self.config["originatorTypes"] else FALSE, msg)]


class OriginatorTypeSwitchNode(BaseNode):
    """Routes each message by its originator's entity type as ThingsBoard names it: "Device",
    "Asset", "Customer", "Tenant", "User", "Entity View", "Rule chain", ... (ThingsBoard's
    "entity type switch"; no configuration)."""

    savepoint = False
    label = "entity type switch"
    group = "FILTER"
    defaults = _EMPTY
    relations = (*(normal_name(t) for t in ENTITY_TYPES), FAILURE)

    def process(self, ctx, msg):
        return [Out(normal_name(msg.originator_type), msg)]


def _profile_switch(msgs, ctx, entity_type: str) -> list[list[Out]]:
    entities = ctx.originators([m for m in msgs if m.originator_type == entity_type])
    outs = []
    for msg in msgs:
        if msg.originator_type != entity_type:
            outs.append(fail(msg, f"Unsupported originator type: {normal_name(msg.originator_type)}! "
                                  f"Only {normal_name(entity_type)} type is allowed."))
            continue
        entity = entities.get(msg.originator_id)
        if entity is None:
            outs.append(fail(msg, f"{normal_name(entity_type)} profile for entity id: {msg.originator_id} "
                                  "wasn't found!"))
            continue
        outs.append([Out(entity.profile.name, msg)])
    return outs


class _ProfileSwitchNode(BaseNode):
    """Routes a device's or an asset's message by the name of its profile (case-sensitive).
    Another originator type, or an entity that is not the tenant's, goes by Failure. One query per batch."""

    entity_type = ""
    group = "FILTER"
    defaults = _EMPTY
    custom_relations = True
    relations = ("default", FAILURE)

    def process_batch(self, ctx, msgs):
        return _profile_switch(msgs, ctx, self.entity_type)


class DeviceTypeSwitchNode(_ProfileSwitchNode):
    """ThingsBoard's "device profile switch"."""

    label, entity_type = "device profile switch", "DEVICE"


class AssetTypeSwitchNode(_ProfileSwitchNode):
    """ThingsBoard's "asset profile switch"."""

    label, entity_type = "asset profile switch", "ASSET"


class CheckMessageNode(BaseNode):
    """``messageNames`` (keys of the data) and ``metadataNames`` (keys of the metadata): with
    ``checkAllKeys`` True when every listed key is present (empty lists count as present), without
    it True when at least one is. Data that is not a JSON object goes by Failure when data keys
    are listed (ThingsBoard's "check fields presence")."""

    savepoint = False
    label = "check fields presence"
    group = "FILTER"
    defaults = {"messageNames": [], "metadataNames": [], "checkAllKeys": True}
    fields = (field("messageNames", "list", "Data keys"), field("metadataNames", "list", "Metadata keys"),
              field("checkAllKeys", "bool", "Check that all keys are present"))
    relations = (TRUE, FALSE, FAILURE)

    @classmethod
    def clean_config(cls, configuration):
        return {"messageNames": _strings(configuration, "messageNames", required=False),
                "metadataNames": _strings(configuration, "metadataNames", required=False),
                "checkAllKeys": bool_option(configuration, "checkAllKeys", False)}

    def process(self, ctx, msg):
        data_keys, meta_keys = self.config["messageNames"], self.config["metadataNames"]
        if data_keys and not isinstance(msg.data, dict):
            return fail(msg, "the message data is not a JSON object: cannot check its keys")
        if self.config["checkAllKeys"]:
            found = all(k in msg.data for k in data_keys) and all(k in msg.metadata for k in meta_keys)
        else:
            found = any(k in msg.data for k in data_keys) or any(k in msg.metadata for k in meta_keys)
        return [Out(TRUE if found else FALSE, msg)]


#: entity types whose rows we hold, to tell whether a configured entity is the tenant's
_ENTITY_MODELS = {"DEVICE": Device, "ASSET": Asset, "CUSTOMER": Customer}


class CheckRelationNode(BaseNode):
    """True when the originator has a relation of ``relationType`` (group COMMON): with
    ``checkForSingleEntity``, to the entity ``entityType``/``entityId``; otherwise to any entity.
    ``direction`` is seen from the originator: FROM = a relation from the originator, TO = a
    relation to it (ThingsBoard's configuration version 1). A configured entity that is not the
    tenant's sends every message by Failure. One query per batch."""

    label = "check relation presence"
    group = "FILTER"
    defaults = {"checkForSingleEntity": True, "direction": "FROM", "entityType": None, "entityId": None,
                "relationType": "Contains"}
    fields = (field("direction", "select", "Direction", choices=("FROM", "TO"), help="seen from the originator"),
              field("relationType", "text", "Relation type"),
              field("checkForSingleEntity", "bool", "Check relation to a specific entity"),
              field("entityType", "text", "Entity type", help="DEVICE, ASSET, CUSTOMER, ..."),
              field("entityId", "text", "Entity id"))
    relations = (TRUE, FALSE, FAILURE)

    @classmethod
    def clean_config(cls, configuration):
        direction = configuration.get("direction")
        if direction is not None and direction not in ("FROM", "TO"):
            raise ConfigError(f"direction must be FROM or TO, got {str(direction)[:40]!r}")
        relation_type = configuration.get("relationType")
        if not isinstance(relation_type, str) or not relation_type:
            raise ConfigError("relationType must be a relation type name, e.g. Contains")
        single = bool_option(configuration, "checkForSingleEntity", False)
        # ThingsBoard reads a missing direction as TO (only "FROM" is FROM)
        cleaned = {"from_originator": direction == "FROM", "relationType": relation_type, "single": single}
        if single:
            cleaned["entity"] = _single_entity(configuration)
        return cleaned

    def process_batch(self, ctx, msgs):
        if self.config["single"]:
            kind, entity_id = self.config["entity"]
            if not _is_tenants(ctx.tenant_id, kind, entity_id):
                error = (f"Entity with id: '{entity_id}' specified in the configuration doesn't belong to the "
                         "current tenant.")
                return [fail(msg, error) for msg in msgs]
        related = self._related(ctx, msgs)
        return [[Out(TRUE if (m.originator_type, m.originator_id) in related else FALSE, m)] for m in msgs]

    def _related(self, ctx, msgs) -> set:
        """{(type, id)} of the batch's originators that have the relation."""
        rows = EntityRelation.objects.filter(tenant_id=ctx.tenant_id, type=self.config["relationType"],
                                             type_group="COMMON")
        ours, theirs = ("from", "to") if self.config["from_originator"] else ("to", "from")
        rows = rows.filter(**{f"{ours}_id__in": {m.originator_id for m in msgs}})
        if self.config["single"]:
            kind, entity_id = self.config["entity"]
            rows = rows.filter(**{f"{theirs}_type": kind, f"{theirs}_id": entity_id})
        return set(rows.values_list(f"{ours}_type", f"{ours}_id").distinct())


def _single_entity(configuration: dict) -> tuple[str, uuid.UUID]:
    kind, raw_id = configuration.get("entityType"), configuration.get("entityId")
    if not kind or not raw_id:
        raise ConfigError("Entity should be specified! (entityType and entityId, or checkForSingleEntity: false)")
    if not isinstance(kind, str) or not _ENTITY_TYPE.match(kind):
        raise ConfigError(f"entityType must be an entity type such as DEVICE or ASSET, got {str(kind)[:40]!r}")
    try:
        return kind, uuid.UUID(str(raw_id))
    except ValueError:
        raise ConfigError(f"entityId must be a UUID, got {str(raw_id)[:64]!r}") from None


def _is_tenants(tenant_id, kind: str, entity_id) -> bool:
    if kind == "TENANT":
        return entity_id == tenant_id
    model = _ENTITY_MODELS.get(kind)
    # other entity types are not stored here; relations are the tenant's anyway
    return model is None or model.objects.filter(tenant_id=tenant_id, pk=entity_id).exists()


class CheckAlarmStatusNode(BaseNode):
    """For alarm messages (data: ThingsBoard's Alarm JSON, as the alarm nodes and ALARM_ACK /
    ALARM_CLEAR send it): True when the alarm's status (from its ``cleared``/``acknowledged``
    flags, or ``status`` in older JSON) is one of ``alarmStatusList``, else False. Failure when
    the data is not an alarm, or when no alarm with that id is the tenant's ("No such alarm
    found."). One query per batch."""

    label = "alarm status filter"
    group = "FILTER"
    defaults = {"alarmStatusList": ["ACTIVE_ACK", "ACTIVE_UNACK"]}
    fields = (field("alarmStatusList", "list", "Alarm statuses", help=", ".join(ALARM_STATUSES)),)
    relations = (TRUE, FALSE, FAILURE)

    @classmethod
    def clean_config(cls, configuration):
        statuses = _strings(configuration, "alarmStatusList")
        bad = [s for s in statuses if s not in ALARM_STATUSES]
        if bad:
            raise ConfigError(f"alarmStatusList: unknown statuses {', '.join(bad)[:100]}; "
                              f"use {', '.join(ALARM_STATUSES)}")
        return {"alarmStatusList": set(statuses)}

    def process_batch(self, ctx, msgs):
        parsed = [_alarm_of(m) for m in msgs]
        ids = {p[0] for p in parsed if p is not None}
        known = set(Alarm.objects.filter(tenant_id=ctx.tenant_id, pk__in=ids).values_list("pk", flat=True))
        outs = []
        for msg, alarm in zip(msgs, parsed, strict=True):
            if alarm is None:
                outs.append(fail(msg, f"The given string value cannot be transformed to Json object: "
                                      f"{str(msg.data)[:200]}"))
            elif alarm[0] not in known:
                outs.append(fail(msg, "No such alarm found."))
            else:
                outs.append([Out(TRUE if alarm[1] in self.config["alarmStatusList"] else FALSE, msg)])
        return outs


def _alarm_of(msg) -> tuple[uuid.UUID, str] | None:
    """(alarm id, status) from an alarm message's data; None when the data is not an alarm."""
    data = msg.data
    if not isinstance(data, dict):
        return None
    raw_id = data.get("id")
    raw_id = raw_id.get("id") if isinstance(raw_id, dict) else raw_id
    try:
        alarm_id = uuid.UUID(str(raw_id))
    except ValueError:
        return None
    if "cleared" in data or "acknowledged" in data or data.get("status") not in ALARM_STATUSES:
        status = f"{'CLEARED' if data.get('cleared') else 'ACTIVE'}_{'ACK' if data.get('acknowledged') else 'UNACK'}"
    else:
        status = data["status"]
    return alarm_id, status
