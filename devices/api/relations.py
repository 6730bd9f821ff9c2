"""ThingsBoard's entity relation API (EntityRelationController of tb-pe-client 4.4).

``POST/DELETE /api/v2/relation`` (answer the relation), the older ``POST/DELETE /api/relation``
(empty 200), ``GET /api/relation?fromId&fromType&relationType&toId&toType``,
``GET /api/relations/{from|to}/{type}/{id}[/{relationType}]``, the same under ``relations/info/``
with ``fromName``/``toName``, the older query-string form ``GET /api/relations[/info]?fromId&fromType``
and ``DELETE /api/relations?entityId&entityType``. Both ends must be entities the caller sees
(another tenant's or customer's is a 404). ``POST /api/relations[/info]`` searches by query
(devices/api/relation_queries.py).
"""

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from devices import relations
from devices.api.relation_queries import found_relations, readable
from devices.api.telemetry import TelemetryView
from tbproject.api.ids import entity_id

__all__ = ["RelationView", "RelationV2View", "RelationsView", "RelationsFromView", "RelationsToView"]


def render(relation, *, info: bool = False) -> dict:
    body = {"from": entity_id(relation.from_type, relation.from_id), "to": entity_id(relation.to_type, relation.to_id),
            "type": relation.type, "typeGroup": relation.type_group, "additionalInfo": relation.additional_info}
    if info:
        body["fromName"] = relations.name_of(relation.from_type, relation.from_id, relation.tenant_id)
        body["toName"] = relations.name_of(relation.to_type, relation.to_id, relation.tenant_id)
    return body


def _group(value) -> str:
    group = value or relations.COMMON
    if group not in relations.TYPE_GROUPS:
        supported = ", ".join(relations.TYPE_GROUPS)
        raise ValidationError(f"Invalid relationTypeGroup: {group!s:.32}. Supported: {supported}")
    return group


def _required(params, name: str) -> str:
    value = params.get(name)
    if not value:
        raise ValidationError(f"Required request parameter '{name}' is not present")
    return value


class _RelationBase(TelemetryView):
    def end(self, ref, what: str):
        """An entity from a body's {"entityType", "id"}."""
        if not isinstance(ref, dict) or not ref.get("entityType") or not ref.get("id"):
            raise ValidationError(f"'{what}' must be an entity id: {{\"entityType\": ..., \"id\": ...}}")
        return self.entity(str(ref["entityType"]), str(ref["id"]))

    def from_params(self, params):
        """(from, to, type, group) of the one relation the query string names."""
        source = self.entity(_required(params, "fromType"), _required(params, "fromId"))
        target = self.entity(_required(params, "toType"), _required(params, "toId"))
        return source, target, _required(params, "relationType"), _group(params.get("relationTypeGroup"))

    def saved(self, request):
        body = request.data
        if not isinstance(body, dict):
            raise ValidationError("The relation must be a JSON object with 'from', 'to' and 'type'")
        source, target = self.end(body.get("from"), "from"), self.end(body.get("to"), "to")
        rel_type = body.get("type")
        if not isinstance(rel_type, str) or not rel_type.strip():
            raise ValidationError("'type' must be a non-empty string")
        return relations.save(request.user.tenant_id, source, target, rel_type, _group(body.get("typeGroup")),
                              body.get("additionalInfo"))

    def deleted(self, request):
        source, target, rel_type, group = self.from_params(request.query_params)
        relation = relations.delete(request.user.tenant_id, source, target, rel_type, group)
        if relation is None:
            raise NotFound("Requested item wasn't found!")
        return relation


class RelationView(_RelationBase):
    """``/api/relation``: read one relation; the older save and delete answer an empty 200."""

    def get(self, request):
        source, target, rel_type, group = self.from_params(request.query_params)
        relation = relations.find(request.user.tenant_id, source=source, target=target, rel_type=rel_type,
                                  type_group=group).first()
        if relation is None:
            raise NotFound("Requested item wasn't found!")
        return Response(render(relation))

    def post(self, request):
        self.saved(request)
        return Response(status=200)

    def delete(self, request):
        self.deleted(request)
        return Response(status=200)


class RelationV2View(_RelationBase):
    """``/api/v2/relation``: save and delete answer the relation."""

    def post(self, request):
        return Response(render(self.saved(request)))

    def delete(self, request):
        return Response(render(self.deleted(request)))


class RelationsView(_RelationBase):
    """``/api/relations`` and ``/api/relations/info`` with query-string ends; ``info`` is set per route."""

    info = False

    def get(self, request):
        params = request.query_params
        if params.get("fromId"):
            found = {"source": self.entity(_required(params, "fromType"), params["fromId"])}
        else:
            found = {"target": self.entity(_required(params, "toType"), _required(params, "toId"))}
        rows = relations.find(request.user.tenant_id, rel_type=params.get("relationType") or None,
                              type_group=_group(params.get("relationTypeGroup")), **found)
        return Response([render(r, info=self.info) for r in readable(request.user, list(rows))])

    def post(self, request):
        return Response([render(r, info=self.info) for r in found_relations(self, request.data)])

    def delete(self, request):
        entity = self.entity(_required(request.query_params, "entityType"), _required(request.query_params,
                                                                                        "entityId"))
        relations.delete_all(entity.pk)
        return Response(status=200)


class _DirectionView(_RelationBase):
    info = False
    direction = "source"

    def get(self, request, entity_type, entity_id, relation_type=None):
        entity = self.entity(entity_type, entity_id)
        rows = relations.find(request.user.tenant_id, rel_type=relation_type,
                              type_group=_group(request.query_params.get("relationTypeGroup")),
                              **{self.direction: entity})
        return Response([render(r, info=self.info) for r in readable(request.user, list(rows))])


class RelationsFromView(_DirectionView):
    direction = "source"


class RelationsToView(_DirectionView):
    direction = "target"


def _direction_patterns(prefix: str, view, info: bool) -> list:
    from django.urls import path

    base = f"{prefix}/<str:entity_type>/<str:entity_id>"
    name = prefix.replace("/", "-")
    return [path(base, view.as_view(info=info), name=name),
            path(f"{base}/<str:relation_type>", view.as_view(info=info), name=f"{name}-by-type")]


def relation_patterns() -> list:
    """Routes of this module, for devices/api/urls.py."""
    from django.urls import path

    return [
        path("relation", RelationView.as_view(), name="relation"),
        path("v2/relation", RelationV2View.as_view(), name="relation-v2"),
        path("relations", RelationsView.as_view(), name="relations"),
        path("relations/info", RelationsView.as_view(info=True), name="relations-info"),
        *_direction_patterns("relations/from", RelationsFromView, False),
        *_direction_patterns("relations/to", RelationsToView, False),
        *_direction_patterns("relations/info/from", RelationsFromView, True),
        *_direction_patterns("relations/info/to", RelationsToView, True),
    ]
