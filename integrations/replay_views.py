"""Dead-letter endpoints (our addition to ThingsBoard's API), for tenant administrators.

    GET  /api/integration/{integrationId}/deadLetters?pageSize&page&textSearch&sortProperty&sortOrder
         &startTime&endTime&replayed=false      PageData of letters (textSearch: error contains)
    POST /api/integration/{integrationId}/replay   {"ids": [...]} or {"startTs": ms, "endTs": ms}
         -> {"replayed": n, "failed": m, "remaining": k}

Another tenant's integration is a 404, as everywhere.
"""

from django.shortcuts import get_object_or_404
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from integrations import dead_letters
from integrations.models import DeadLetter, Integration
from tbproject.api.ids import parse_uuid
from tbproject.api.pagination import page_data, page_request
from tbproject.api.params import bool_param
from tbproject.api.permissions import IsTenantAdmin

__all__ = ["DeadLettersView", "ReplayView"]

SORT_FIELDS = {"createdTime": "received_ts", "receivedTs": "received_ts", "attempts": "attempts", "stage": "stage"}


class _IntegrationView(APIView):
    permission_classes = [IsTenantAdmin]

    def integration(self, pk) -> Integration:
        return get_object_or_404(Integration.objects.for_user(self.request.user), pk=parse_uuid(pk))


def _ms(value, name: str) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        raise ValidationError(f"'{name}' must be a time in milliseconds")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationError(f"'{name}' must be a time in milliseconds, got '{value!s:.32}'") from None


class DeadLettersView(_IntegrationView):
    def get(self, request, pk):
        integration = self.integration(pk)
        params = request.query_params
        letters = DeadLetter.objects.filter(integration=integration)
        replayed = bool_param(params, "replayed", False)
        letters = letters.filter(replayed_ts__isnull=not replayed)
        start, end = _ms(params.get("startTime"), "startTime"), _ms(params.get("endTime"), "endTime")
        if start is not None:
            letters = letters.filter(received_ts__gte=start)
        if end is not None:
            letters = letters.filter(received_ts__lte=end)
        return Response(page_data(letters.order_by("-received_ts", "-pk"), page_request(params),
                                  search_field="error", search_lookup="icontains", sort_fields=SORT_FIELDS,
                                  render=lambda rows: [dead_letters.letter_json(r) for r in rows]))


class ReplayView(_IntegrationView):
    def post(self, request, pk):
        integration = self.integration(pk)
        body = request.data
        if not isinstance(body, dict):
            raise ValidationError("Request body must be a JSON object with ids or startTs/endTs")
        ids = body.get("ids")
        if ids is not None:
            if not isinstance(ids, list):
                raise ValidationError("'ids' must be a list of dead-letter ids")
            ids = [parse_uuid(i.get("id") if isinstance(i, dict) else i) for i in ids]
        start, end = _ms(body.get("startTs"), "startTs"), _ms(body.get("endTs"), "endTs")
        if ids is None and start is None and end is None:
            raise ValidationError("Give the dead letters to replay: 'ids', or 'startTs' and/or 'endTs'")
        return Response(dead_letters.replay(integration, ids=ids, start_ts=start, end_ts=end))
