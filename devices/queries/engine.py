"""Running entity queries: ``POST /api/entitiesQuery/find``, ``.../count`` and ``.../find/keys``.

Two plans, chosen per query:

- **In the database** when the filter selects one entity type and every key filter, the sort and
  the text search read entity columns: one query counts, one reads the page (with its joins), then
  one query per key family (time series, attributes) reads the page's latest values.
- **In Python** when a key filter or the sort reads a latest value or a computed field
  (ownerName, displayName...), or a relations query reaches several entity types. The candidates
  (the entities the filter selects, narrowed by what the database can apply) are loaded with the
  values the filters and sort need, at most :data:`MAX_CANDIDATES` of them: past that the query is
  a 400 that asks for a narrower entity filter, never a scan of a tenant's whole history.
"""

import math

from django.db.models import Q
from rest_framework.exceptions import ValidationError

from devices.models import Attribute
from devices.queries import entities, spec
from devices.queries.fields import NAME_COLUMN, column_of, field_text, field_value
from devices.queries.values import MISSING, attribute_keys, load_latest_of, timeseries_keys_of, value_text
from devices.values import as_text, decode
from tbproject.clock import now_ms

__all__ = ["find", "count", "find_keys", "key_page", "dynamic_resolver", "select_entities", "render_entities",
           "MAX_CANDIDATES", "MAX_KEYS_PAGE"]

#: the most entities a query filtered or sorted in Python may start from
MAX_CANDIDATES = 10000
#: find/keys reads the keys of at most this many entities (ThingsBoard caps its page the same way)
MAX_KEYS_PAGE = 100


def _resolver(user):
    """Reads a predicate's dynamicValue: a server attribute of the current user, customer or
    tenant (``inherit``: then of the owners above), as ThingsBoard does; None when unset."""
    owners = {"CURRENT_USER": [user.pk, user.customer_id, user.tenant_id],
              "CURRENT_CUSTOMER": [user.customer_id, user.tenant_id], "CURRENT_TENANT": [user.tenant_id]}

    def resolve(dynamic: dict, kind: str):
        source, name = dynamic.get("sourceType"), dynamic.get("sourceAttribute")
        chain = owners.get(source) if isinstance(source, str) else None
        if not chain or not isinstance(name, str):
            return None
        chain = [pk for pk in (chain if dynamic.get("inherit") is True else chain[:1]) if pk]
        stored = {row[0]: decode(*row[1:]) for row in Attribute.objects.filter(
            entity_id__in=chain, scope="SERVER_SCOPE", key=name).values_list("entity_id", "bool_v", "long_v",
                                                                             "dbl_v", "str_v", "json_v")}
        value = next((stored[pk] for pk in chain if pk in stored), None)
        if kind == "NUMERIC" and isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                return None
            return number if math.isfinite(number) else None  # "NaN", "1e999": unset, defaultValue applies
        return str(value) if kind == "STRING" and value is not None else value

    return resolve


def _db_condition(entity_type: str, key_filter) -> Q | None:
    """The filter as a database condition on this type's columns, or None (evaluated in Python)."""
    if not key_filter.key.is_field:
        return None
    column = column_of(entity_type, key_filter.key.key)
    return None if column is None else key_filter.predicate.q(column.path, numeric=column.numeric)


def _narrow(source, query) -> list:
    """Apply what the database can to ``source.rows``; returns the key filters left for Python."""
    conditions = [_db_condition(source.entity_type, f) for f in query.key_filters]
    if query.any_filter:
        if query.key_filters and all(c is not None for c in conditions):
            combined = Q()
            for condition in conditions:
                combined |= condition
            source.rows = source.rows.filter(combined)
            return []
        return list(query.key_filters)
    left = []
    for condition, key_filter in zip(conditions, query.key_filters, strict=True):
        if condition is None:
            left.append(key_filter)
        else:
            source.rows = source.rows.filter(condition)
    return left


