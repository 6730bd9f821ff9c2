"""Events of converters and integrations, at ThingsBoard's paths (reference 3.5).

    GET  /api/events/{entityType}/{entityId}/{eventType}?tenantId&pageSize&page&sortProperty&sortOrder&startTime&endTime
    POST /api/events/{entityType}/{entityId}?...same...        body: event filter
    POST /api/events/{entityType}/{entityId}/clear?startTime&endTime   body: event filter

Answers are PageData of EventInfo ``{id, createdTime, tenantId, type, uid, entityId, body}``,
newest first unless sorted otherwise. ``textSearch`` is accepted and, as in ThingsBoard, not used.
An entity of another tenant is a 404. The filter's ``eventType`` is required; its other keys
narrow the result (strings: case-insensitive "contains"; ``isError``: true/false).
"""

from dataclasses import replace

from django.apps import apps
from django.db.models import BigIntegerField
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from converters.choices import ALL_EVENT_TYPES
from converters.models import DebugEvent
from tbproject.api.ids import entity_id, parse_uuid
from tbproject.api.pagination import page_data, page_request
from tbproject.api.params import ms_param
from tbproject.api.permissions import IsTenantAdmin
from tenants.choices import EntityType

__all__ = ["EventsByTypeView", "EventsByFilterView", "ClearEventsView", "event_info", "register_entity"]

#: Entities whose existence (in the caller's tenant) is checked; a model not installed yet is skipped.
ENTITY_MODELS = {"CONVERTER": "converters.Converter", "INTEGRATION": "integrations.Integration",
                 "RULE_NODE": "rulechains.RuleNode"}
#: Entities whose events a higher layer stores in a model with DebugEvent's columns (default: DebugEvent).
EVENT_MODELS: dict[str, str] = {}


def register_entity(entity_type: str, model: str, event_model: str | None = None) -> None:
    """A higher layer's entity with events (its app's ready()): its model label, and the model of its events
    when not DebugEvent."""
    ENTITY_MODELS[entity_type] = model
    if event_model is not None:
        EVENT_MODELS[entity_type] = event_model

#: Per event type: filter key -> body key, matched case-insensitively as "contains".
TEXT_FILTERS = {
    "DEBUG_CONVERTER": {"type": "type", "in": "in", "out": "out", "metadata": "metadata"},
    "DEBUG_INTEGRATION": {"type": "type", "message": "message", "statusIntegration": "status"},
    "DEBUG_RULE_NODE": {"msgType": "msgType", "relationType": "relationType", "dataSearch": "data",
                        "metadataSearch": "metadata", "entityId": "entityId"},
    "ERROR": {"method": "method"},
    "LC_EVENT": {"event": "event", "status": "status"},
    "RAW_DATA": {"uuid": "uuid", "messageType": "messageType", "message": "message"},
    "DEBUG_CALCULATED_FIELD": {"entityId": "entityId", "entityType": "entityType", "msgId": "msgId",
                               "msgType": "msgType", "arguments": "arguments", "result": "result"},
}
#: STATS bounds: filter key -> (body key, lookup).
NUMBER_FILTERS = {
    "minMessagesProcessed": ("messagesProcessed", "gte"), "maxMessagesProcessed": ("messagesProcessed", "lte"),
    "minErrorsOccurred": ("errorsOccurred", "gte"), "maxErrorsOccurred": ("errorsOccurred", "lte"),
    "messagesProcessed": ("messagesProcessed", "gte"), "errorsOccurred": ("errorsOccurred", "gte"),
}
CLEAR_BATCH = 5000
SORT_FIELDS = {"createdTime": "created_time", "ts": "created_time"}


def event_info(event: DebugEvent) -> dict:
    return {
        "id": {"id": str(event.pk)},
        "createdTime": event.created_time,
        "tenantId": entity_id("TENANT", event.tenant_id),
        "type": event.event_type,
        "uid": str(event.pk),
        "entityId": entity_id(event.entity_type, event.entity_id),
        "body": event.body,
    }


