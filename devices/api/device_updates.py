"""ThingsBoard's HTTP long poll for shared-attribute updates (thingsboard.io/docs/reference/http-api/):

    GET /api/v1/{token}/attributes/updates?timeout=20000
        -> 200 {"key": value, ..., "deleted": [keys]?}   the next change of the device's shared attributes
        -> 408, empty body                              none came within the timeout

As ThingsBoard's HTTP transport: ``timeout`` in milliseconds, 0 or absent means its default
(``transport.http.request_timeout``, 60 s), at most ``transport.http.max_request_timeout`` (300 s):
:func:`timeout_ms`, the rule of every device long poll (the RPC poll too). 401 with an empty body
for an unknown token; the answer is the first change made while the poll waits
(devices/attribute_updates.py: REST saves and deletes, rule nodes, the lean batch path). A waiting
poll holds no thread under the web server and no database connection (tbproject/deferred.py), and counts
against the process's caps of waiting requests (MAX_WAITING_REQUESTS, of a tenant, and of a device:
MAX_WAITING_REQUESTS_PER_DEVICE attribute polls): past one, 429 with ThingsBoard's "Too many requests".
"""

from django.http import HttpResponse, JsonResponse
from django.urls import path
from rest_framework.exceptions import ValidationError

from devices import attribute_updates
from devices.api import device_limits
from devices.api.device_http import authenticated, empty_response
from tbproject import waits
from tbproject.api.exceptions import ErrorCode, tb_error

__all__ = ["updates_view", "urlpatterns", "timeout_ms", "too_many", "DEFAULT_TIMEOUT_MS", "MAX_TIMEOUT_MS"]

DEFAULT_TIMEOUT_MS = 60_000  # ThingsBoard's HTTP_REQUEST_TIMEOUT
MAX_TIMEOUT_MS = waits.MAX_WAIT_MS  # ThingsBoard's HTTP_MAX_REQUEST_TIMEOUT (300 s)


def timeout_ms(params) -> int:
    """The ``timeout`` query parameter as ThingsBoard reads it (a long; 0 = the default), capped."""
    raw = params.get("timeout", "").strip()
    if not raw:
        return DEFAULT_TIMEOUT_MS
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError(f"Invalid timeout: {raw[:40]!r}. It must be a whole number of milliseconds") from None
    if value < 0:
        raise ValidationError("Invalid timeout: it must not be negative")
    return waits.wait_ms(value, DEFAULT_TIMEOUT_MS)


def too_many() -> JsonResponse:
    """The 429 of a device request past the cap of waiting requests."""
    return JsonResponse(tb_error(429, "Too many requests for current tenant! The tenant has too many device "
                                      "requests waiting already", ErrorCode.TOO_MANY_REQUESTS), status=429)


def _answer(update) -> HttpResponse:
    return empty_response(408) if update is None else JsonResponse(update)


def _updates(request, device):
    wait_ms = timeout_ms(request.GET)
    refused = device_limits.over_limit(device)
    if refused is not None:
        return refused
    try:
        return attribute_updates.answer_when_changed(request, device, wait_ms, _answer)
    except waits.TooManyWaiting:
        return too_many()


_updates.methods = ["GET"]

updates_view = authenticated(_updates)

urlpatterns = [
    path("api/v1/<device_token:token>/attributes/updates", updates_view, name="device-http-attribute-updates"),
]
