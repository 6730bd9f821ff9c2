"""Scheduler event endpoints at ThingsBoard's paths (scheduler_event_controller_api.py of tb-pe-client).

Tenant administrators read and write their tenant's events; a customer user reads the events owned
by its customer (``customerId``) and writes none (403): ThingsBoard PE lets customer users manage
events as far as their role allows, and there are no roles here. Edge routes are not served.
"""

from dataclasses import replace

from django.db.models import Q
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from scheduler import services
from scheduler.api import serializers as s
from scheduler.models import SchedulerEvent
from tbproject.api.ids import parse_id_list
from tbproject.api.pagination import MAX_PAGE_SIZE, page_data, page_request, text_search
from tbproject.api.permissions import IsTenantAdmin, IsTenantUser
from tbproject.api.resources import EntityResource

__all__ = ["EventResource", "InfoResource", "InfoDetailView", "EnableView", "PageView", "AllView", "ByIdsView",
           "RangeView", "LIST_LIMIT"]

#: the most events a list without paging answers (/api/schedulerEvents without pageSize, /all): the first
#: ones by creation time, as the largest page any paged list answers
LIST_LIMIT = MAX_PAGE_SIZE


def _capped(queryset):
    return queryset.order_by("created_time", "pk")[:LIST_LIMIT]


def _type_filter(queryset, params):
    kind = params.get("type")
    return queryset.filter(type=kind) if kind else queryset


def _search(queryset, text: str):
    if not text:
        return queryset
    return queryset.filter(Q(name__icontains=text) | Q(type__icontains=text) | Q(customer__title__icontains=text))


class EventResource(EntityResource):
    """POST /api/schedulerEvent, GET|DELETE /api/schedulerEvent/{id}: the full SchedulerEvent."""

    model = SchedulerEvent
    serializer_class = s.SchedulerEventSerializer
    search_lookup = "icontains"
    sort_fields = {"createdTime": "created_time", "name": "name", "type": "type", "enabled": "enabled",
                   "customerTitle": "customer__title"}

    def get_queryset(self):
        return super().get_queryset().select_related("customer")


class InfoResource(EventResource):
    """GET /api/schedulerEvent/info/{id}: SchedulerEventWithCustomerInfo."""

    serializer_class = s.WithCustomerInfoSerializer


class InfoDetailView(InfoResource):
    def get(self, request, pk):
        return Response(self.render(self.get_object(pk)))


class EnableView(EventResource):
    """PUT /api/schedulerEvent/{id}/enabled/{true|false}: the event, switched on or off."""

    permission_classes = [IsTenantAdmin]

    def put(self, request, pk, enabled_value):
        value = {"true": True, "false": False}.get(str(enabled_value).lower())
        event = self.get_object(pk)
        if value is None:
            raise ValidationError(f"'enabledValue' must be true or false, got {str(enabled_value)[:16]!r}")
        return Response(self.render(services.set_enabled(event, value)))


class PageView(InfoResource):
    """GET /api/schedulerEvents?pageSize&page[&textSearch&sortProperty&sortOrder&type&edgeId]: a page of
    SchedulerEventWithCustomerInfo; without pageSize (ThingsBoard's older form) the whole list, up to LIST_LIMIT.
    textSearch matches the name, the type or the customer's title; no event is an edge's here, so
    ``edgeId`` finds none."""

    permission_classes = [IsTenantUser]

    def get(self, request):
        params = request.query_params
        queryset = _type_filter(self.get_queryset(), params)
        if params.get("edgeId"):
            queryset = queryset.none()
        if params.get("pageSize") is None:
            return Response(self.render(_capped(_search(queryset, text_search(params))), many=True))
        req = page_request(params)
        queryset = _search(queryset, req.text_search)
        return Response(page_data(queryset, replace(req, text_search=""), search_field="name",
                                  sort_fields=self.sort_fields, render=lambda rows: self.render(rows, many=True)))


class AllView(InfoResource):
    """GET /api/schedulerEvents/all[?type]: every event the user may read (WithCustomerInfo), up to LIST_LIMIT."""

    permission_classes = [IsTenantUser]

    def get(self, request):
        return Response(self.render(_capped(_type_filter(self.get_queryset(), request.query_params)), many=True))


class ByIdsView(EventResource):
    """GET /api/schedulerEvents/list?schedulerEventIds=a,b: the SchedulerEventInfo of those the user may read."""

    serializer_class = s.SchedulerEventInfoSerializer
    permission_classes = [IsTenantUser]

    def get(self, request):
        ids = parse_id_list(request.query_params, "schedulerEventIds")
        found = {e.pk: e for e in self.get_queryset().filter(pk__in=ids)}
        return Response(self.render([found[i] for i in dict.fromkeys(ids) if i in found], many=True))


class RangeView(InfoResource):
    """GET /api/schedulerEvents/startTime/{startTime}/endTime/{endTime}[?type&textSearch]: the events that
    fire in that interval (enabled or not), each with ``timestamps``: its fire times there (at most 1,000).
    An interval longer than MAX_RANGE_MS (366 days), or one where the events fire more than MAX_TIMESTAMPS
    (10,000) times in all, is a 400 (scheduler/services.py)."""

    permission_classes = [IsTenantUser]

    def get(self, request, start_time, end_time):
        start, end = services.check_range(start_time, end_time)
        params = request.query_params
        if params.get("edgeId"):
            return Response([])
        events = list(_search(_type_filter(self.get_queryset(), params), text_search(params))
                      .order_by("created_time", "pk"))
        stamps = services.calendar(events, start, end)
        hits = [e for e in events if stamps[e.pk]]
        return Response(s.WithCustomerInfoSerializer(hits, many=True,
                                                   context={"request": request, "timestamps": stamps}).data)
