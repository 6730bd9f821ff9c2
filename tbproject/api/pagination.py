"""ThingsBoard's PageData.

?pageSize&page&textSearch&sortProperty&sortOrder -> {data, totalPages, totalElements, hasNext}.
"""

import math
from dataclasses import dataclass

from rest_framework.exceptions import ValidationError

from tbproject.text import check_text

__all__ = ["PageRequest", "page_request", "page_data", "text_search"]

MAX_PAGE_SIZE = 10000


@dataclass(frozen=True)
class PageRequest:
    page_size: int
    page: int
    text_search: str
    sort_property: str | None
    sort_order: str


def _int_param(params, name: str, *, minimum: int, required: bool, default: int = 0) -> int:
    raw = params.get(name)
    if raw in (None, ""):
        if required:
            raise ValidationError(f"Required request parameter '{name}' is not present")
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError(f"Parameter '{name}' must be an integer, got '{raw:.32}'") from None
    if value < minimum:
        raise ValidationError(f"Parameter '{name}' must be >= {minimum}")
    return value


def text_search(params, name: str = "textSearch") -> str:
    """The search text of a list request, stripped; a clear 400 for one no database can compare
    (a NUL character or a lone surrogate: PostgreSQL refuses them as a 500 otherwise)."""
    value = (params.get(name) or "").strip()
    try:
        return check_text(value)
    except ValueError as e:
        raise ValidationError(f"Parameter '{name}': {e}") from None


def page_request(params) -> PageRequest:
    size = _int_param(params, "pageSize", minimum=1, required=True)
    if size > MAX_PAGE_SIZE:
        raise ValidationError(f"Parameter 'pageSize' must be <= {MAX_PAGE_SIZE}")
    order = (params.get("sortOrder") or "ASC").upper()
    if order not in ("ASC", "DESC"):
        raise ValidationError("Parameter 'sortOrder' must be ASC or DESC")
    return PageRequest(
        page_size=size,
        page=_int_param(params, "page", minimum=0, required=True),
        text_search=text_search(params),
        sort_property=params.get("sortProperty") or None,
        sort_order=order,
    )


def page_data(queryset, req: PageRequest, *, search_field: str, sort_fields: dict[str, str], render,
              search_lookup: str = "istartswith", lead: tuple = ()) -> dict:
    """Filter, sort and slice a queryset; ``render(list_of_objects)`` returns the JSON rows.

    ``search_lookup`` is how textSearch matches the name: "istartswith" (ThingsBoard's
    converters, integrations, groups) or "icontains" (4.x devices, assets, customers, profiles).
    ``lead``: orderings ahead of the requested sort (an owner's "All" entity group first).
    """
    if req.text_search:
        queryset = queryset.filter(**{f"{search_field}__{search_lookup}": req.text_search})
    if req.sort_property:
        field = sort_fields.get(req.sort_property)
        if field is None:
            allowed = ", ".join(sorted(sort_fields))
            raise ValidationError(f"Unsupported sortProperty '{req.sort_property:.64}'; use one of: {allowed}")
        prefix = "-" if req.sort_order == "DESC" else ""
        queryset = queryset.order_by(*lead, f"{prefix}{field}", f"{prefix}pk")
    total = queryset.count()
    start = req.page * req.page_size
    rows = list(queryset[start : start + req.page_size]) if start < total else []
    return {
        "data": render(rows),
        "totalPages": math.ceil(total / req.page_size),
        "totalElements": total,
        "hasNext": start + req.page_size < total,
    }
