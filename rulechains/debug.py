"""Rule-node debug events (ThingsBoard's DEBUG_RULE_NODE), stored with converters' DebugEvent.

A node with ``debug_mode`` records every message coming in (``IN``, with the relation it came
by) and going out (``OUT``, with the relation it leaves by); with ``debug_failures`` only the
failures. Read them with ``GET /api/events/RULE_NODE/{nodeId}/DEBUG_RULE_NODE?tenantId=...``.
Events are collected per batch and written together (converters.events.EventBatch).
"""

import json

from converters.events import server_name, truncate
from converters.models import DebugEvent

__all__ = ["DEBUG_RULE_NODE", "RULE_NODE", "wants", "event"]

DEBUG_RULE_NODE = "DEBUG_RULE_NODE"
RULE_NODE = "RULE_NODE"


def wants(row, *, failed: bool) -> bool:
    return row.debug_mode or (failed and row.debug_failures)


def event(row, direction: str, msg, msg_id: str, relation: str, error: str | None, now: int) -> DebugEvent:
    """An unsaved event of node ``row`` (the body keys are ThingsBoard's rule-node debug event's)."""
    body = {
        "type": direction, "server": server_name(), "entityId": str(msg.originator_id),
        "entityType": msg.originator_type, "msgId": msg_id, "msgType": msg.msg_type, "relationType": relation,
        "dataType": "JSON", "data": truncate(json.dumps(msg.data, ensure_ascii=False)),
        "metadata": truncate(json.dumps(msg.metadata, ensure_ascii=False)),
    }
    if error:
        body["error"] = truncate(error, 4096)
    return DebugEvent(tenant_id=row.tenant_id, entity_type=RULE_NODE, entity_id=row.pk, event_type=DEBUG_RULE_NODE,
                      created_time=now, server=body["server"], is_error=bool(error), body=body)
