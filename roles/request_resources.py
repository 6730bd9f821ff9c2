"""The resources a request names in its body or query string, where the path does not (roles/enforcement.py).

Entity queries (``/api/entitiesQuery/...``) need READ on the entity type their ``entityFilter`` selects;
relations need READ (list) or WRITE (save, delete) on both ends' entity types, as ThingsBoard checks the
entities. Whatever cannot be told (an unknown filter type, a malformed body: the view answers its 400)
needs the generic ``ALL`` resource, which only full administrators hold.
"""

from roles.choices import RESOURCES

__all__ = ["queried_types", "relation_needs", "body_id"]

#: entityFilter.type -> the entity type it selects (where the filter does not name it)
_FILTER_TYPES = {
    "deviceType": "DEVICE", "deviceSearchQuery": "DEVICE", "assetType": "ASSET", "assetSearchQuery": "ASSET",
    "entityViewType": "ENTITY_VIEW", "entityViewSearchQuery": "ENTITY_VIEW", "edgeType": "EDGE",
    "edgeSearchQuery": "EDGE", "apiUsageState": "API_USAGE_STATE", "schedulerEvent": "SCHEDULER_EVENT",
}


def _resource(value) -> str:
    value = value.upper() if isinstance(value, str) else value  # the views take "device" too
    return value if isinstance(value, str) and value in RESOURCES else "ALL"


def _data(request) -> dict:
    try:
        data = request.data
    except Exception:  # a malformed body: the view answers the 400
        return {}
    return data if isinstance(data, dict) else {}


def queried_types(request) -> list[str]:
    """The entity types an entity query's filter reads (``ALL`` where the filter does not tell)."""
    flt = _data(request).get("entityFilter") if request is not None else None
    if not isinstance(flt, dict):
        return ["ALL"]
    kind = flt.get("type")
    if kind in _FILTER_TYPES:
        return [_FILTER_TYPES[kind]]
    if kind in ("entityType", "entityList", "entityName"):
        return [_resource(flt.get("entityType"))]
    if kind == "singleEntity":
        single = flt.get("singleEntity")
        return [_resource(single.get("entityType") if isinstance(single, dict) else None)]
    if kind == "entityGroup":
        return [_resource(flt.get("groupType"))]
    return ["ALL"]


def _type_of(ref) -> str:
    return _resource(ref.get("entityType") if isinstance(ref, dict) else None)


def _id_of(ref):
    return ref.get("id") if isinstance(ref, dict) else None


def relation_needs(request, method: str, ids: bool = False) -> list[tuple]:
    """(resource, operation) of both ends of a relation request; with ``ids`` (resource, operation, entity id
    or None) to check each end the request names (roles/group_access.py)."""
    found = _relation_ends(request, method)
    return found if ids else [(r, op) for r, op, _ in found]


def _relation_ends(request, method: str) -> list[tuple]:
    if request is None:
        return [("ALL", "WRITE" if method not in ("GET", "HEAD") else "READ", None)]
    params = request.query_params if hasattr(request, "query_params") else request.GET
    name = request.resolver_match.url_name
    if method in ("GET", "HEAD", "OPTIONS"):
        ends = [("from", "READ")] if params.get("fromId") else [("to", "READ")]
        if name == "relation":
            ends = [("from", "READ"), ("to", "READ")]
        return [(_resource(params.get(f"{end}Type")), op, params.get(f"{end}Id")) for end, op in ends]
    if method == "POST" and name in ("relations", "relations-info"):
        parameters = _data(request).get("parameters")
        parameters = parameters if isinstance(parameters, dict) else {}
        return [(_resource(parameters.get("rootType")), "READ", parameters.get("rootId"))]
    if method == "POST":
        body = _data(request)
        return [(_type_of(body.get(end)), "WRITE", _id_of(body.get(end))) for end in ("from", "to")]
    if name == "relations":
        return [(_resource(params.get("entityType")), "WRITE", params.get("entityId"))]
    return [(_resource(params.get(f"{end}Type")), "WRITE", params.get(f"{end}Id")) for end in ("from", "to")]


def body_id(request) -> str | None:
    """The ``id.id`` of a saved entity's body (None for a new one)."""
    raw = _data(request).get("id")
    raw = raw.get("id") if isinstance(raw, dict) else raw
    return str(raw) if raw else None
