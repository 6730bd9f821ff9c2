"""Searches over relations, as ThingsBoard's clients send them:

    POST /api/relations[/info]   EntityRelationsQuery {parameters, filters[{relationType, entityTypes}]}
    POST /api/devices            DeviceSearchQuery {parameters, relationType, deviceTypes}
    POST /api/assets             AssetSearchQuery {parameters, relationType, assetTypes}

``parameters`` is RelationsSearchParameters {rootId, rootType, direction FROM|TO,
relationTypeGroup, maxLevel, fetchLastLevelOnly}; the root must be an entity the caller sees.
"""

from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from devices import relations
from devices.api.telemetry import ENTITY_MODELS, TelemetryView, visible
from tbproject.api.resources import ByIdsView
from tenants.models import Authority

__all__ = ["search_body", "found_relations", "readable", "ByIdsOrQueryView"]


def readable(user, rows: list) -> list:
    """The relations whose both ends ``user`` may see, as ThingsBoard filters relation answers by
    read permission: a customer user does not learn the ids of its tenant's other entities through
    a relation to them. A tenant administrator sees every entity of the tenant (no query)."""
    if user.authority != Authority.CUSTOMER_USER or not rows:
        return rows
    wanted: dict[str, set] = {}
    for r in rows:
        wanted.setdefault(r.from_type, set()).add(r.from_id)
        wanted.setdefault(r.to_type, set()).add(r.to_id)
    seen = set()
    for entity_type, ids in wanted.items():
        model = ENTITY_MODELS.get(entity_type)
        if model is not None:
            pks = visible(model, user).filter(pk__in=ids).values_list("pk", flat=True)
            seen.update((entity_type, pk) for pk in pks)
    return [r for r in rows if (r.from_type, r.from_id) in seen and (r.to_type, r.to_id) in seen]


def search_body(view: TelemetryView, body) -> tuple[list, str]:
    """(relations the body's ``parameters`` reach, direction); the root is resolved through ``view``."""
    if not isinstance(body, dict) or not isinstance(body.get("parameters"), dict):
        raise ValidationError("The query must be a JSON object with 'parameters'")
    params = body["parameters"]
    root = view.entity(str(params.get("rootType") or ""), str(params.get("rootId") or ""))
    direction = params.get("direction") or "FROM"
    if direction not in ("FROM", "TO"):
        raise ValidationError(f"Invalid direction: {direction!s:.32}. Supported: FROM, TO")
    max_level = params.get("maxLevel")
    max_level = 1 if max_level is None else max_level  # 0: as deep as relations go (relations.MAX_LEVEL)
    if isinstance(max_level, bool) or not isinstance(max_level, int) or max_level < 0:
        raise ValidationError("'maxLevel' must be a non-negative integer")
    group = params.get("relationTypeGroup")
    if group is not None and group not in relations.TYPE_GROUPS:
        raise ValidationError(f"Invalid relationTypeGroup: {group!s:.32}")
    return relations.search(view.request.user.tenant_id, root.entity_type, root.pk, direction=direction,
                            max_level=max_level, type_group=group, last_level_only=params.get("fetchLastLevelOnly")
                            is True), direction


def _far(relation, direction: str) -> tuple[str, object]:
    return (relation.to_type, relation.to_id) if direction == "FROM" else (relation.from_type, relation.from_id)


def _strings(value, what: str) -> list[str]:
    """An optional list of strings (``entityTypes``, ``deviceTypes``...): [] when absent."""
    if value in (None, ""):
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError(f"'{what}' must be a list of strings")
    return value


def _text(value, what: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ValidationError(f"'{what}' must be a string")
    return value or None


def found_relations(view: TelemetryView, body) -> list:
    """The EntityRelationsQuery answer: relations matching any of ``filters`` (all without)."""
    found, direction = search_body(view, body)
    filters = body.get("filters") or []
    if not isinstance(filters, list) or not all(isinstance(f, dict) for f in filters):
        raise ValidationError("'filters' must be a list of {relationType, entityTypes}")
    rules = [(_text(f.get("relationType"), "filters.relationType"),
              _strings(f.get("entityTypes"), "filters.entityTypes")) for f in filters]

    def matches(relation, rule) -> bool:
        rel_type, kinds = rule
        return (not rel_type or relation.type == rel_type) and (not kinds or _far(relation, direction)[0] in kinds)

    return readable(view.request.user, [r for r in found if not filters or any(matches(r, rule) for rule in rules)])


class ByIdsOrQueryView(ByIdsView, TelemetryView):
    """``GET /api/devices?deviceIds=`` (by ids) and ``POST /api/devices`` (by relation query)."""

    def post(self, request):
        found, direction = search_body(self, request.data)
        kind = "DEVICE" if self.model.__name__ == "Device" else "ASSET"
        rel_type = _text(request.data.get("relationType"), "relationType")
        types = _strings(request.data.get(f"{kind.lower()}Types"), f"{kind.lower()}Types")
        ids = [_far(r, direction)[1] for r in found
               if _far(r, direction)[0] == kind and (not rel_type or r.type == rel_type)]
        rows = self.get_queryset().filter(pk__in=ids).select_related("profile")
        return Response(self.render([row for row in rows if not types or row.profile.name in types], many=True))
