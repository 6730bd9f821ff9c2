"""Rule-node debug events (ThingsBoard's DEBUG_RULE_NODE), stored with converters' DebugEvent.

Policy, as for converters and integrations (reference section 5): a node with "debug all"
(``debug_mode``) records every message coming in (``IN``, with the relation it came by) and
going out (``OUT``, with the relation it leaves by) until ``debug_all_until`` (switching it on
opens a DEBUG_ALL_DURATION_MINUTES window); after that, and with ``debug_failures``, only the
failures. Each node records at most RULE_NODE_DEBUG_EVENTS_PER_HOUR events an hour (failures
kept first; one event says when the cap cuts in), counted in the cache (Redis in production), so
a busy chain left in debug cannot fill the disk. Read them with
``GET /api/events/RULE_NODE/{nodeId}/DEBUG_RULE_NODE?tenantId=...``. Events are collected per
batch and written together (:class:`Recorder`).
"""

import json
from collections import defaultdict

from django.conf import settings
from django.core.cache import cache

from converters.events import EventBatch, server_name, truncate
from converters.models import DebugEvent
from tbproject.clock import now_ms

__all__ = ["DEBUG_RULE_NODE", "RULE_NODE", "wants", "event", "Recorder", "HOUR_MS"]

DEBUG_RULE_NODE = "DEBUG_RULE_NODE"
RULE_NODE = "RULE_NODE"
HOUR_MS = 3_600_000


def wants(row, *, failed: bool, now: int | None = None) -> bool:
    now = now_ms() if now is None else now
    all_on = row.debug_mode and now < (row.debug_all_until or 0)
    return all_on or (failed and (row.debug_failures or row.debug_mode))


def event(row, direction: str, msg, msg_id: str, relation: str, error: str | None, now: int,
          duration: float | None = None) -> DebugEvent:
    """An unsaved event of node ``row`` (the body keys are ThingsBoard's rule-node debug event's;
    an OUT event adds ``duration``: the ms the node took for the batch the message was in)."""
    body = {
        "type": direction, "server": server_name(), "entityId": str(msg.originator_id),
        "entityType": msg.originator_type, "msgId": msg_id, "msgType": msg.msg_type, "relationType": relation,
        "dataType": "JSON", "data": truncate(json.dumps(msg.data, ensure_ascii=False)),
        "metadata": truncate(json.dumps(msg.metadata, ensure_ascii=False)),
    }
    if error:
        body["error"] = truncate(error, 4096)
    if duration is not None:
        body["duration"] = duration
    return DebugEvent(tenant_id=row.tenant_id, entity_type=RULE_NODE, entity_id=row.pk, event_type=DEBUG_RULE_NODE,
                      created_time=now, server=body["server"], is_error=bool(error), body=body)


def _asked(node_id, count: int, now: int) -> int:
    """How many events the node had asked for earlier in this hour (adds ``count``)."""
    key = f"rulenode-debug:{node_id}:{now // HOUR_MS}"
    cache.add(key, 0, timeout=2 * HOUR_MS // 1000)
    try:
        return cache.incr(key, count) - count
    except ValueError:  # evicted between add and incr
        cache.set(key, count, timeout=2 * HOUR_MS // 1000)
        return 0


class Recorder(EventBatch):
    """An EventBatch that applies the per-node hourly cap when it writes."""

    def flush(self) -> int:
        if not self.pending:
            return 0
        limit = int(getattr(settings, "RULE_NODE_DEBUG_EVENTS_PER_HOUR", 5000))
        now = now_ms()
        by_node = defaultdict(list)
        for row in self.pending:
            by_node[row.entity_id].append(row)
        kept = []
        for events in by_node.values():
            kept.extend(_capped(events, _asked(events[0].entity_id, len(events), now), limit, now))
        self.pending = kept
        return super().flush()


def _capped(events: list, already: int, limit: int, now: int) -> list:
    room = max(0, limit - already)
    if len(events) <= room:
        return events
    kept = sorted(events, key=lambda e: not e.is_error)[:room]
    if already <= limit:  # the batch that crosses the limit says so, once
        first = events[0]
        note = (f"Debug events of this rule node are capped at {limit} per hour "
                "(RULE_NODE_DEBUG_EVENTS_PER_HOUR): further events of this hour are not recorded")
        body = {**first.body, "type": "OUT", "relationType": "", "error": note}
        kept.append(DebugEvent(tenant_id=first.tenant_id, entity_type=RULE_NODE, entity_id=first.entity_id,
                               event_type=DEBUG_RULE_NODE, created_time=now, server=first.server, is_error=True,
                               body=body))
    return kept
