"""ThingsBoard's HTTP provisioning endpoint (thingsboard.io/docs/reference/http-api/, "Provisioning"):

    POST /api/v1/provision  {"deviceName"?, "provisionDeviceKey", "provisionDeviceSecret",
                             "credentialsType"?, "token"?, "username"?, "password"?, "clientId"?, "hash"?}
        -> 200 {"credentialsValue": ..., "credentialsType": "ACCESS_TOKEN", "status": "SUCCESS"}
        -> 200 {"errorMsg": "...", "status": "NOT_FOUND" | "FAILURE"}

No token: the profile's provision key and secret are the credentials (devices/device_provision.py
has the rules). The fields are read as ThingsBoard's JsonConverter reads them: a JSON string, or a
number or boolean taken as its text; a body that is no JSON object, a missing key or secret, or an
unknown ``credentialsType`` is a 400 (ThingsBoard fails the request too).

Every request that names a key is counted per client address and per provision key
(tenants/limits/device_attempts.py, ``DEVICE_PROVISION_PER_CLIENT_RATE_LIMIT`` and
``DEVICE_PROVISION_PER_KEY_RATE_LIMIT``) before the key is looked up: past either, 429 with ThingsBoard's
error JSON (errorCode 33) and ``Retry-After``, as the device API answers over its rate limits.
"""

from django.http import HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from devices.api.device_http import error_response, json_body
from devices.choices import CredentialsType
from devices.device_provision import ProvisionRequest, provision
from tbproject.api.exceptions import ErrorCode, tb_error
from tbproject.api.json_body import scalar_text
from tenants.limits import device_attempts
from tenants.limits.mail import client_of

__all__ = ["provision_view", "urlpatterns"]

_DATA_FIELDS = ("token", "hash", "username", "password", "clientId")
TOO_MANY = "Too many provisioning requests: try again later."


def _text(body: dict, name: str, required: bool = False) -> str:
    """Field ``name`` as ThingsBoard reads it, "" when absent. The text is storable: json_body
    refused a body with a NUL character or a lone surrogate anywhere."""
    if name not in body:
        if required:
            raise ValueError(f"Failed to find the field {name} in JSON body!")
        return ""
    return scalar_text(body[name], name)


def parse(body) -> ProvisionRequest:
    """The request ``body`` (parsed JSON) carries; ValueError with the message for a 400."""
    if not isinstance(body, dict):
        raise ValueError("Provision request must be a JSON object")
    kind = _text(body, "credentialsType") or CredentialsType.ACCESS_TOKEN
    if kind not in CredentialsType.values:
        raise ValueError(f"Invalid credentialsType: {kind[:40]}. Supported: {', '.join(CredentialsType.values)}")
    return ProvisionRequest(key=_text(body, "provisionDeviceKey", True),
                            secret=_text(body, "provisionDeviceSecret", True),
                            device_name=_text(body, "deviceName"), credentials_type=kind,
                            data={name: _text(body, name) for name in _DATA_FIELDS})


@csrf_exempt
def provision_view(request):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    body = json_body(request)
    if isinstance(body, HttpResponse):
        return body
    try:
        parsed = parse(body)
    except ValueError as e:
        return error_response(400, str(e))
    wait = device_attempts.take_provision(client_of(request), parsed.key)
    if wait:
        answer = JsonResponse(tb_error(429, TOO_MANY, ErrorCode.TOO_MANY_REQUESTS), status=429)
        answer["Retry-After"] = str(wait)
        return answer
    return JsonResponse(provision(parsed))


urlpatterns = [path("api/v1/provision", provision_view, name="device-http-provision")]
