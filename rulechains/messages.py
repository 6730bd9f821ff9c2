"""Rule-engine messages: the message type, relation names, and the task payload codec.

A message is :class:`integrations.handoff.RuleEngineMsg` (type, tenant, originator, data,
metadata, ``stored``), re-exported here as ``Msg``. Nodes never mutate one: they return new ones
made with :func:`changed`, which drops ``stored`` when the data or the type change.
"""

import json
import uuid
from dataclasses import replace

from integrations.handoff import POST_ATTRIBUTES_REQUEST, POST_TELEMETRY_REQUEST, RuleEngineMsg

__all__ = [
    "Msg", "SUCCESS", "FAILURE", "TRUE", "FALSE", "OTHER", "POST_TELEMETRY_REQUEST", "POST_ATTRIBUTES_REQUEST",
    "ATTRIBUTES_UPDATED", "RPC_CALL_FROM_SERVER_TO_DEVICE", "TYPE_RELATIONS", "changed", "msg_ts", "encode", "decode",
]

Msg = RuleEngineMsg

SUCCESS, FAILURE, TRUE, FALSE, OTHER = "Success", "Failure", "True", "False", "Other"

ATTRIBUTES_UPDATED = "ATTRIBUTES_UPDATED"
RPC_CALL_FROM_SERVER_TO_DEVICE = "RPC_CALL_FROM_SERVER_TO_DEVICE"
ENTITY_ASSIGNED_TO_TENANT, ENTITY_ASSIGNED_FROM_TENANT = "ENTITY_ASSIGNED_TO_TENANT", "ENTITY_ASSIGNED_FROM_TENANT"

#: ThingsBoard's TbMsgType -> the relation the message type switch routes it by; others go "Other".
TYPE_RELATIONS = {
    "POST_ATTRIBUTES_REQUEST": "Post attributes",
    "POST_TELEMETRY_REQUEST": "Post telemetry",
    "TO_SERVER_RPC_REQUEST": "RPC Request from Device",
    "ACTIVITY_EVENT": "Activity Event",
    "INACTIVITY_EVENT": "Inactivity Event",
    "CONNECT_EVENT": "Connect Event",
    "DISCONNECT_EVENT": "Disconnect Event",
    "ENTITY_CREATED": "Entity Created",
    "ENTITY_UPDATED": "Entity Updated",
    "ENTITY_DELETED": "Entity Deleted",
    "ENTITY_ASSIGNED": "Entity Assigned",
    "ENTITY_UNASSIGNED": "Entity Unassigned",
    "ATTRIBUTES_UPDATED": "Attributes Updated",
    "ATTRIBUTES_DELETED": "Attributes Deleted",
    "ALARM_ACK": "Alarm Acknowledged",
    "ALARM_CLEAR": "Alarm Cleared",
    "ALARM_ASSIGNED": "Alarm Assigned",
    "ALARM_UNASSIGNED": "Alarm Unassigned",
    "COMMENT_CREATED": "Comment Created",
    "COMMENT_UPDATED": "Comment Updated",
    "RPC_CALL_FROM_SERVER_TO_DEVICE": "RPC Request to Device",
    "ENTITY_ASSIGNED_FROM_TENANT": "Entity Assigned From Tenant",
    "ENTITY_ASSIGNED_TO_TENANT": "Entity Assigned To Tenant",
    "TIMESERIES_UPDATED": "Timeseries Updated",
    "TIMESERIES_DELETED": "Timeseries Deleted",
    "RPC_QUEUED": "RPC Queued",
    "RPC_SENT": "RPC Sent",
    "RPC_DELIVERED": "RPC Delivered",
    "RPC_SUCCESSFUL": "RPC Successful",
    "RPC_TIMEOUT": "RPC Timeout",
    "RPC_EXPIRED": "RPC Expired",
    "RPC_FAILED": "RPC Failed",
    "RPC_DELETED": "RPC Deleted",
    "RELATION_ADD_OR_UPDATE": "Relation Added or Updated",
    "RELATION_DELETED": "Relation Deleted",
    "RELATIONS_DELETED": "All Relations Deleted",
}

_MISSING = object()


def msg_ts(msg: Msg, now: int) -> int:
    """ThingsBoard's TbMsg.getMetaDataTs(): the metadata ``ts`` when it is a number, else ``now``
    (the arrival time)."""
    try:
        return int(msg.metadata.get("ts"))
    except (TypeError, ValueError):
        return now


def changed(msg: Msg, *, data=_MISSING, metadata=None, msg_type=None) -> Msg:
    """A copy of ``msg`` with what is given replaced; no longer ``stored`` if data or type change."""
    changes = {}
    if metadata is not None:
        changes["metadata"] = {str(k): _text(v) for k, v in metadata.items()}
    if data is not _MISSING and data != msg.data:
        changes.update(data=data, stored=False)
    if msg_type is not None and msg_type != msg.msg_type:
        changes.update(msg_type=msg_type, stored=False)
    return replace(msg, **changes) if changes else msg


def _text(value) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value, separators=(",", ":")) if isinstance(value, (dict, list, bool)) else str(value)


def encode(msg: Msg) -> dict:
    """The JSON form a Celery task carries; raises TypeError/ValueError for data JSON cannot hold."""
    json.dumps(msg.data, allow_nan=False)  # refuse here, at the producer, not in the worker
    return {"t": msg.msg_type, "tn": str(msg.tenant_id), "ot": msg.originator_type, "oi": str(msg.originator_id),
            "d": msg.data, "m": {str(k): _text(v) for k, v in msg.metadata.items()}, "s": msg.stored}


def decode(item: dict) -> Msg:
    return Msg(item["t"], uuid.UUID(item["tn"]), item["ot"], uuid.UUID(item["oi"]), item["d"], dict(item["m"]),
               bool(item.get("s")))
