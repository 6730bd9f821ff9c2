"""ThingsBoard's DeviceConnectivityController and two of its LwM2M routes (devices/connectivity.py has the rules):

    GET  /api/device-connectivity/{deviceId}           commands that publish the device's telemetry, per transport
    GET  /api/device-connectivity/{protocol}/certificate/download   the server certificate devices check, open to
                                                      anyone (https: DEVICE_CONNECTIVITY_HTTPS_PEM_FILE's; mqtts:
                                                      DEVICE_MQTT_SSL_CERT's; every certificate of the file, never a
                                                      key; a 404 otherwise, as ThingsBoard answers a protocol
                                                      without one)
    GET  /api/device-connectivity/gateway-launch/{deviceId}/docker-compose/download   docker-compose.yml of
                                                      ThingsBoard's IoT gateway with the device's credentials
    GET  /api/lwm2m/deviceProfile/bootstrap/{isBootstrapServer}   LwM2MServerSecurityConfigDefault of the
                                                      LwM2M (bootstrap) server profiles are told of (settings)
    POST /api/lwm2m/device-credentials                {device, credentials}: as /api/device-with-credentials

The device routes are a tenant administrator's or its customer's users' (another tenant's device: 404); the
commands and the compose file carry the device's credentials, so they need READ_CREDENTIALS.
"""

import re
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpResponse
from django.urls import path
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from devices import connectivity
from devices.api.credentials import DeviceWithCredentialsView
from devices.conf import mqtts_certificate_file
from devices.models import Device, DeviceCredentials
from tbproject.api.ids import parse_uuid
from tbproject.api.permissions import IsTenantUser
from tenants.system.admin_settings import base_url

__all__ = ["urlpatterns"]

_PROTOCOLS = ("http", "https", "mqtt", "mqtts", "coap", "coaps")


def _base_url(request) -> str:
    return base_url() or request.build_absolute_uri("/").rstrip("/")


class _DeviceView(APIView):
    permission_classes = [IsTenantUser]

    def device(self, device_id) -> tuple[Device, DeviceCredentials | None]:
        pk = parse_uuid(device_id)
        device = Device.objects.for_user(self.request.user).select_related("profile").filter(pk=pk).first()
        if device is None:
            raise NotFound(f"Device with id [{pk}] is not found")
        return device, DeviceCredentials.objects.filter(device=device).first()


class PublishCommandsView(_DeviceView):
    def get(self, request, device_id):
        device, credentials = self.device(device_id)
        return Response(connectivity.publish_commands(device, credentials, _base_url(request)))


class GatewayDockerComposeView(_DeviceView):
    def get(self, request, device_id):
        _device, credentials = self.device(device_id)
        text = connectivity.gateway_docker_compose(credentials, _base_url(request))
        return _download(text.encode(), "docker-compose.yml")


_CERTIFICATE = re.compile(rb"-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----")


class CertificateView(APIView):
    """Open to anyone, as ThingsBoard's (its dialog's curl has no credentials): no authentication is even tried,
    so a bad or expired token is no 401. Only the file's certificates leave, never a key it holds."""

    permission_classes = [AllowAny]
    authentication_classes = []

    def get(self, request, protocol):
        if protocol not in _PROTOCOLS:
            raise ValidationError(f"Unknown protocol '{protocol:.32}'; use one of: {', '.join(_PROTOCOLS)}")
        pem = {"https": settings.DEVICE_CONNECTIVITY_HTTPS_PEM_FILE, "mqtts": mqtts_certificate_file()}.get(protocol)
        try:
            body = Path(pem).read_bytes() if pem else None
        except OSError:
            body = None
        body = b"".join(block + b"\n" for block in _CERTIFICATE.findall(body or b""))
        if not body:
            raise NotFound(f"Certificate for {protocol} protocol is not found")
        return _download(body, "ca-root.pem")


def _download(body: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type="application/octet-stream")
    response["Content-Disposition"] = f"attachment; filename={filename}"
    response["x-filename"] = filename
    return response


class Lwm2mServerInfoView(APIView):
    permission_classes = [IsTenantUser]

    def get(self, request, is_bootstrap):
        flag = {"true": True, "false": False}.get(is_bootstrap.lower())
        if flag is None:
            raise ValidationError(f"isBootstrapServer must be true or false, got '{is_bootstrap:.32}'")
        host = settings.LWM2M_SERVER_HOST or urlsplit(_base_url(request)).hostname or "0.0.0.0"
        ports = ((settings.LWM2M_BOOTSTRAP_PORT, settings.LWM2M_BOOTSTRAP_SECURITY_PORT) if flag else
                 (settings.LWM2M_SERVER_PORT, settings.LWM2M_SERVER_SECURITY_PORT))
        return Response({
            "shortServerId": 111 if flag else 123, "bootstrapServerIs": flag, "host": host, "port": ports[0],
            "securityHost": host, "securityPort": ports[1], "clientHoldOffTime": 1, "serverPublicKey": "",
            "serverCertificate": "", "bootstrapServerAccountTimeout": 0, "lifetime": 300, "defaultMinPeriod": 1,
            "notifIfDisabled": True, "binding": "U",
        })


urlpatterns = [
    path("device-connectivity/gateway-launch/<str:device_id>/docker-compose/download",
         GatewayDockerComposeView.as_view(), name="device-connectivity-gateway-compose"),
    path("device-connectivity/<str:protocol>/certificate/download", CertificateView.as_view(),
         name="device-connectivity-certificate"),
    path("device-connectivity/<str:device_id>", PublishCommandsView.as_view(), name="device-connectivity"),
    path("lwm2m/deviceProfile/bootstrap/<str:is_bootstrap>", Lwm2mServerInfoView.as_view(),
         name="deviceProfile-lwm2m-bootstrap"),
    path("lwm2m/device-credentials", DeviceWithCredentialsView.as_view(), name="device-lwm2m-credentials"),
]
