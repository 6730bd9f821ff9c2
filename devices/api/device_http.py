"""ThingsBoard's device HTTP API: a device posts its telemetry and client attributes, and reads its
attributes, with its access token in the path (thingsboard.io/docs/reference/http-api/).

    POST /api/v1/{token}/telemetry    {"k": v} | {"ts": ms, "values": {...}} | a list of either
    POST /api/v1/{token}/attributes   {"k": v}, saved as CLIENT_SCOPE
    GET  /api/v1/{token}/attributes[?clientKeys=a,b&sharedKeys=c]
         -> {"client": {...}, "shared": {...}}; no keys: all of both scopes; a scope with nothing
            to show is left out, as ThingsBoard's transport does

Answers as ThingsBoard's HTTP transport: 200 with an empty body once stored, 401 with an empty
body for a token that is no device's access token (both without a Content-Type, as it sends them),
400 (with a message) for a body it would refuse, 413 past HTTP_INTEGRATION_MAX_BODY_BYTES (the cap
of the other device-facing ingress), 429 with Retry-After over the tenant profile's transport rate
limits; a stored post is counted in the tenant's usage statistics (devices/api/device_limits.py).
Bodies are read by tbproject/api/json_body.py (:func:`json_body` here applies the cap).

A save runs what the REST API's saves run (devices/api/telemetry_writes.py: the same parsing and
checks, :func:`write_points`, :func:`save_attributes` and ``on_attributes_saved``), then sends
:data:`devices.services.device_posted`, which hands the stored data to the rule engine as
ThingsBoard's POST_TELEMETRY_REQUEST / POST_ATTRIBUTES_REQUEST (integrations/device_posts.py).

Tokens are looked up once per :data:`TOKEN_TTL` seconds per process: a change of credentials, a
deleted device or a tenant marked for deletion (its tokens answer 401 from then on) empties this
process's cache at once; other processes drop it within the TTL.
"""

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.http import HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.urls import path, register_converter
from django.views.decorators.csrf import csrf_exempt
from rest_framework.exceptions import ValidationError

from devices import services
from devices.api import device_limits
from devices.api.telemetry_writes import parse_attributes, parse_telemetry
from devices.attributes import get_attributes, save_attributes
from devices.choices import AttributeScope, CredentialsType
from devices.models import Device, DeviceCredentials
from devices.telemetry import Point, write_points
from devices.tenant_assign import device_moved
from tbproject.api.exceptions import ErrorCode, tb_error
from tbproject.api.json_body import REFUSE
from tbproject.api.json_body import json_body as read_json
from tbproject.clock import now_ms
from tbproject.process_cache import ProcessCache
from tenants.deletion import tenant_marked
from tenants.models import Tenant

__all__ = ["telemetry_view", "attributes_view", "store_telemetry", "store_client_attributes",
           "device_of", "urlpatterns", "TOKEN_TTL", "authenticated", "json_body",
           "error_response", "empty_response"]

POST_TELEMETRY_REQUEST = "POST_TELEMETRY_REQUEST"  # ThingsBoard's message types (TbMsgType)
POST_ATTRIBUTES_REQUEST = "POST_ATTRIBUTES_REQUEST"
#: seconds a looked-up token is trusted in a process that did not see the change itself
TOKEN_TTL = 5.0
_TOKENS = ProcessCache(max_entries=20_000)
_MAX_TOKEN = 255  # DeviceCredentials.credentials_id's bound: anything longer is no one's


class TokenConverter:
    """A path segment taken as an access token; never ``integrations``, which is the HTTP
    integrations' prefix (/api/v1/integrations/{type}/{routingKey}, served ahead of Django)."""

    regex = "[^/]+"

    def to_python(self, value: str) -> str:
        if value == "integrations":
            raise ValueError("not a token")  # no match: a 404
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(TokenConverter, "device_token")


def device_of(token: str) -> Device | None:
    """The device whose access token ``token`` is (profile loaded), or None."""
    if not token or len(token) > _MAX_TOKEN or "\x00" in token:
        return None
    device = _TOKENS.get(token)
    if device is None:
        since = _TOKENS.generation
        row = (DeviceCredentials.objects.filter(credentials_id=token, credentials_type=CredentialsType.ACCESS_TOKEN,
                                                device__tenant__deleting_ts__isnull=True)  # not being deleted
               .select_related("device__profile").first())
        if row is None:
            return None  # not cached: a token given a moment later must work at once
        device = row.device
        _TOKENS.put_many([(token, device)], since, TOKEN_TTL)
    return device


def _forget(sender, **kwargs) -> None:
    _TOKENS.forget_now_and_on_commit()


# A deleted device takes its credentials row with it, so these two cover a device's deletion too.
post_save.connect(_forget, sender=DeviceCredentials, dispatch_uid="devices.device_http.credentials_saved")
post_delete.connect(_forget, sender=DeviceCredentials, dispatch_uid="devices.device_http.credentials_deleted")
# A tenant marked for deletion (tenants/deletion.py): its devices' tokens answer 401 from now on.
tenant_marked.connect(_forget, sender=Tenant, dispatch_uid="devices.device_http.tenant_marked")
# A device moved to another tenant (devices/tenant_assign.py, after commit): its token now names that tenant.
device_moved.connect(_forget, sender=Device, dispatch_uid="devices.device_http.device_moved")


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse(tb_error(status, message, ErrorCode.BAD_REQUEST_PARAMS), status=status)


