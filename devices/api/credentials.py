"""Device credentials at ThingsBoard's paths (the rules are in devices/credentials.py):

    GET  /api/device/{deviceId}/credentials  the device's DeviceCredentials (tenant admin; a customer
                                             user for its customer's devices)
    POST /api/device/credentials             replace a device's credentials (tenant admin); answers them
    POST /api/device-with-credentials        {device, credentials}: both saved, or neither; answers the device

A device the caller cannot see is a 404, whoever owns it; a credentials id taken anywhere on the
server is a 400 that does not say by whom. A refused change is audited as a FAILURE, a made one
as ThingsBoard's CREDENTIALS_UPDATED (audit/receivers.py).
"""

from django.db import transaction
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from devices import credentials
from devices.api.telemetry import TelemetryView
from devices.api.views import DeviceResource
from devices.models import Device, DeviceCredentials
from tbproject.api.ids import parse_uuid
from tbproject.api.permissions import IsTenantAdmin
from tbproject.api.resources import action_failed

__all__ = ["CredentialsByDeviceView", "UpdateCredentialsView", "DeviceWithCredentialsView"]

NOT_FOUND = "Requested item wasn't found!"


def _object(data, what: str = "Request body") -> dict:
    if not isinstance(data, dict):
        raise ValidationError(f"{what} must be a JSON object")
    return data


def _id(value):
    """A body id: ``{"id": "..."}`` or the bare string; None when absent."""
    raw = value.get("id") if isinstance(value, dict) else value
    return parse_uuid(raw) if raw else None


def _save(device, body: dict, *, credentials_pk=None, user=None) -> DeviceCredentials:
    """credentials.update with its refusals as 400s and a device without credentials as a 404."""
    try:
        return credentials.update(device, body.get("credentialsType"), body.get("credentialsId"),
                                  body.get("credentialsValue"), credentials_pk=credentials_pk, user=user)
    except credentials.CredentialsError as e:
        raise ValidationError(str(e)) from None
    except DeviceCredentials.DoesNotExist:
        raise NotFound(NOT_FOUND) from None


class CredentialsByDeviceView(TelemetryView):
    """`GET /api/device/{deviceId}/credentials`"""

    def get(self, request, device_id):
        row = DeviceCredentials.objects.filter(device=self.device(device_id)).first()
        if row is None:
            raise NotFound(NOT_FOUND)
        return Response(credentials.as_json(row))


class UpdateCredentialsView(TelemetryView):
    """`POST /api/device/credentials`: the body is a DeviceCredentials naming its device
    (``deviceId``); its ``id``, when given, must be that device's credentials."""

    permission_classes = [IsTenantAdmin]

    def post(self, request):
        body = _object(request.data)
        if _id(body.get("deviceId")) is None:
            raise ValidationError("Device credentials should be assigned to device!")
        device = self.device(str(_id(body["deviceId"])))
        try:
            with transaction.atomic():
                row = _save(device, body, credentials_pk=_id(body.get("id")), user=request.user)
        except ValidationError as e:
            action_failed.send(sender=Device, user=request.user, action="CREDENTIALS_UPDATED", instance=device,
                               name=device.name, error=str(e.detail[0] if isinstance(e.detail, list) else e.detail))
            raise
        return Response(credentials.as_json(row))


class DeviceWithCredentialsView(DeviceResource):
    """`POST /api/device-with-credentials`: the device is saved as `POST /api/device` saves it
    (same query parameters), then its credentials replaced; a refusal of either saves nothing."""

    permission_classes = [IsTenantAdmin]

    def post(self, request):
        body = _object(request.data)
        data = _object(body.get("device"), "device")
        instance = self.get_object(_id(data.get("id"))) if _id(data.get("id")) else None
        serializer = self.serializer_class(instance, data=data, context={"request": request, "view": self})
        try:
            if not isinstance(body.get("credentials"), dict):
                raise ValidationError("Device credentials should be specified!")
            serializer.is_valid(raise_exception=True)
            with transaction.atomic():
                device = self.perform_save(serializer)
                # a new device's token (devices/signals.py) is replaced, not "updated" (ThingsBoard
                # audits only the ADDED device then)
                _save(device, body["credentials"], user=request.user if instance else None)
        except Exception as e:
            self.failed("UPDATED" if instance else "ADDED", instance, data.get("name"), e)
            raise
        return Response(self.render(device))
