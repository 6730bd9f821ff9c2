"""The edges' settings: Django settings when set there, else the environment.

- EDGE_CLOUD_RPC_HOST: the host an edge's install instructions name as CLOUD_RPC_HOST ("": the host the
  request came to).
- EDGE_CLOUD_RPC_PORT: the port they name as CLOUD_RPC_PORT (7070, ThingsBoard's edge gRPC port; nothing
  listens on it here yet: edges/__init__.py).
- EDGE_EVENTS_TTL_DAYS: days an edge event stays in its edge's queue before the hourly cleanup
  (``edges.tasks.prune_events``) deletes it (ThingsBoard's EDGES_EVENTS_TTL; 0 keeps them). Each edge's
  newest event stays, so that its numbering (seqId) goes on.
"""

from django.conf import settings

from tbproject.env import env_int, env_str

__all__ = ["cloud_rpc_host", "cloud_rpc_port", "events_ttl_days"]


def cloud_rpc_host() -> str:
    value = getattr(settings, "EDGE_CLOUD_RPC_HOST", None)
    return str(value if value is not None else env_str("EDGE_CLOUD_RPC_HOST", ""))


def cloud_rpc_port() -> int:
    value = getattr(settings, "EDGE_CLOUD_RPC_PORT", None)
    return int(value if value is not None else env_int("EDGE_CLOUD_RPC_PORT", 7070, minimum=1))


def events_ttl_days() -> int:
    value = getattr(settings, "EDGE_EVENTS_TTL_DAYS", None)
    return int(value if value is not None else env_int("EDGE_EVENTS_TTL_DAYS", 30, minimum=0))