def json_body(request, *, empty=REFUSE):
    """The device's JSON body under the device-facing cap (HTTP_INTEGRATION_MAX_BODY_BYTES), read by
    the project's one parser (tbproject/api/json_body.py), or the 413/400 response to answer instead."""
    return read_json(request, limit=settings.HTTP_INTEGRATION_MAX_BODY_BYTES, empty=empty)


def empty_response(status: int = 200) -> HttpResponse:
    """An answer without a body and, as ThingsBoard's transport (Spring's ``new ResponseEntity<>(status)``)
    sends it, without a Content-Type: Django would otherwise label the nothing text/html."""
    response = HttpResponse(status=status)
    del response["Content-Type"]
    return response


def _authenticated(view):
    """Resolves the token to a device (401, empty, as ThingsBoard, when none) and checks the method."""
    allowed = view.methods

    @csrf_exempt
    def wrapped(request, token: str, **kwargs):
        if request.method not in allowed:
            return HttpResponseNotAllowed(allowed)
        device = device_of(token)
        if device is None:
            return empty_response(401)
        try:
            return view(request, device, **kwargs)
        except ValidationError as e:
            detail = e.detail
            return _error(400, " ".join(map(str, detail)) if isinstance(detail, list) else str(detail))
        except RecursionError:
            return _error(400, "Request body is nested too deeply")

    return wrapped


def _telemetry(request, device: Device):
    body = json_body(request)
    if isinstance(body, HttpResponse):
        return body
    entries = parse_telemetry(body, now_ms())
    data_points = sum(len(values) for _, values in entries)
    refused = device_limits.over_limit(device, data_points)
    if refused is not None:
        return refused
    store_telemetry(device, entries, data_points)
    return empty_response(200)


def store_telemetry(device: Device, entries: list[tuple[int, dict]], data_points: int) -> None:
    """A device's telemetry post past its limits: written, counted, told to the rule engine (the device MQTT
    transport's posts too)."""
    write_points((Point(device.pk, key, ts, value) for ts, values in entries for key, value in values.items()),
                 tenant_id=device.tenant_id)
    device_limits.count(device, data_points)
    services.on_device_posted(device, POST_TELEMETRY_REQUEST, entries)


_telemetry.methods = ["POST"]


def _attributes(request, device: Device):
    if request.method == "GET":
        refused = device_limits.over_limit(device)
        return refused if refused is not None else _read_attributes(request, device)
    body = json_body(request)
    if isinstance(body, HttpResponse):
        return body
    values = parse_attributes(body)
    refused = device_limits.over_limit(device)
    if refused is not None:
        return refused
    store_client_attributes(device, values)
    return empty_response(200)


def store_client_attributes(device: Device, values: dict) -> None:
    """A device's attributes post past its limits: saved, counted, told to the rule engine (the device MQTT
    transport's posts too)."""
    save_attributes(device.pk, AttributeScope.CLIENT_SCOPE, values, tenant_id=device.tenant_id)
    device_limits.count(device, len(values))
    services.on_attributes_saved(device, AttributeScope.CLIENT_SCOPE, values)
    services.on_device_posted(device, POST_ATTRIBUTES_REQUEST, values)


_attributes.methods = ["GET", "POST"]


def _keys(request, name: str) -> list[str] | None:
    keys = [k.strip() for k in request.GET.get(name, "").split(",") if k.strip() and "\x00" not in k]
    return keys or None


def _read_attributes(request, device: Device):
    """ThingsBoard's rule: no keys at all reads both scopes whole; keys of one scope read only it."""
    client, shared = _keys(request, "clientKeys"), _keys(request, "sharedKeys")
    wanted = {"client": (AttributeScope.CLIENT_SCOPE, client), "shared": (AttributeScope.SHARED_SCOPE, shared)}
    if client is None and shared is None:
        wanted = {name: (scope, None) for name, (scope, _) in wanted.items()}
    else:
        wanted = {name: (scope, keys) for name, (scope, keys) in wanted.items() if keys is not None}
    answer = {}
    for name, (scope, keys) in wanted.items():
        values = {row["key"]: row["value"] for row in get_attributes(device.pk, scope, keys)}
        if values:
            answer[name] = values
    return JsonResponse(answer)


telemetry_view = _authenticated(_telemetry)
attributes_view = _authenticated(_attributes)

urlpatterns = [
    path("api/v1/<device_token:token>/telemetry", telemetry_view, name="device-http-telemetry"),
    path("api/v1/<device_token:token>/attributes", attributes_view, name="device-http-attributes"),
]

# For the other modules of the device HTTP API (long polling, claiming, provisioning): the same
# token check and error answers (json_body and empty_response are defined above).
authenticated, error_response = _authenticated, _error
