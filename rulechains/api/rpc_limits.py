"""The RPC endpoints of ThingsBoard that this server answers without doing: two-way RPC and the
persistent-RPC store.

Devices here are reached through integrations, which deliver a downlink and do not wait for the
device's reply, so ``POST /api/rpc/twoway/{deviceId}`` (and ``/api/plugins/rpc/twoway/...``) is a
501 naming the one-way call instead. No RPC is ever persisted, so
``GET /api/rpc/persistent/device/{deviceId}`` is an empty page. Both check the device first: an
unknown or foreign one is a 404, as everywhere else.
"""

from rest_framework.response import Response

from devices.api.telemetry import TelemetryView
from tbproject.api.exceptions import NotSupported
from tbproject.api.pagination import page_request

__all__ = ["TwoWayRpcView", "PersistentRpcByDeviceView"]


class TwoWayRpcView(TelemetryView):
    def post(self, request, device_id):
        self.device(device_id)
        raise NotSupported("Two-way RPC is not supported: integrations deliver downlinks without waiting for a "
                           "reply. Use POST /api/rpc/oneway/{deviceId}; the device's answer arrives as an uplink.")


class PersistentRpcByDeviceView(TelemetryView):
    def get(self, request, device_id):
        self.device(device_id)
        page_request(request.query_params)  # the same 400s as every paged list
        return Response({"data": [], "totalPages": 0, "totalElements": 0, "hasNext": False})
