"""Entity filters: which entities a query starts from, always inside what the user may see.

:func:`resolve` turns an ``entityFilter`` into sources, one per entity type: a queryset already
narrowed to the caller's tenant (and customer, for a customer user). An id of another tenant's
entity, group or relation root is simply not among them: the answer is empty, never an error
that would tell the caller it exists. Filter types outside :data:`FILTERS` are a 400 naming them.
"""

from dataclasses import dataclass

from django.db.models import QuerySet
from rest_framework.exceptions import ValidationError

from devices import relations
from devices.models import Asset, Device, EntityGroup, EntityView
from devices.queries.fields import NAME_COLUMN, SELECT_RELATED
from tbproject.api.ids import parse_uuid
from tenants.models import Authority, Customer, Tenant

__all__ = ["Source", "resolve", "FILTERS", "ENTITY_TYPES", "MAX_ROOTS"]

_MODELS = {"DEVICE": Device, "ASSET": Asset, "ENTITY_VIEW": EntityView, "CUSTOMER": Customer, "TENANT": Tenant}
ENTITY_TYPES = tuple(_MODELS)
#: the most multiRootEntityIds a relationsQuery may start from (each root is one search)
MAX_ROOTS = 1000
#: relation filters reach only COMMON relations (the other groups are ThingsBoard's own bookkeeping)
_RELATION_GROUP = relations.COMMON


@dataclass
class Source:
    """The entities of one type a filter selects (``rows``: a queryset the user may see)."""

    entity_type: str
    rows: QuerySet


def visible(entity_type: str, user) -> QuerySet:
    """Every entity of the type the user may see, with the joins that rendering needs."""
    if entity_type == "TENANT":
        if user.authority != Authority.TENANT_ADMIN:
            return Tenant.objects.none()  # a customer user does not read its tenant
        return Tenant.objects.filter(pk=user.tenant_id)
    rows = (EntityGroup if entity_type == "ENTITY_GROUP" else _MODELS[entity_type]).objects.for_user(user)
    related = SELECT_RELATED.get(entity_type)
    return rows.select_related(*related) if related else rows


def _entity_type(raw, what: str = "entityType") -> str:
    if raw is None:
        raise ValidationError(f"'{what}' is required")
    if not isinstance(raw, str) or raw not in _MODELS:
        raise ValidationError(f"Unsupported {what}: {raw!s:.32}. Supported: {', '.join(ENTITY_TYPES)}")
    return raw


def _ids(raw, what: str) -> list:
    if not isinstance(raw, list):
        raise ValidationError(f"'{what}' must be a JSON array of ids")
    return [parse_uuid(item) for item in raw]


def _text(raw, what: str) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise ValidationError(f"'{what}' must be a string")
    return raw


def _ref(raw, what: str) -> tuple[str, object]:
    if not isinstance(raw, dict):
        raise ValidationError(f"'{what}' must be an entity id object {{entityType, id}}")
    return _entity_type(raw.get("entityType"), f"{what}.entityType"), parse_uuid(raw.get("id"))


def _single(user, f) -> list[Source]:
    entity_type, pk = _ref(f.get("singleEntity"), "singleEntity")
    return [Source(entity_type, visible(entity_type, user).filter(pk=pk))]


def _list(user, f) -> list[Source]:
    entity_type = _entity_type(f.get("entityType"))
    return [Source(entity_type, visible(entity_type, user).filter(pk__in=_ids(f.get("entityList"), "entityList")))]


def _by_name(user, f) -> list[Source]:
    entity_type = _entity_type(f.get("entityType"))
    prefix = _text(f.get("entityNameFilter"), "entityNameFilter")
    return [Source(entity_type, visible(entity_type, user).filter(**{f"{NAME_COLUMN[entity_type]}__istartswith":
                                                                      prefix}))]


def _by_type(user, f) -> list[Source]:
    entity_type = _entity_type(f.get("entityType"))
    return [Source(entity_type, visible(entity_type, user))]


def _profile_filter(kind: str, entity_type: str, type_column: str = "profile__name"):
    """deviceType / assetType / entityViewType: ``<kind>Types`` (or the older single
    ``<kind>Type``), ``<kind>NameFilter`` (a name prefix)."""

    def resolve_profile(user, f) -> list[Source]:
        types = f.get(f"{kind}Types")
        if types is None:
            single = f.get(f"{kind}Type")
            types = [] if single is None else [single]
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            raise ValidationError(f"'{kind}Types' must be a JSON array of strings")
        prefix = _text(f.get(f"{kind}NameFilter"), f"{kind}NameFilter")
        rows = visible(entity_type, user).filter(**{f"{type_column}__in": types}, name__istartswith=prefix)
        return [Source(entity_type, rows)]

    return resolve_profile