def _prepare(user, query) -> tuple[list, list]:
    """(sources, key filters left for Python). Several entity types (a relations query) are
    filtered in Python only: a field may be a column of one type and computed for another."""
    sources = entities.resolve(user, query.entity_filter)
    # ThingsBoard drops a filter that sets no condition (an empty STRING value), under OR as well
    query.key_filters = [f for f in query.key_filters if not f.predicate.vacuous]
    if len(sources) == 1:
        return sources, _narrow(sources[0], query)
    return sources, list(query.key_filters)


def _searched_text(query) -> str:
    return query.page.text_search.lower() if query.page else ""


def _text_search(source, query) -> None:
    """textSearch in the database: a case-insensitive substring of the name or of a selected text
    field. (With latest values selected, :func:`_select` searches their text too, in Python.)"""
    text = _searched_text(query)
    if not text:
        return
    paths = {NAME_COLUMN[source.entity_type]}
    for key in query.entity_fields:
        column = column_of(source.entity_type, key.key)
        if column is not None and not column.numeric:
            paths.add(column.path)
    match = Q()
    for path in sorted(paths):
        match |= Q(**{f"{path}__icontains": text})
    source.rows = source.rows.filter(match)


def _text_matches(item, query, values, text: str) -> bool:
    """ThingsBoard's textSearch over every selected column: the name, the entity fields and the
    latest values, each as the answer renders it."""
    entity_type, row = item
    shown = [field_value(row, entity_type, key) for key in ("name", *(k.key for k in query.entity_fields))]
    shown += [value_text(values[(key, row.pk)][1]) for key in query.latest_values if (key, row.pk) in values]
    return any(isinstance(value, str) and text in value.lower() for value in shown)


def _db_order(source, sort) -> list[str] | None:
    if sort is None:
        return ["created_time", "pk"]
    column = column_of(source.entity_type, sort.key.key) if sort.key.is_field else None
    if column is None:
        return None
    prefix = "-" if sort.descending else ""
    return [f"{prefix}{column.path}", f"{prefix}pk"]


def _passes(item, left, values, any_filter: bool) -> bool:
    entity_type, row = item
    results = []
    for key_filter in left:
        if key_filter.predicate.vacuous:
            continue
        if key_filter.key.is_field:
            value = field_value(row, entity_type, key_filter.key.key)
            results.append(value is not None and key_filter.predicate.test(value, typed=False))
        else:
            stored = values.get((key_filter.key, row.pk))
            results.append(stored is not None and key_filter.predicate.test(stored[1], typed=True))
    if not results:
        return True
    return any(results) if any_filter else all(results)


def _sort_key(sort, values):
    """Ascending order as the database gives it (NULLs last): numbers, then text; DESC reverses."""
    def key(item):
        entity_type, row = item
        if sort.key.is_field:
            value = field_value(row, entity_type, sort.key.key)
            if isinstance(value, int | float):
                return (False, value, "")
            return (value is None, 0, "" if value is None else str(value))
        stored = values.get((sort.key, row.pk))
        value = None if stored is None else stored[1]
        if isinstance(value, bool):
            return (False, int(value), "")
        if isinstance(value, int | float):
            return (False, value, "")
        return (True, 0, "" if value is None else value if isinstance(value, str) else as_text(value))

    return key


def _candidates(sources) -> list[tuple[str, object]]:
    total = sum(source.rows.count() for source in sources)
    if total > MAX_CANDIDATES:
        raise ValidationError(
            f"This query filters or sorts {total} entities by latest values or computed fields, more than the "
            f"{MAX_CANDIDATES} this server evaluates at once; narrow the entityFilter (device type, name prefix, "
            "group) or sort by name or createdTime")
    return [(source.entity_type, row) for source in sources for row in source.rows.order_by("created_time", "pk")]


