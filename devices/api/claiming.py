"""Device claiming over HTTP (devices/claiming.py has the rules), at ThingsBoard's paths:

    POST   /api/v1/{token}/claim                  {"secretKey"?, "durationMs"?}  the device; 200, no body
    POST   /api/customer/device/{deviceName}/claim {"secretKey"?}                 a customer user
        -> 200 ClaimResult {"device": Device, "response": "SUCCESS"}
        -> 400 "FAILURE" | "CLAIMED"        (ThingsBoard answers the bare ClaimResponse then)
    DELETE /api/customer/device/{deviceName}/claim   a tenant administrator, or a user of the owning customer; 200

The device's 200 and the DELETE's 200 have no body and no Content-Type, as ThingsBoard sends them.

As ThingsBoard: the device's request is answered 200 once taken, even when the device may not be
claimed (its transport does not wait for the core); an empty body means an empty secret key and
the default duration. Only customer users claim (anyone else: 403); the device is looked up by
name in the user's tenant (404 when there is none, so another tenant's device is never reached); a
name no column can hold (a NUL character, a lone surrogate) is a 400.

As ThingsBoard's, a wrong secret key cancels the device's pending claim and a device another customer
owns answers CLAIMED. So that a stranger cannot cancel claims (or probe names) by guessing, a user's failed
claims (FAILURE, CLAIMED, 404) are counted (tenants/limits/device_attempts.py,
``DEVICE_CLAIM_FAILURES_PER_USER_RATE_LIMIT``): past the limit the user's claims answer 429 (errorCode 33,
``Retry-After``) before the device is looked up.
"""

import math
import re

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from rest_framework.exceptions import PermissionDenied, Throttled, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from devices import claiming
from devices.api import device_limits
from devices.api.device_http import authenticated, empty_response, json_body
from devices.api.serializers import DeviceSerializer
from devices.models import Device
from tbproject.api.json_body import scalar_text
from tbproject.api.permissions import IsTenantUser
from tbproject.text import check_text
from tenants.choices import Authority
from tenants.limits import device_attempts

__all__ = ["device_claim_view", "CustomerClaimView", "claim_request", "urlpatterns"]

_DENIED = "You don't have permission to perform this operation!"
TOO_MANY = "Too many failed claims: try again later."


def _text(value, name: str) -> str:
    """A field as ThingsBoard reads it (a string, or a number or boolean as its text), that a key
    comparison can take (no NUL, no lone surrogate: a customer's key does not pass json_body)."""
    try:
        text = scalar_text(value, name)
    except ValueError as e:
        raise ValidationError(str(e)) from None
    try:
        return check_text(text)
    except ValueError as e:
        raise ValidationError(f"{name}: {e}") from None


_LONG = range(-(1 << 63), 1 << 63)
_DIGITS = re.compile(r"[+-]?[0-9]{1,19}")


def _duration(value) -> int:
    """``durationMs`` as Gson's getAsLong reads it: a number (truncated) or a string of digits, in a
    Java long's range."""
    if isinstance(value, float) and math.isfinite(value):
        value = int(value)
    elif isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value not in _LONG:
        raise ValidationError("durationMs must be a number of milliseconds")
    return value


def claim_request(body) -> tuple[str, int]:
    """``(secretKey, durationMs)`` of a device's claim request ``body`` (parsed JSON, ``{}`` for an empty one),
    as ThingsBoard reads them (absent: "" and 0); ValidationError for what it refuses. The device MQTT API's
    ``v1/devices/me/claim`` reads its payload with it too."""
    if not isinstance(body, dict):
        raise ValidationError("Claim request must be a JSON object")
    secret = _text(body["secretKey"], "secretKey") if "secretKey" in body else ""
    duration = _duration(body["durationMs"]) if "durationMs" in body else 0
    return secret, duration


def _device_claim(request, device):
    body = json_body(request, empty={})
    if isinstance(body, HttpResponse):
        return body
    secret, duration = claim_request(body)
    refused = device_limits.over_limit(device)
    if refused is not None:
        return refused
    claiming.register(device, secret, duration)
    return empty_response(200)


_device_claim.methods = ["POST"]

device_claim_view = authenticated(_device_claim)


class CustomerClaimView(APIView):
    """Claims by customer users only (ThingsBoard's CUSTOMER_USER authority; anyone else 403 once
    the device is found in their tenant, so another tenant's name is a 404 as everywhere)."""

    permission_classes = [IsTenantUser]

    def _device(self, request, device_name: str) -> Device:
        try:
            check_text(device_name)
        except ValueError as e:
            raise ValidationError(f"deviceName: {e}") from None
        return get_object_or_404(Device.objects.select_related("profile"), tenant_id=request.user.tenant_id,
                                 name=device_name)

    def post(self, request, device_name: str):
        data = request.data if request.data not in (None, "") else {}
        if not isinstance(data, dict):
            raise ValidationError("Claim request must be a JSON object")
        secret = data.get("secretKey")
        secret = "" if secret is None else _text(secret, "secretKey")
        user = request.user
        wait = device_attempts.claim_blocked(user.pk)
        if wait:
            raise Throttled(wait=wait, detail=TOO_MANY)
        try:
            device = self._device(request, device_name)
        except Http404:
            device_attempts.count_claim_failure(user.pk)
            raise
        if user.authority != Authority.CUSTOMER_USER:
            raise PermissionDenied(_DENIED)
        response, saved = claiming.claim(device, user.customer, secret)
        if response != claiming.SUCCESS:
            device_attempts.count_claim_failure(user.pk)
            return Response(response, status=400)
        return Response({"device": DeviceSerializer(saved, context={"request": request}).data, "response": response})

    def delete(self, request, device_name: str):
        device = self._device(request, device_name)
        user = request.user
        if user.authority == Authority.CUSTOMER_USER and device.customer_id != user.customer_id:
            raise PermissionDenied(_DENIED)
        claiming.reclaim(device)
        return empty_response(200)


urlpatterns = [
    path("api/v1/<device_token:token>/claim", device_claim_view, name="device-http-claim"),
    path("api/customer/device/<str:device_name>/claim", csrf_exempt(CustomerClaimView.as_view()),
         name="device-claim"),
]