def _group_type(f) -> str:
    kind = f.get("groupType")
    if not isinstance(kind, str) or not kind:
        raise ValidationError("'groupType' is required")
    return kind


def _group(user, f) -> list[Source]:
    kind, pk = _group_type(f), parse_uuid(f.get("entityGroup"))
    group = visible("ENTITY_GROUP", user).filter(pk=pk, type=kind).first()
    if group is None or kind not in ("DEVICE", "ASSET", "ENTITY_VIEW"):
        return []
    return [Source(kind, visible(kind, user).filter(groups=group))]


def _group_list(user, f) -> list[Source]:
    ids = _ids(f.get("entityGroupList"), "entityGroupList")
    return [Source("ENTITY_GROUP", visible("ENTITY_GROUP", user).filter(type=_group_type(f), pk__in=ids))]


def _group_name(user, f) -> list[Source]:
    prefix = _text(f.get("entityGroupNameFilter"), "entityGroupNameFilter")
    return [Source("ENTITY_GROUP", visible("ENTITY_GROUP", user).filter(type=_group_type(f),
                                                                         name__istartswith=prefix))]


def _relation_rules(raw) -> list[tuple[str, set, bool]]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(r, dict) for r in raw):
        raise ValidationError("'filters' must be a JSON array of {relationType, entityTypes}")
    rules = []
    for rule in raw:
        kinds = rule.get("entityTypes") or []
        if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
            raise ValidationError("'filters[].entityTypes' must be a JSON array of entity types")
        rules.append((rule.get("relationType") or "", set(kinds), rule.get("negate") is True))
    return rules


def _matches(relation, far_type: str, rules) -> bool:
    def one(rel_type, kinds, negate) -> bool:
        type_ok = not rel_type or ((relation.type == rel_type) != negate)
        return type_ok and (not kinds or far_type in kinds)

    return not rules or any(one(*rule) for rule in rules)


def _roots(f) -> list[tuple[str, object]]:
    if f.get("multiRoot") is True:
        kind = _entity_type(f.get("multiRootEntitiesType"), "multiRootEntitiesType")
        ids = f.get("multiRootEntityIds")
        if isinstance(ids, list) and len(ids) > MAX_ROOTS:
            raise ValidationError(f"'multiRootEntityIds' has {len(ids)} ids, more than the {MAX_ROOTS} accepted")
        return [(kind, pk) for pk in _ids(f.get("multiRootEntityIds"), "multiRootEntityIds")]
    return [_ref(f.get("rootEntity"), "rootEntity")]


def _related(user, f) -> list[Source]:
    direction = f.get("direction") or "FROM"
    if direction not in ("FROM", "TO"):
        raise ValidationError(f"Invalid direction: {direction!s:.16}. Supported: FROM, TO")
    max_level = f.get("maxLevel")
    max_level = 1 if max_level is None else max_level
    if isinstance(max_level, bool) or not isinstance(max_level, int) or max_level < 0:
        raise ValidationError("'maxLevel' must be a non-negative integer")
    rules, roots = _relation_rules(f.get("filters")), _roots(f)
    found: dict[str, set] = {}
    for root_type, root_id in roots:
        if not visible(root_type, user).filter(pk=root_id).exists():
            continue  # another tenant's (or customer's) root reaches nothing
        for relation in relations.search(user.tenant_id, root_type, root_id, direction=direction,
                                         max_level=max_level, type_group=_RELATION_GROUP,
                                         last_level_only=f.get("fetchLastLevelOnly") is True):
            far_type, far_id = ((relation.to_type, relation.to_id) if direction == "FROM"
                                else (relation.from_type, relation.from_id))
            if far_type in _MODELS and _matches(relation, far_type, rules):
                found.setdefault(far_type, set()).add(far_id)
    return [Source(kind, visible(kind, user).filter(pk__in=ids)) for kind, ids in sorted(found.items())]


#: entityFilter.type -> resolver(user, filter) -> [Source]
FILTERS = {
    "singleEntity": _single, "entityList": _list, "entityName": _by_name, "entityType": _by_type,
    "deviceType": _profile_filter("device", "DEVICE"), "assetType": _profile_filter("asset", "ASSET"),
    "entityViewType": _profile_filter("entityView", "ENTITY_VIEW", "type"), "entityGroup": _group,
    "entityGroupList": _group_list, "entityGroupName": _group_name, "relationsQuery": _related,
}


def resolve(user, entity_filter: dict) -> list[Source]:
    kind = entity_filter.get("type")
    resolver = FILTERS.get(kind) if isinstance(kind, str) else None
    if resolver is None:
        raise ValidationError(f"Unsupported entity filter type: {kind!s:.48}. Supported: {', '.join(FILTERS)}")
    return resolver(user, entity_filter)
