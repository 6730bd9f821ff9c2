"""Integration endpoints (reference 3.4): save, get, delete, page, infos, by ids, by routing key, check.

Integrations are for tenant administrators only; customer users and the system administrator get
403, and another tenant's integration (or converter) is a 404.
"""

import inspect

from asgiref.sync import async_to_sync
from django.shortcuts import get_object_or_404
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from converters.choices import EventEntityType
from converters.models import DebugEvent
from integrations import events, expiry
from integrations.api.serializers import (
    IntegrationInfoSerializer,
    IntegrationSerializer,
    clean_configuration,
    clean_type,
    recent_stats,
)
from integrations.models import Integration
from integrations.types import get_type
from integrations.types.base import ConfigError, IntegrationError
from tbproject.api.ids import parse_uuid
from tbproject.api.params import bool_param
from tbproject.api.permissions import IsTenantAdmin
from tbproject.api.resources import EntityResource

__all__ = ["IntegrationResource", "InfoListView", "RoutingKeyView", "CheckView"]


class IntegrationResource(EntityResource):
    model = Integration
    serializer_class = IntegrationSerializer
    permission_classes = [IsTenantAdmin]
    search_lookup = "istartswith"  # ThingsBoard: "The case insensitive 'startsWith' filter"
    sort_fields = {"createdTime": "created_time", "name": "name", "type": "type", "enabled": "enabled",
                   "remote": "remote", "allowCreateDevicesOrAssets": "allow_create_devices_or_assets"}
    duplicate_message = "Integration with such name already exists!"

    def filter_list(self, queryset):
        # ThingsBoard lists regular integrations unless isEdgeTemplate=true asks for edge templates.
        return queryset.filter(edge_template=bool_param(self.request.query_params, "isEdgeTemplate", False))

    def before_save(self, serializer) -> None:
        self._created = serializer.instance is None

    def after_save(self, obj) -> None:
        # Listener types get STARTED/UPDATED from the host that (re)starts them; a push type
        # (HTTP family) has no host, so its lifecycle is the save itself.
        if not get_type(obj.type).listener:
            events.lifecycle(obj, events.CREATED if self._created else events.UPDATED)
        expiry.warn(obj)  # credentials expiring within 30 days: an LC_EVENT now

    def perform_delete(self, obj) -> None:
        pk = obj.pk
        obj.delete()  # dead letters go with it (CASCADE)
        DebugEvent.objects.filter(entity_type=EventEntityType.INTEGRATION, entity_id=pk).delete()


class InfoListView(IntegrationResource):
    """`GET /api/integrationInfos`: PageData of IntegrationInfo (status and stats, no configuration)."""

    def render_infos(self, objects, many=False):
        rows = objects if many else [objects]
        context = {"request": self.request, "stats": recent_stats(rows)}
        return IntegrationInfoSerializer(objects, many=many, context=context).data

    def get(self, request):
        return Response(self.page(self.filter_list(self.get_queryset()), render=self.render_infos))


class RoutingKeyView(IntegrationResource):
    """`GET /api/integration/routingKey/{routingKey}`: the caller's integration with that key."""

    def get(self, request, routing_key):
        return Response(self.render(get_object_or_404(self.get_queryset(), routing_key=routing_key)))


class CheckView(APIView):
    """`POST /api/integration/check`: run the type's check() on an unsaved integration.

    200 when it passes; 400 with the failure text (invalid configuration, or what the outside
    system answered) otherwise. A body with the id of a stored integration may carry masked
    secrets: they are checked with the stored values. Push types (HTTP) only validate.
    """

    permission_classes = [IsTenantAdmin]
    serializer_class = IntegrationSerializer  # the body's shape, for the OpenAPI schema

    def post(self, request):
        body = request.data
        if not isinstance(body, dict):
            raise ValidationError("Request body must be a JSON object")
        kind = clean_type(body.get("type"))
        stored = self._stored(body.get("id"))
        configuration = clean_configuration(kind, body.get("configuration"), stored.configuration if stored else {})
        integration = Integration(tenant=request.user.tenant, name=str(body.get("name") or ""), type=kind,
                                  configuration=configuration, routing_key=str(body.get("routingKey") or ""))
        if stored is not None:
            # The stored integration's own id: a running TCP/UDP server of this very integration
            # holds its port, and that must not count as "port already used".
            integration.pk = stored.pk
        try:
            result = integration.type_class(integration).check()
            if inspect.isawaitable(result):
                async_to_sync(_wait)(result)
        except (IntegrationError, ConfigError) as e:
            raise ValidationError(getattr(e, "message", None) or str(e)) from None
        return Response(status=200)

    def _stored(self, raw_id):
        if not raw_id:
            return None
        pk = parse_uuid(raw_id.get("id") if isinstance(raw_id, dict) else raw_id)
        return get_object_or_404(Integration.objects.for_user(self.request.user), pk=pk)


async def _wait(awaitable):
    return await awaitable
