"""Attribute saves of ThingsBoard's telemetry plugin served ahead of Django (issue 18: downlinks).

    POST /api/plugins/telemetry/{entityType}/{entityId}/attributes/{scope}
    POST /api/plugins/telemetry/{entityType}/{entityId}/{scope}
    POST /api/plugins/telemetry/{deviceId}/{scope}
    POST /api/plugins/telemetry/{entityType}/{entityId}/timeseries/{scope}[/{ttl}]

A shared-attribute save is how a downlink starts (ThingsBoard's downlink example), and through the
Django request cycle (middleware, DRF, a thread per request) it cost the web process about 5 ms of
CPU. This ASGI app answers the common form of these requests itself, as the ingress answers uplinks
(integrations/ingress/): a JWT in ``X-Authorization`` (or ``Authorization``), a JSON body sent as
application/json or text/plain (UTF-8) with a Content-Length, no query string. It checks what needs
no database here and hands the rest to devices/api/lean_batch.py, which runs the saves of concurrent
requests as one batch; the answers (statuses, ThingsBoard error bodies, headers) are the Django
view's (devices/api/telemetry_writes.py), which stays the reference and serves everything else:
session (admin UI) users, other content types or charsets, chunked or oversize bodies, DELETEs.

    application = with_attribute_saves(django_asgi_app)
"""

import io
import logging
import time
import uuid

from django.conf import settings
from rest_framework import exceptions
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer

from devices.api import lean_batch
from devices.api.telemetry import entity_ref
from devices.api.telemetry_writes import parse_attributes, parse_telemetry, valid_ttl, writable_scope
from tbproject.api.authentication import TokenExpiredError
from tbproject.api.exceptions import tb_exception_handler
from tbproject.api.tokens import TokenExpired, TokenInvalid, decode_access, signing_key
from tbproject.asgi_body import ClientGone, read_body
from tbproject.clock import now_ms
from tenants.system import jwt_settings, store

__all__ = ["LeanAttributesApp", "with_attribute_saves", "target_of", "PREFIX"]

log = logging.getLogger(__name__)

PREFIX = "/api/plugins/telemetry/"
#: Bodies larger than this go to Django (which applies DATA_UPLOAD_MAX_MEMORY_SIZE).
MAX_BODY = 256 * 1024
_JSON_TYPES = frozenset({"application/json", "text/plain"})
_ACCEPTED = frozenset({"*/*", "application/*", "application/json"})
_READ = frozenset({b"x-authorization", b"authorization", b"content-length", b"content-type", b"accept",
                   b"transfer-encoding"})