def _select(user, query) -> tuple[int, list]:
    """(total matching, the page's [(entity_type, row)]) for a parsed query with a page link."""
    sources, left = _prepare(user, query)
    text = _searched_text(query) if query.latest_values else ""
    if text and sum(source.rows.count() for source in sources) > MAX_CANDIDATES:
        text = ""  # too many to render in Python: names and text fields only, in the database
    for source in sources:
        if not text:
            _text_search(source, query)
    page, sort = query.page, query.page.sort
    start = page.page * page.page_size
    if not sources:
        return 0, []
    order = _db_order(sources[0], sort) if len(sources) == 1 else None
    if not left and order is not None and not text:
        rows = sources[0].rows
        total = rows.count()
        found = list(rows.order_by(*order)[start:start + page.page_size]) if start < total else []
        return total, [(sources[0].entity_type, row) for row in found]
    items = _candidates(sources)
    needed = [f.key for f in left if not f.key.is_field]
    if sort is not None and not sort.key.is_field:
        needed.append(sort.key)
    if text:
        needed += query.latest_values
    values = load_latest_of(items, needed)
    items = [item for item in items if _passes(item, left, values, query.any_filter)]
    if text:
        items = [item for item in items if _text_matches(item, query, values, text)]
    if sort is not None:
        items.sort(key=_sort_key(sort, values), reverse=sort.descending)
    return len(items), items[start:start + page.page_size]


def _render(items, query) -> list[dict]:
    now = now_ms()
    values = load_latest_of(items, query.latest_values)
    data = []
    for entity_type, row in items:
        latest: dict = {}
        if query.entity_fields:
            latest["ENTITY_FIELD"] = {k.key: {"ts": now, "value": field_text(row, entity_type, k.key)}
                                      for k in query.entity_fields}
        for key in query.latest_values:
            stored = values.get((key, row.pk))
            latest.setdefault(key.type, {})[key.key] = (
                {"ts": stored[0], "value": value_text(stored[1])} if stored else dict(MISSING))
        data.append({"entityId": {"entityType": entity_type, "id": str(row.pk)}, "latest": latest,
                     "timeseries": {}, "aggLatest": None})
    return data


def dynamic_resolver(user):
    """The ``resolve(dynamicValue)`` that spec.parse_query needs, for the current user."""
    return _resolver(user)


def select_entities(user, query) -> tuple[int, list]:
    """(total matching, the page's [(entity_type, row)]) for a parsed query with a page link, as
    find selects them; for queries that start from entities (rulechains' alarm data queries)."""
    return _select(user, query)


def render_entities(items, query) -> list[dict]:
    """The EntityData of ``items`` ([(entity_type, row)]) with the query's fields and latest values."""
    return _render(items, query)


def find(user, body) -> dict:
    """The PageData of EntityData for an EntityDataQuery."""
    query = spec.parse_query(body, _resolver(user), with_page=True)
    total, items = _select(user, query)
    size = query.page.page_size
    return {"data": _render(items, query), "totalPages": -(-total // size), "totalElements": total,
            "hasNext": (query.page.page + 1) * size < total}


def count(user, body) -> int:
    """How many entities an EntityCountQuery matches."""
    query = spec.parse_query(body, _resolver(user), with_page=False)
    sources, left = _prepare(user, query)
    if not left:
        return sum(source.rows.count() for source in sources)
    items = _candidates(sources)
    values = load_latest_of(items, [f.key for f in left if not f.key.is_field])
    return sum(1 for item in items if _passes(item, left, values, query.any_filter))


def key_page(user, body) -> tuple[int, list]:
    """(total matching, [(entity_type, row)] of the page) of a find/keys query, the page capped
    at :data:`MAX_KEYS_PAGE` entities."""
    query = spec.parse_query(body, _resolver(user), with_page=True)
    if query.page.page_size > MAX_KEYS_PAGE:
        query.page = spec.PageLink(MAX_KEYS_PAGE, query.page.page, query.page.text_search, query.page.sort)
    return _select(user, query)


def find_keys(user, body, *, timeseries: bool, attributes: bool, scope: str | None) -> dict:
    """AvailableEntityKeys of the first page (at most :data:`MAX_KEYS_PAGE` entities) the query finds."""
    _, items = key_page(user, body)
    ids = [row.pk for _, row in items]
    return {"entityTypes": sorted({entity_type for entity_type, _ in items}),
            "timeseries": timeseries_keys_of(items) if timeseries else [],
            "attribute": attribute_keys(ids, scope) if attributes else []}
