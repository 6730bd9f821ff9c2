"""Whether a tenant's root chain does anything with a stored uplink message, to skip it if not.

The uplink pipeline hands every stored batch to the rule engine (integrations/handoff.py). With
ThingsBoard's default root chain that does nothing visible: the switch routes "Post telemetry"
to "save time series", which passes a ``stored`` message on untouched, and the chain ends. Yet
encoding, queueing and walking it cost about a third of a worker's time per uplink (py-spy, see
docs/performance.md). So dispatch asks :func:`acts_on_stored` first and leaves out the messages
whose walk can reach nothing but the message type switch and the save nodes (and no node with
debug on, whose events would be missing). Any other node reachable for that message type, of
any kind, means the messages go to the engine exactly as before.

The answer per (tenant, message type) is cached for CACHE_SECONDS in the process, and dropped at
once when a chain of this process is saved; other processes see a change within that time.
"""

import threading
import time

from rulechains.messages import FAILURE, OTHER, SUCCESS, TYPE_RELATIONS

__all__ = ["acts_on_stored", "forget", "CACHE_SECONDS"]

CACHE_SECONDS = 2.0

_cache: dict[tuple, tuple[float, bool]] = {}
_lock = threading.Lock()


def forget(*args, **kwargs) -> None:
    with _lock:
        _cache.clear()


def acts_on_stored(tenant_id, msg_type: str) -> bool:
    key = (tenant_id, msg_type)
    now = time.monotonic()
    hit = _cache.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    from rulechains.engine import root_chains
    from rulechains.profiles import tenant_has_default_chains

    graph = root_chains([tenant_id]).get(tenant_id)
    # a profile's default rule chain takes its entities' messages: whatever it does, they go
    answer = (graph is not None and _walk(graph, msg_type)) or tenant_has_default_chains(tenant_id)
    with _lock:
        if len(_cache) > 10_000:
            _cache.clear()
        _cache[key] = (now + CACHE_SECONDS, answer)
    return answer


def _walk(graph, msg_type: str) -> bool:
    """True when a stored ``msg_type`` message can reach a node that may act on it."""
    from rulechains.nodes import SAVE_ATTRIBUTES, SAVE_TIMESERIES, SWITCH
    from rulechains.nodes.actions import SaveAttributesNode, SaveTimeseriesNode

    saves = {SAVE_TIMESERIES: SaveTimeseriesNode.msg_type, SAVE_ATTRIBUTES: SaveAttributesNode.msg_type}
    todo, seen = [graph.first], set()
    while todo:
        index = todo.pop()
        if index is None or index in seen:
            continue
        seen.add(index)
        node = graph.nodes.get(index)
        if node is None:
            continue
        if node.debug_mode or node.debug_failures:
            return True
        if node.type == SWITCH:
            relation = TYPE_RELATIONS.get(msg_type, OTHER)
        elif node.type in saves:
            if node.type == SAVE_TIMESERIES and (node.configuration or {}).get("defaultTTL"):
                return True  # the node records the series' TTL, also for stored messages
            relation = SUCCESS if saves[node.type] == msg_type else FAILURE
        else:
            return True
        todo.extend(graph.links.get((index, relation), ()))
    return False
