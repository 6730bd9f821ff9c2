"""Device credentials (``GET /api/device/{deviceId}/credentials``, ``POST /api/device/credentials``,
``POST /api/device-with-credentials``): devices here send data through integrations, which hold
the credentials of the outside system, so no device has credentials of its own. Each answers a 501
that says so; a device the caller cannot see is still a 404."""

from rest_framework.exceptions import ValidationError

from devices.api.telemetry import TelemetryView
from tbproject.api.exceptions import NotSupported

__all__ = ["CredentialsByDeviceView", "SaveCredentialsView"]

_WHY = ("Device credentials are not supported: devices reach this server through integrations, which "
        "authenticate with the integration's routing key and secret.")


class CredentialsByDeviceView(TelemetryView):
    def get(self, request, device_id):
        self.device(device_id)
        raise NotSupported(_WHY)


class SaveCredentialsView(TelemetryView):
    """``POST /api/device/credentials`` and ``/api/device-with-credentials``; ``POST /api/device`` saves a device."""

    def post(self, request):
        if not isinstance(request.data, dict):
            raise ValidationError("Request body must be a JSON object")
        raise NotSupported(_WHY + " Save the device with POST /api/device.")
