"""Generic ThingsBoard-style entity endpoints.

ThingsBoard's paths are not REST-router shaped (`POST /api/device` creates *and* updates,
`GET /api/tenant/devices` lists), so each entity kind is described once by an
:class:`EntityResource` subclass and three generic views serve it:

    POST   /api/<single>            save (id in body = update; unknown or foreign id = 404)
    GET    /api/<single>/<uuid>     fetch
    DELETE /api/<single>/<uuid>     delete
    GET    /api/<plural>?pageSize&page&textSearch&sortProperty&sortOrder   PageData
    GET    /api/<plural>?<ids_param>=a,b   list of the visible ones (ByIdsView)
"""

from django.db import IntegrityError, transaction
from django.dispatch import Signal
from django.shortcuts import get_object_or_404
from django.urls import path
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from tbproject.api.ids import parse_id_list, parse_uuid
from tbproject.api.pagination import page_data, page_request
from tbproject.api.permissions import IsTenantAdminOrReadOnly

__all__ = ["EntityResource", "SaveView", "DetailView", "ListView", "ByIdsView", "as_view", "entity_urls",
           "action_failed"]

#: A save or delete through these views was refused (sender = the model): ``user``, ``action``
#: ("ADDED", "UPDATED", "DELETED"), ``instance`` (None for a new one), ``name`` (the posted one for
#: a new one) and ``error`` (the text). The audit log (audit/) records it as a FAILURE.
action_failed = Signal()


class EntityResource(APIView):
    """Describes one entity kind; subclasses set the class attributes below."""

    model = None
    serializer_class = None
    search_field = "name"
    #: ThingsBoard 4.x searches most names by substring ("icontains"); groups and converters by prefix
    search_lookup = "istartswith"
    sort_fields = {"createdTime": "created_time", "name": "name"}
    permission_classes = [IsTenantAdminOrReadOnly]
    #: message used when a unique constraint fails on save
    duplicate_message = "Entity with such name already exists!"

    def get_queryset(self):
        return self.model.objects.for_user(self.request.user)

    def filter_list(self, queryset):
        """Hook for list-only query parameters (e.g. ?type=)."""
        return queryset

    def lookup_single(self, params):
        """Hook: return one object when the list URL is used as a by-name lookup, else None.

        ThingsBoard overloads list paths this way (`GET /api/tenant/devices?deviceName=X`).
        """
        return None

    def get_object(self, pk):
        return get_object_or_404(self.get_queryset(), pk=parse_uuid(pk))

    def render(self, objects, many=False):
        return self.serializer_class(objects, many=many, context={"request": self.request}).data

    def before_save(self, serializer) -> None:
        """Hook run inside the save transaction, before the serializer writes."""

    def after_save(self, obj) -> None:
        """Hook run inside the save transaction; raising here rolls the whole save back."""

    def perform_save(self, serializer):
        try:
            with transaction.atomic():
                self.before_save(serializer)
                obj = serializer.save()
                self.after_save(obj)
                return obj
        except IntegrityError:
            raise ValidationError(self.duplicate_message) from None

    def perform_delete(self, obj) -> None:
        """Hook: refuse (raise ValidationError) or delete."""
        obj.delete()

    def failed(self, action: str, instance, name, error: Exception) -> None:
        """Publish a refused save or delete (``action_failed``), outside its rolled-back transaction."""
        detail = getattr(error, "detail", None)
        text = str(error) if detail is None else _flatten(detail)
        action_failed.send(sender=self.model, user=self.request.user, action=action, instance=instance,
                           name=name if isinstance(name, str) else "", error=text)

    def page(self, queryset, render=None):
        """The PageData answer for ``queryset`` under this request's paging parameters.

        ``render(objects, many=True)`` defaults to :meth:`render`.
        """
        render = render or self.render
        req = page_request(self.request.query_params)
        return page_data(queryset, req, search_field=self.search_field, sort_fields=self.sort_fields,
                         search_lookup=self.search_lookup, render=lambda rows: render(rows, many=True))


class SaveView(EntityResource):
    def post(self, request):
        data = request.data
        if not isinstance(data, dict):
            raise ValidationError("Request body must be a JSON object")
        raw_id = data.get("id")
        instance = self.get_object(raw_id.get("id") if isinstance(raw_id, dict) else raw_id) if raw_id else None
        serializer = self.serializer_class(instance, data=data, context={"request": request, "view": self})
        try:
            serializer.is_valid(raise_exception=True)
            return Response(self.render(self.perform_save(serializer)))
        except Exception as e:
            self.failed("UPDATED" if instance else "ADDED", instance, data.get("name"), e)
            raise


class DetailView(EntityResource):
    def get(self, request, pk):
        return Response(self.render(self.get_object(pk)))

    def delete(self, request, pk):
        obj = self.get_object(pk)
        try:
            with transaction.atomic():
                self.perform_delete(obj)
        except Exception as e:
            self.failed("DELETED", obj, None, e)
            raise
        return Response(status=200)


class ListView(EntityResource):
    def get(self, request):
        single = self.lookup_single(request.query_params)
        if single is not None:
            return Response(self.render(single))
        return Response(self.page(self.filter_list(self.get_queryset())))


class ByIdsView(EntityResource):
    """`GET ?<ids_param>=a,b`: the objects among those ids that the user may see, in request order."""

    ids_param = "ids"

    def get(self, request):
        ids = parse_id_list(request.query_params, self.ids_param)
        found = {obj.pk: obj for obj in self.get_queryset().filter(pk__in=ids)}
        return Response(self.render([found[i] for i in dict.fromkeys(ids) if i in found], many=True))


def _flatten(detail) -> str:
    if isinstance(detail, dict):
        return "; ".join(f"{k}: {_flatten(v)}" if k != "non_field_errors" else _flatten(v) for k, v in detail.items())
    if isinstance(detail, list):
        return " ".join(_flatten(d) for d in detail)
    return str(detail)


def as_view(resource: type[EntityResource], base: type[EntityResource], **attrs):
    """A Django view serving ``resource`` through the generic ``base`` view; ``attrs`` override either."""
    return type(f"{resource.__name__}{base.__name__}", (base, resource), attrs).as_view()


def entity_urls(resource: type[EntityResource], single: str, plural: str, name: str, **attrs) -> list:
    """URL patterns for one resource: save, detail and list, named ``<name>-save`` etc."""
    return [
        path(f"{single}", as_view(resource, SaveView, **attrs), name=f"{name}-save"),
        path(f"{single}/<str:pk>", as_view(resource, DetailView, **attrs), name=f"{name}-detail"),
        path(f"{plural}", as_view(resource, ListView, **attrs), name=f"{name}-list"),
    ]
