"""Downlink endpoints (our addition to ThingsBoard's API: it has no view of pending downlinks).

    GET /api/integration/{integrationId}/downlinks?pageSize&page&status&deviceName&textSearch
        &sortProperty&sortOrder     PageData of the integration's downlinks, newest first
    GET /api/device/{deviceId}/downlinks?pageSize&page&status
        PageData of the downlinks to one device, through any integration (the device page)

``status`` filters by QUEUED, ENCODING, PENDING, SENDING, DELIVERED, FAILED or SUPERSEDED
(comma-separated). textSearch matches the device name (starts with). A row:
``{id, integrationId, deviceName, originator, msgType, msg, status, contentType, data (text; base64
for BINARY), metadata, attempts, error, createdTime, encodedTime, deliveredTime, nextAttemptTime}``.
Another tenant's integration or device is a 404, as everywhere.
"""

import base64

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from devices.models import Device
from integrations.models import DownlinkStatus, Integration, OutgoingDownlink
from tbproject.api.ids import entity_id, parse_uuid
from tbproject.api.pagination import page_data, page_request
from tbproject.api.permissions import IsTenantAdmin, IsTenantUser

__all__ = ["IntegrationDownlinksView", "DeviceDownlinksView", "downlink_json"]

SORT_FIELDS = {"createdTime": "created_ts", "deviceName": "device_name", "status": "status",
               "attempts": "attempts", "deliveredTime": "delivered_ts"}


def _data(row: OutgoingDownlink) -> str | None:
    if row.payload is None:
        return None
    payload = bytes(row.payload)
    if row.content_type != "BINARY":
        try:
            return payload.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return base64.b64encode(payload).decode("ascii")


def downlink_json(row: OutgoingDownlink) -> dict:
    return {
        "id": str(row.pk),
        "integrationId": entity_id("INTEGRATION", row.integration_id),
        "deviceName": row.device_name,
        "originator": entity_id(row.originator_type or "DEVICE", row.originator_id) if row.originator_id else None,
        "msgType": row.msg_type,
        "msg": row.msg,
        "status": row.status,
        "contentType": row.content_type or None,
        "data": _data(row),
        "metadata": row.metadata or {},
        "attempts": row.attempts,
        "error": row.error or None,
        "createdTime": row.created_ts,
        "encodedTime": row.encoded_ts,
        "deliveredTime": row.delivered_ts,
        "nextAttemptTime": row.next_attempt_ts if row.status == DownlinkStatus.PENDING and row.attempts else None,
    }


def _statuses(raw) -> list[str] | None:
    if not raw:
        return None
    wanted = [s.strip().upper() for s in raw.split(",") if s.strip()]
    unknown = [s for s in wanted if s not in DownlinkStatus.values]
    if unknown:
        raise ValidationError(f"Unknown status '{unknown[0]:.32}'; use one of: {', '.join(DownlinkStatus.values)}")
    return wanted


_PARAMETERS = [OpenApiParameter("pageSize", int, required=True), OpenApiParameter("page", int, required=True),
               OpenApiParameter("status", str, description="comma-separated: " + ", ".join(DownlinkStatus.values)),
               OpenApiParameter("deviceName", str), OpenApiParameter("textSearch", str),
               OpenApiParameter("sortProperty", str, enum=sorted(SORT_FIELDS)),
               OpenApiParameter("sortOrder", str, enum=["ASC", "DESC"])]
_SCHEMA = extend_schema(parameters=_PARAMETERS, responses=OpenApiTypes.OBJECT,
                        description="PageData of downlinks (this project's addition; see the module docstring).")


def _page(request, rows):
    params = request.query_params
    statuses = _statuses(params.get("status"))
    if statuses:
        rows = rows.filter(status__in=statuses)
    if params.get("deviceName"):
        rows = rows.filter(device_name=params["deviceName"])
    return Response(page_data(rows.order_by("-created_ts", "-pk"), page_request(params), search_field="device_name",
                              sort_fields=SORT_FIELDS, render=lambda page: [downlink_json(r) for r in page]))


class IntegrationDownlinksView(APIView):
    permission_classes = [IsTenantAdmin]

    @_SCHEMA
    def get(self, request, pk):
        integration = get_object_or_404(Integration.objects.for_user(request.user), pk=parse_uuid(pk))
        return _page(request, OutgoingDownlink.objects.filter(integration=integration))


class DeviceDownlinksView(APIView):
    """Anyone who may see the device (a customer user: its customer's devices)."""

    permission_classes = [IsTenantUser]

    @_SCHEMA
    def get(self, request, pk):
        device = get_object_or_404(Device.objects.for_user(request.user), pk=parse_uuid(pk))
        return _page(request, OutgoingDownlink.objects.filter(tenant_id=device.tenant_id, originator_id=device.pk))
