"""`POST /api/converter/unwrap/{integrationType}`: a network server's envelope unwrapped as the
typed converter will see it (reference 3.3, 4.3; tb-pe-client ``unwrap_raw_payload``).

Body ``{"metadata": {...}, "payload": "<base64 of the raw message>"}`` (the raw message itself
as a JSON object is accepted too). Answer ``{"metadata", "payload" (base64), "contentType"}``:
the metadata enriched with the unwrapped fields. A type without an envelope (HTTP, MQTT...)
answers the payload unchanged; an envelope that cannot be read, or an event without an
uplink, is a 400 that says why.
"""

import base64
import json

from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from converters import unwrap
from converters.api.testing import parse_base64, string_map
from converters.choices import IntegrationType
from converters.services import detect_content_type
from tbproject.api.permissions import IsTenantAdmin

__all__ = ["UnwrapView"]


class UnwrapView(APIView):
    permission_classes = [IsTenantAdmin]

    def post(self, request, integration_type: str):
        if integration_type not in IntegrationType.values:
            raise ValidationError(f"Unknown integration type {integration_type!r:.40}: use one of "
                                  f"{', '.join(IntegrationType.values)}")
        body = request.data
        if not isinstance(body, dict):
            raise ValidationError("Request body must be a JSON object {metadata, payload}")
        payload = body.get("payload")
        raw = json.dumps(payload).encode() if isinstance(payload, dict | list) else parse_base64(payload)
        metadata = string_map(body.get("metadata"), "metadata")
        if unwrap.get_unwrapper(integration_type) is None:
            content_type, _ = detect_content_type(raw)
            return Response({"metadata": metadata, "payload": base64.b64encode(raw).decode("ascii"),
                             "contentType": content_type})
        try:
            result = unwrap.unwrap(integration_type, raw, metadata)
        except unwrap.UnwrapError as e:
            # an event without an uplink that names its device: ThingsBoard answers its fields, no payload
            result = getattr(e, "unwrapped", None)
            if result is None:
                raise ValidationError(f"Cannot unwrap the {integration_type} payload: {e}") from None
        return Response(result.as_api(metadata))
