"""One uplink request, whichever server carried it (the lean ASGI app or the Django view).

    POST|PUT /api/v1/integrations/{endpoint}/{routingKey}   uplink -> 204 (200 with replaceNoContentToOk)
    GET|HEAD same URL                                       health check -> 200

Checks, cheapest first: method (405), routing key (404, cached; 503 when the database cannot
say), enabled (503), header filter
(403), declared then actual body size (413, HTTP_INTEGRATION_MAX_BODY_BYTES), the type's own check
(403: KPN's signature), body valid for its content type (400: JSON must parse, text must decode;
anything else is taken as raw bytes), the tenant profile's rate limits (429 with Retry-After,
integrations/throttle.py: only uplinks that would be accepted use up tokens). The type may take
metadata from the query string or acknowledge an event without queueing it (ChirpStack). Then the
raw uplink is queued durably and the answer sent. No decoding, no database writes here,
except while the integration has downlinks waiting: then the decoder also runs here to learn the
uplink's devices, and one's downlink is the answer (integrations/ingress/downlinks.py).
"""

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError

from integrations import queue, throttle
from integrations.ingress import downlinks, routes
from integrations.ingress.requests import body_problem, content_kind, declared_length
from integrations.messages import RawUplink
from tbproject.api.exceptions import ErrorCode, tb_error
from tbproject.clock import now_ms
from tenants.limits.spec import retry_after

__all__ = ["Reply", "handle", "content_kind", "UPLINK_METHODS", "HEALTH_METHODS"]  # content_kind: requests.py

log = logging.getLogger(__name__)

UPLINK_METHODS = frozenset({"POST", "PUT"})
HEALTH_METHODS = frozenset({"GET", "HEAD"})
ALLOW = "GET, HEAD, POST, PUT"
JSON_TYPE = b"application/json"


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: bytes = b""
    headers: tuple[tuple[bytes, bytes], ...] = ()


def _error(status: int, message: str, code: int = ErrorCode.BAD_REQUEST_PARAMS, **headers: str) -> Reply:
    extra = tuple((name.replace("_", "-").encode(), value.encode()) for name, value in headers.items())
    body = json.dumps(tb_error(status, message, code)).encode()
    return Reply(status, body, ((b"content-type", JSON_TYPE), *extra))


async def handle(endpoint: str, routing_key: str, method: str, headers: Mapping[str, str],
                 read_body: Callable[[int], Awaitable[bytes | None]], query: str = "") -> Reply:
    """Answer one request. ``headers`` has lower-case names (repeats joined with ", ");
    ``read_body(limit)`` returns the whole body, or None once it grows past ``limit`` bytes;
    ``query`` is the raw query string. The type's hooks (PushIntegration) add its own checks."""
    if method not in UPLINK_METHODS and method not in HEALTH_METHODS:
        return _error(405, f"Request method '{method[:16]}' is not supported", allow=ALLOW)
    try:
        route = await routes.lookup(routing_key)
    except DatabaseError:
        log.exception("could not look up routing key %s", routing_key[:64])
        return _error(503, "The integration could not be looked up; try again", ErrorCode.GENERAL, retry_after="1")
    if route is None or route.endpoint != endpoint:
        return _error(404, "Integration with such routing key wasn't found!", ErrorCode.ITEM_NOT_FOUND)
    if not route.enabled:
        return _error(503, "Integration is disabled", ErrorCode.GENERAL)
    if route.handler is None:
        return _error(503, f"Integration cannot accept uplinks: {route.problem}", ErrorCode.GENERAL)
    if method in HEALTH_METHODS:
        return Reply(200)
    if not route.handler.headers_match(headers):
        return _error(403, "Request headers do not match the integration's header filter", ErrorCode.PERMISSION_DENIED)
    limit = settings.HTTP_INTEGRATION_MAX_BODY_BYTES
    declared = declared_length(headers)
    body = await read_body(limit) if declared is None or declared <= limit else None
    if body is None:
        return _error(413, f"Request body is larger than {limit} bytes")
    refused = route.handler.refuse(headers, body, query)  # a type's own check: KPN's signature, ...
    if refused:
        return _error(403, refused, ErrorCode.PERMISSION_DENIED)
    kind, charset = content_kind(headers.get("content-type", ""))
    problem = body_problem(kind, charset, body)
    if problem:
        return _error(400, problem)
    extra = route.handler.uplink_metadata(query)
    if extra is None:  # an event of the cloud that carries no uplink (ChirpStack join, status, ...)
        return Reply(200 if route.replace_no_content else 204)
    if route.limits is not None and route.limits.limits_uplinks:
        refused = _over_limit(route)
        if refused is not None:
            return refused
    metadata = {**route.metadata, **extra}
    for name, value in headers.items():
        metadata[f"Header:{name}"] = value
    uplink = RawUplink(integration_id=route.integration_id, payload=body, metadata=metadata,
                       received_ts=now_ms(), content_type=kind)
    # [] at once unless a downlink waits (see the module); API-downlink types send theirs from a worker
    waiting = [] if route.handler.api_downlink else await downlinks.devices_of(uplink)
    try:
        await queue.accept(uplink)
    except Exception:
        log.exception("could not queue an uplink of integration %s", route.integration_id)
        return _error(503, "The uplink could not be queued; try again", ErrorCode.GENERAL, retry_after="1")
    if waiting:
        found = await _downlink(route, uplink, waiting)
        if found is not None:
            return found
    return Reply(200 if route.replace_no_content else 204)


def _over_limit(route) -> Reply | None:
    """429 with Retry-After (whole seconds) when the uplink is over a rate limit (integrations/throttle.py)."""
    granted, wait_ms, key = throttle.take_uplinks(route.limits, route.integration_id)
    if granted:
        throttle.EPISODES.passed(route.integration_id, route.tenant_id)
        return None
    reason = throttle.describe_refusal(route.limits, key)
    throttle.EPISODES.refused(route.integration_id, route.tenant_id, reason)
    return _error(429, f"Too many requests: rate limit {reason} exceeded", ErrorCode.TOO_MANY_REQUESTS,
                  retry_after=str(retry_after(wait_ms)))


async def _downlink(route, uplink: RawUplink, names: list[str]) -> Reply | None:
    """The device's pending downlink as the answer (reference 3.7), taken now that the uplink is queued."""
    try:
        found = await downlinks.take_row(uplink, names)
        if found is None:
            return None
        content_type, body = route.handler.downlink_reply(*found, uplink)
    except Exception:  # the uplink is queued: answer as usual, the downlink waits for the next one
        log.exception("could not take the downlink of integration %s", route.integration_id)
        return None
    return Reply(200, body, ((b"content-type", content_type),))
