"""The device HTTP API's rate limits and usage counts, from the tenant profile as ThingsBoard's transports.

Limits (``DefaultTenantProfileConfiguration`` keys; a key unset or empty: no limit):

- every message (a telemetry or attributes post, an attributes read) takes one token of
  ``transportDeviceMsgRateLimit`` (its device) and ``transportTenantMsgRateLimit`` (the tenant);
- a telemetry post also takes one of ``transport*TelemetryMsgRateLimit`` and one per value of
  ``transport*TelemetryDataPointsRateLimit``.

The device's limits are asked before the tenant's, so a device refused by its own limit spends none
of its tenant's tokens (tokens one limit granted before another refused are not given back, a small
overcount only while over a limit). Over a limit the answer is what the HTTP integration endpoint
answers: 429, ThingsBoard's error JSON (errorCode 33) and ``Retry-After`` in whole seconds.

Usage: a stored post counts one ``messages`` (transportMsgCount) and its values as ``data_points``
(storageDataPointsCount), as the uplink pipeline counts an integration's message; reads count nothing.
"""

from django.http import JsonResponse

from devices.models import Device
from tbproject.api.exceptions import ErrorCode, tb_error
from tenants import limits, usage
from tenants.limits import profile as keys

__all__ = ["over_limit", "refusal", "count"]

_MESSAGE = ((keys.TRANSPORT_DEVICE_MSG, False), (keys.TRANSPORT_TENANT_MSG, True))
_TELEMETRY = ((keys.TRANSPORT_DEVICE_MSG, False), (keys.TRANSPORT_DEVICE_TELEMETRY_MSG, False),
              (keys.TRANSPORT_DEVICE_DATA_POINTS, False), (keys.TRANSPORT_TENANT_MSG, True),
              (keys.TRANSPORT_TENANT_TELEMETRY_MSG, True), (keys.TRANSPORT_TENANT_DATA_POINTS, True))


def over_limit(device: Device, data_points: int | None = None) -> JsonResponse | None:
    """None when the message may pass (its tokens taken), else the 429 to answer. ``data_points``:
    the values of a telemetry post; None for any other message."""
    refused = refusal(device, data_points)
    if refused is None:
        return None
    reason, wait_ms = refused
    answer = JsonResponse(tb_error(429, reason, ErrorCode.TOO_MANY_REQUESTS), status=429)
    answer["Retry-After"] = str(limits.retry_after(wait_ms))
    return answer


def refusal(device: Device, data_points: int | None = None, *, message_taken: bool = False) -> tuple[str, int] | None:
    """None when the message may pass (its tokens taken), else (ThingsBoard's "Too many requests" text, ms to
    wait): :func:`over_limit` without HTTP, for any transport. ``message_taken``: the message tokens were taken
    already (a transport that counts a message before reading it), only the telemetry ones are asked now."""
    tenant_limits = limits.limits_of(device.tenant_id)
    if not tenant_limits.by_key:
        return None
    asked = _TELEMETRY if data_points is not None else _MESSAGE
    for key, of_tenant in asked:
        if message_taken and (key, of_tenant) in _MESSAGE:
            continue
        n = data_points if key in (keys.TRANSPORT_DEVICE_DATA_POINTS, keys.TRANSPORT_TENANT_DATA_POINTS) else 1
        if not n:
            continue
        granted, wait_ms = limits.take_with(tenant_limits, key, tenant_limits.tenant_id if of_tenant else device.pk, n)
        if not granted:
            reason = f"{key} ({limits.describe(tenant_limits.windows(key))})"
            return f"Too many requests: rate limit {reason} exceeded", wait_ms
    return None


def count(device: Device, data_points: int) -> None:
    """One stored message of ``device`` with ``data_points`` values, in its tenant's usage statistics."""
    usage.add(device.tenant_id, messages=1, data_points=data_points)
