"""The JSON of ThingsBoard's entity queries (EntityDataQuery, EntityCountQuery), checked and read
into plain objects. Anything malformed or outside what devices/queries supports is a
ValidationError (a 400 in ThingsBoard's error shape) that names the offending part."""

from dataclasses import dataclass, field

from rest_framework.exceptions import ValidationError

from devices.queries.predicates import MAX_PREDICATES, Predicate, count_predicates, in_items, parse_predicate
from tbproject.text import check_text

__all__ = ["Key", "KeyFilter", "SortOrder", "PageLink", "Query", "parse_query", "parse_key", "parse_page_link",
           "MAX_PAGE_SIZE", "MAX_KEY_FILTERS", "MAX_PREDICATES", "MAX_IN_ITEMS", "LATEST_TYPES", "ATTRIBUTE_TYPES",
           "ENTITY_FIELD"]

#: the largest page one query may ask for (the rest of this API's PageData endpoints share it)
MAX_PAGE_SIZE = 10000
#: the most keyFilters a query may have (ThingsBoard's filter editor makes a handful); the filters
#: on entity columns become one SQL condition, which SQLite nests at most 1000 deep
MAX_KEY_FILTERS = 100
#: the most IN / NOT_IN items (comma-separated values) a query's key filters hold in all: each is
#: an SQL parameter
MAX_IN_ITEMS = 1000
ENTITY_FIELD = "ENTITY_FIELD"
#: attribute key types and the scopes they read (ATTRIBUTE: the newest of any scope)
ATTRIBUTE_TYPES = {
    "ATTRIBUTE": ("CLIENT_SCOPE", "SHARED_SCOPE", "SERVER_SCOPE"),
    "CLIENT_ATTRIBUTE": ("CLIENT_SCOPE",),
    "SHARED_ATTRIBUTE": ("SHARED_SCOPE",),
    "SERVER_ATTRIBUTE": ("SERVER_SCOPE",),
}
LATEST_TYPES = ("TIME_SERIES", *ATTRIBUTE_TYPES)
KEY_TYPES = (ENTITY_FIELD, *LATEST_TYPES)
VALUE_TYPES = ("STRING", "NUMERIC", "BOOLEAN", "DATE_TIME")


@dataclass(frozen=True)
class Key:
    """An EntityKey: {type, key}."""

    type: str
    key: str

    @property
    def is_field(self) -> bool:
        return self.type == ENTITY_FIELD


@dataclass(frozen=True)
class KeyFilter:
    key: Key
    predicate: Predicate


@dataclass(frozen=True)
class SortOrder:
    key: Key
    descending: bool


@dataclass(frozen=True)
class PageLink:
    page_size: int
    page: int
    text_search: str
    sort: SortOrder | None


@dataclass
class Query:
    """An EntityDataQuery (or an EntityCountQuery: no page, fields or latest values)."""

    entity_filter: dict
    key_filters: list[KeyFilter] = field(default_factory=list)
    any_filter: bool = False  # keyFiltersOperation OR
    page: PageLink | None = None
    entity_fields: list[Key] = field(default_factory=list)
    latest_values: list[Key] = field(default_factory=list)


def _object(value, what: str) -> dict:
    if not isinstance(value, dict):
        raise ValidationError(f"'{what}' must be a JSON object")
    return value