#: What Django's middleware and DRF's APIView add to every answer of these views.
_HEADERS = ((b"allow", b"POST, DELETE, OPTIONS"), (b"x-frame-options", b"DENY"),
            (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"),
            (b"cross-origin-opener-policy", b"same-origin"))
#: TelemetrySaveView answers only POST
_TIMESERIES_HEADERS = ((b"allow", b"POST, OPTIONS"), *_HEADERS[1:])


def target_of(path: str) -> tuple[str, str, str, str | None] | None:
    """(kind, entityType, entityId, scope or ttl) of a save path, or None (another path: Django's).

    ``kind`` is "attributes" (the last item: the scope) or "timeseries" (the ttl, None without).
    The shapes of devices/api/telemetry_urls.py that reach EntityAttributesView,
    DeviceAttributesView or TelemetrySaveView; the literal forms before them (keys/..., values/...)
    have other segments."""
    if not path.startswith(PREFIX):
        return None
    parts = path[len(PREFIX):].split("/")
    if not all(parts):
        return None
    if len(parts) in (4, 5) and parts[2] == "timeseries":
        return "timeseries", parts[0], parts[1], parts[4] if len(parts) == 5 else None
    if len(parts) == 4 and parts[2] == "attributes":
        return "attributes", parts[0], parts[1], parts[3]
    if len(parts) == 3:
        return "attributes", parts[0], parts[1], parts[2]
    if len(parts) == 2:
        return "attributes", "DEVICE", parts[0], parts[1]
    return None


def _plain(scope) -> tuple[str, int] | None:
    """(authorization header, body length) when the request has the form served here, else None."""
    if scope.get("query_string") or scope.get("root_path"):
        return None
    seen: dict[bytes, bytes] = {}
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.lower()
        if name in _READ:
            if name in seen:
                return None  # repeated: Django joins them; leave that to it
            seen[name] = raw_value
    if b"transfer-encoding" in seen:
        return None
    # JWTAuthentication reads X-Authorization, then Authorization when that is missing or empty
    auth = seen.get(b"x-authorization") or seen.get(b"authorization")
    length, kind, accept = seen.get(b"content-length"), seen.get(b"content-type"), seen.get(b"accept")
    if not auth or length is None or kind is None or not _json_body(kind) or not _acceptable(accept):
        return None
    try:
        size = int(length)
    except ValueError:
        return None
    if not 0 < size <= min(MAX_BODY, settings.DATA_UPLOAD_MAX_MEMORY_SIZE):
        return None
    return auth.decode("latin-1"), size


def _json_body(content_type: bytes) -> bool:
    mime, _, params = content_type.decode("latin-1").partition(";")
    if mime.strip() not in _JSON_TYPES:
        return False
    name, _, value = params.partition("=")
    return not params.strip() or (name.strip().lower() == "charset" and value.strip().strip('"').lower()
                                  in ("utf-8", "utf8") and ";" not in value)


def _acceptable(accept: bytes | None) -> bool:
    """DRF's content negotiation would pick JSON (and no indent parameter) for this Accept header."""
    if accept is None or not accept.strip():
        return True
    text = accept.decode("latin-1")
    return ";" not in text and any(part.strip() in _ACCEPTED for part in text.split(","))


_claims: dict[tuple[str, bytes], tuple[float, dict]] = {}


def _authenticate(header: str) -> tuple[str, object] | Exception | None:
    """(user id, ``cc`` claim) of a bearer token, the 401 to answer, or None: a token this app leaves to Django."""
    parts = header.split()
    if len(parts) == 2 and parts[0] == "ApiKey":
        return None  # an API key (tenants/system/api_keys.py): Django's authentication checks it
    if len(parts) != 2 or parts[0] != "Bearer":
        return exceptions.AuthenticationFailed("Authorization header must be 'Bearer <token>'")
    token = (parts[1], signing_key())  # a new signing key outdates the tokens checked with the old one
    cached = _claims.get(token)  # a signature check costs more than the rest of the request's checks
    if cached is not None and time.time() < cached[0]:
        claims = cached[1]
    else:
        try:
            claims = decode_access(token[0])
        except TokenExpired:
            return TokenExpiredError()
        except TokenInvalid as exc:
            return exceptions.AuthenticationFailed(str(exc))
        if len(_claims) >= 10_000:
            _claims.clear()
        _claims[token] = (float(claims["exp"]), claims)
    try:
        return str(uuid.UUID(str(claims["userId"]))), claims.get("cc")
    except (TypeError, ValueError):
        return None


def _save(token: tuple[str, object], target: tuple[str, str, str, str | None], body: bytes) -> lean_batch.Save:
    """The request as a Save, with the errors that need no database in the places the view raises them."""
    kind, entity_type, entity_id, last = target
    save = lean_batch.Save(user_id=token[0], credentials=token[1], kind=kind)
    try:
        save.entity_type, save.model, save.pk = entity_ref(entity_type, entity_id)
    except exceptions.ValidationError as exc:
        save.path_error = exc
        return save
    try:
        if kind == "timeseries":
            valid_ttl(last)
            save.entries = parse_telemetry(_parsed(body), now_ms())
        else:
            save.scope = writable_scope(save.entity_type, last)
            save.values = parse_attributes(_parsed(body))
    except exceptions.APIException as exc:
        save.late_error = exc
    return save


def _parsed(body: bytes):
    """The body as DRF's JSON parsers read it (their errors included)."""
    return JSONParser().parse(io.BytesIO(body), None, {"encoding": "utf-8"})


async def _answer(send, headers) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [*headers, (b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})


async def _error(send, exc: Exception, base_headers=_HEADERS) -> None:
    """The answer DRF's APIView.handle_exception and tb_exception_handler give ``exc``."""
    response = tb_exception_handler(exc, {})
    body = JSONRenderer().render(response.data, "application/json")
    headers = [(b"content-type", b"application/json"), *base_headers, (b"content-length", str(len(body)).encode())]
    if response.has_header("Retry-After"):
        headers.append((b"retry-after", response["Retry-After"].encode()))
    await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class LeanAttributesApp:
    """Serves the plain JWT attribute saves; hands every other request (and websockets, lifespan) to ``fallback``."""

    def __init__(self, fallback):
        self.fallback = fallback

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST":
            return await self.fallback(scope, receive, send)
        target = target_of(scope["path"])
        plain = _plain(scope) if target is not None else None
        if plain is not None:  # the signing key's document, read off this loop when its cached copy is stale
            await store.prefetch(jwt_settings.KEY)
        token = _authenticate(plain[0]) if plain is not None else None
        if token is None:
            return await self.fallback(scope, receive, send)
        headers = _TIMESERIES_HEADERS if target[0] == "timeseries" else _HEADERS
        if isinstance(token, Exception):
            return await _error(send, token, headers)
        try:
            body = await read_body(receive)
        except ClientGone:
            return
        try:
            save = await lean_batch.submit(_save(token, target, body))
        except Exception as exc:
            log.exception("lean attribute save failed: %s", scope["path"])
            save = lean_batch.Save(user_id=token[0], error=exc)
        if save.error is not None:
            return await _error(send, save.error, headers)
        await _answer(send, headers)


def with_attribute_saves(fallback) -> LeanAttributesApp:
    return LeanAttributesApp(fallback)