def _bool(value, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ValidationError(f"'{name}' must be true or false")


def apply_filter(queryset, event_filter):
    """Narrow ``queryset`` by a ThingsBoard event filter object."""
    if not isinstance(event_filter, dict):
        raise ValidationError("The event filter must be a JSON object with an eventType")
    event_type = event_filter.get("eventType")
    if event_type not in ALL_EVENT_TYPES:
        raise ValidationError(f"eventType must be one of: {', '.join(ALL_EVENT_TYPES)}")
    queryset = queryset.filter(event_type=event_type)
    if event_filter.get("server"):
        queryset = queryset.filter(server__icontains=str(event_filter["server"]))
    if event_filter.get("isError") not in (None, ""):
        queryset = queryset.filter(is_error=_bool(event_filter["isError"], "isError"))
    if event_filter.get("errorStr"):
        queryset = queryset.alias(_error=KT("body__error")).filter(_error__icontains=str(event_filter["errorStr"]))
    for i, (name, key) in enumerate(TEXT_FILTERS.get(event_type, {}).items()):
        value = event_filter.get(name)
        if value not in (None, ""):
            alias = f"_text{i}"
            queryset = queryset.alias(**{alias: KT(f"body__{key}")}).filter(**{f"{alias}__icontains": str(value)})
    if event_type == "STATS":
        for i, (name, (key, lookup)) in enumerate(NUMBER_FILTERS.items()):
            value = event_filter.get(name)
            if value in (None, ""):
                continue
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValidationError(f"'{name}' must be an integer")
            alias = f"_num{i}"
            queryset = queryset.alias(**{alias: Cast(KT(f"body__{key}"), BigIntegerField())}).filter(
                **{f"{alias}__{lookup}": value})
    return queryset


class _EventsView(APIView):
    permission_classes = [IsTenantAdmin]

    def events(self, request, entity_type: str, entity_id_: str):
        """The caller's events of one entity, within startTime..endTime (inclusive)."""
        if entity_type not in EntityType.values and entity_type not in EVENT_MODELS:
            raise ValidationError(f"Unsupported entityType '{entity_type:.40}'")
        pk = parse_uuid(entity_id_)
        tenant_id = request.query_params.get("tenantId")
        if tenant_id and parse_uuid(tenant_id) != request.user.tenant_id:
            raise PermissionDenied("You don't have permission to perform this operation!")
        label = ENTITY_MODELS.get(entity_type)
        if label:
            try:
                model = apps.get_model(label)
            except LookupError:
                model = None
            if model is not None and not model.objects.for_user(request.user).filter(pk=pk).exists():
                raise NotFound("Requested item wasn't found!")
        store = apps.get_model(EVENT_MODELS[entity_type]) if entity_type in EVENT_MODELS else DebugEvent
        queryset = store.objects.for_user(request.user).filter(entity_type=entity_type, entity_id=pk)
        start, end = ms_param(request.query_params, "startTime"), ms_param(request.query_params, "endTime")
        if start is not None:
            queryset = queryset.filter(created_time__gte=start)
        if end is not None:
            queryset = queryset.filter(created_time__lte=end)
        return queryset

    def page(self, request, queryset):
        req = replace(page_request(request.query_params), text_search="")
        queryset = queryset.order_by("-created_time", "-pk")
        return page_data(queryset, req, search_field="server", sort_fields=SORT_FIELDS,
                         render=lambda rows: [event_info(e) for e in rows])


class EventsByTypeView(_EventsView):
    def get(self, request, entity_type, entity_id, event_type):
        if event_type not in ALL_EVENT_TYPES:
            raise ValidationError(f"eventType must be one of: {', '.join(ALL_EVENT_TYPES)}")
        queryset = self.events(request, entity_type, entity_id).filter(event_type=event_type)
        return Response(self.page(request, queryset))


class EventsByFilterView(_EventsView):
    def post(self, request, entity_type, entity_id):
        queryset = apply_filter(self.events(request, entity_type, entity_id), request.data)
        return Response(self.page(request, queryset))


class ClearEventsView(_EventsView):
    def post(self, request, entity_type, entity_id):
        queryset = apply_filter(self.events(request, entity_type, entity_id), request.data)
        while pks := list(queryset.values_list("pk", flat=True)[:CLEAR_BATCH]):
            queryset.model.objects.filter(pk__in=pks).delete()
        return Response(status=200)