def _list(value, what: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValidationError(f"'{what}' must be a JSON array")
    return value


def parse_key(raw, what: str, types=KEY_TYPES) -> Key:
    raw = _object(raw, what)
    kind, name = raw.get("type"), raw.get("key")
    if kind not in types:
        raise ValidationError(f"Unsupported key type in '{what}': {kind!s:.32}. Supported: {', '.join(types)}")
    if not isinstance(name, str) or not name:
        raise ValidationError(f"'{what}.key' must be a non-empty string")
    return Key(kind, name)


def _int(raw, what: str, *, minimum: int, maximum: int | None = None, default: int | None = None) -> int:
    if raw is None and default is not None:
        return default
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise ValidationError(f"'{what}' must be an integer")
    if raw < minimum or (maximum is not None and raw > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise ValidationError(f"'{what}' must be {bound}, got {raw}")
    return raw


def parse_page_link(raw) -> PageLink:
    raw = _object(raw, "pageLink")
    sort = raw.get("sortOrder")
    if sort is not None:
        sort = _object(sort, "pageLink.sortOrder")
        direction = sort.get("direction") or "ASC"
        if direction not in ("ASC", "DESC"):
            raise ValidationError(f"Invalid sort direction: {direction!s:.16}. Supported: ASC, DESC")
        sort = SortOrder(parse_key(sort.get("key"), "pageLink.sortOrder.key"), direction == "DESC")
    text = raw.get("textSearch")
    if text is not None and not isinstance(text, str):
        raise ValidationError("'pageLink.textSearch' must be a string")
    try:
        check_text(text or "")
    except ValueError as e:
        raise ValidationError(f"'pageLink.textSearch': {e}") from None
    return PageLink(page_size=_int(raw.get("pageSize"), "pageLink.pageSize", minimum=1, maximum=MAX_PAGE_SIZE),
                    page=_int(raw.get("page"), "pageLink.page", minimum=0, default=0),
                    text_search=(text or "").strip(), sort=sort)


def parse_key_filter(raw, index: int, resolve) -> KeyFilter:
    what = f"keyFilters[{index}]"
    raw = _object(raw, what)
    value_type = raw.get("valueType")
    if value_type is not None and value_type not in VALUE_TYPES:
        raise ValidationError(f"Unsupported valueType in '{what}': {value_type!s:.32}. Supported: "
                              f"{', '.join(VALUE_TYPES)}")
    return KeyFilter(parse_key(raw.get("key"), f"{what}.key"),
                     parse_predicate(raw.get("predicate"), f"{what}.predicate", resolve))


def parse_query(body, resolve, *, with_page: bool) -> Query:
    """Read an EntityDataQuery (``with_page``) or an EntityCountQuery. ``resolve(dynamicValue)``
    returns the value a predicate's dynamicValue names, or None (the defaultValue then applies)."""
    body = _object(body, "query")
    operation = body.get("keyFiltersOperation") or "AND"
    if operation not in ("AND", "OR"):
        raise ValidationError(f"Invalid keyFiltersOperation: {operation!s:.16}. Supported: AND, OR")
    filters = _list(body.get("keyFilters"), "keyFilters")
    if len(filters) > MAX_KEY_FILTERS:
        raise ValidationError(f"'keyFilters' has {len(filters)} filters, more than the {MAX_KEY_FILTERS} accepted")
    query = Query(
        entity_filter=_object(body.get("entityFilter"), "entityFilter"),
        key_filters=[parse_key_filter(f, i, resolve) for i, f in enumerate(filters)],
        any_filter=operation == "OR",
    )
    _check_size(query.key_filters)
    return _with_page(query, body) if with_page else query


def _check_size(key_filters: list[KeyFilter]) -> None:
    """At most :data:`MAX_PREDICATES` predicates and :data:`MAX_IN_ITEMS` IN / NOT_IN items in all."""
    predicates = sum(count_predicates(f.predicate) for f in key_filters)
    if predicates > MAX_PREDICATES:
        raise ValidationError(f"'keyFilters' hold {predicates} predicates (COMPLEX ones and those inside them "
                              f"included), more than the {MAX_PREDICATES} accepted")
    items = sum(in_items(f.predicate) for f in key_filters)
    if items > MAX_IN_ITEMS:
        raise ValidationError(f"'keyFilters' hold {items} IN / NOT_IN values, more than the {MAX_IN_ITEMS} "
                              "accepted")


def _with_page(query: Query, body: dict) -> Query:
    query.page = parse_page_link(body.get("pageLink"))
    query.entity_fields = [parse_key(k, f"entityFields[{i}]", (ENTITY_FIELD,))
                           for i, k in enumerate(_list(body.get("entityFields"), "entityFields"))]
    query.latest_values = [parse_key(k, f"latestValues[{i}]", LATEST_TYPES)
                           for i, k in enumerate(_list(body.get("latestValues"), "latestValues"))]
    return query
