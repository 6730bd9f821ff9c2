"""ThingsBoard's alarm data queries, what alarm widgets and scripts use to list the alarms of the
entities an entity filter finds:

    find(user, AlarmDataQuery)   -> PageData of AlarmData (AlarmInfo + entityId + latest)
    count(user, AlarmCountQuery) -> int

As ThingsBoard does, the entity query runs first (devices.queries: entityFilter, keyFilters,
entityFields, latestValues), over at most :data:`MAX_ENTITIES` entities in createdTime order (or in
the order of an entity field or latest value the page is sorted by); then the alarms of those
entities are filtered (time window, types, statuses, severities, textSearch over the selected
alarmFields) and paged in the database. Sorted by an alarm field, alarms follow that column;
otherwise they follow their entity's position in the entity order (newest alarm first within an
entity). Each AlarmData's ``latest`` is its entity's EntityData latest values.

With ``searchPropagatedAlarms``, an alarm is also listed for each entity the filter finds that it
propagates to (its EntityAlarm rows: parents along relations, its owner, the tenant; see
rulechains/alarm_propagation.py), ``entityId`` naming that entity (once per entity, as
ThingsBoard's entity_alarm rows do). ``assigneeId`` keeps the alarms of one assignee.

Scoping comes from the entity filter: only entities the user sees are found (a customer user's
are its customer's), and only alarms of the caller's tenant raised on them are read; alarms
propagated to them are a customer user's only when they are of its customer or it reads them
through a shared group (``Alarm.objects.for_user``). An entity a customer user reaches through a
shared group whose roles grant no READ lists no alarm (roles/group_access.py).
"""

from django.db.models import Case, CharField, F, IntegerField, OuterRef, Q, Subquery, TextField, Value, When
from django.db.models.functions import Cast, Coalesce
from rest_framework.exceptions import ValidationError

from devices import queries
from devices.models import Asset, Device, EntityView
from devices.queries import spec
from roles import group_access
from rulechains import alarms
from rulechains.models import Alarm
from tbproject.api.ids import entity_id, parse_uuid
from tbproject.clock import now_ms
from tenants.choices import Authority
from tenants.models import Customer

__all__ = ["find", "count", "MAX_ENTITIES", "MAX_LIST"]

#: the most entities one alarm query reads alarms of (ThingsBoard caps it too, per subscription)
MAX_ENTITIES = 1000
#: the longest typeList / statusList / severityList accepted
MAX_LIST = 100
ALARM_FIELD = "ALARM_FIELD"
SEARCH_STATUSES = ("ANY", "ACTIVE", "CLEARED", "ACK", "UNACK")
#: AlarmSearchStatus -> the (cleared, acknowledged) states it admits
_STATES = {"ACTIVE": {(False, False), (False, True)}, "CLEARED": {(True, False), (True, True)},
           "ACK": {(False, True), (True, True)}, "UNACK": {(False, False), (True, False)}}
_STATUS_NAMES = {(c, a): f"{'CLEARED' if c else 'ACTIVE'}_{'ACK' if a else 'UNACK'}" for c in (False, True)
                 for a in (False, True)}


def _name_of(model, column: str) -> Subquery:
    return Subquery(model.objects.filter(pk=OuterRef("originator_id")).values(column)[:1])


def _originator(column: str, customer_column: str, default):
    views = [_name_of(EntityView, column)] if column == "name" else []  # an entity view has no label
    return Coalesce(_name_of(Device, column), _name_of(Asset, column), *views, _name_of(Customer, customer_column),
                    default, output_field=CharField())


#: ALARM_FIELD name -> the expression it sorts and searches by (None: no such column here, always empty)
_COLUMNS = {
    "createdTime": F("created_time"), "ackTs": F("ack_ts"), "ackTime": F("ack_ts"), "clearTs": F("clear_ts"),
    "clearTime": F("clear_ts"), "endTs": F("end_ts"), "endTime": F("end_ts"), "startTs": F("start_ts"),
    "startTime": F("start_ts"), "type": F("type"), "severity": F("severity"), "originatorType": F("originator_type"),
    "originatorId": F("originator_id"), "details": Cast("details", TextField()),
    "originator": F("originator_name"), "originatorLabel": F("originator_label"), "status": None,
    "assignTime": F("assign_ts"), "assignTs": F("assign_ts"), "assigneeId": F("assignee_id"),
    "assigneeFirstName": F("assignee__first_name"), "assigneeLastName": F("assignee__last_name"),
    "assigneeEmail": F("assignee__email"),
}


def _list(raw, what: str, allowed=None) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
        raise ValidationError(f"'{what}' must be a JSON array of strings")
    if len(raw) > MAX_LIST:
        raise ValidationError(f"'{what}' has {len(raw)} entries, more than the {MAX_LIST} accepted")
    bad = [v for v in raw if allowed is not None and v not in allowed]
    if bad:
        raise ValidationError(f"Invalid {what} value: {bad[0]:.32}. Supported: {', '.join(allowed)}")
    return raw


def _array(value, what: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValidationError(f"'{what}' must be a JSON array")
    return value


def _ms(raw, what: str) -> int:
    if raw is None:
        return 0
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
        raise ValidationError(f"'{what}' must be a non-negative integer (milliseconds)")
    return raw


def _flag(raw, what: str) -> bool:
    if raw is not None and not isinstance(raw, bool):
        raise ValidationError(f"'{what}' must be true or false")
    return raw is True


def _states(statuses: list[str]) -> set | None:
    """The (cleared, acknowledged) states the statusList admits (their union, as ThingsBoard
    reads it), or None when it admits every state (ANY, empty, or all four)."""
    found: set = set()
    for status in statuses:
        if status == "ANY":
            return None
        found |= _STATES[status]
    return None if not found or len(found) == 4 else found


def _alarm_filter(raw: dict, prefix: str) -> tuple[Q, bool]:
    """The condition on alarms of a page link (or count query): time, types, statuses, severities;
    and whether alarms propagated to the entities are searched too."""
    window = _ms(raw.get("timeWindow"), f"{prefix}timeWindow")
    start, end = _ms(raw.get("startTs"), f"{prefix}startTs"), _ms(raw.get("endTs"), f"{prefix}endTs")
    if window > 0:
        end = now_ms()
        start = end - window
    condition = Q()
    if start > 0:
        condition &= Q(created_time__gte=start)
    if end > 0:
        condition &= Q(created_time__lte=end)
    types = _list(raw.get("typeList"), f"{prefix}typeList")
    if types:
        condition &= Q(type__in=types)
    severities = _list(raw.get("severityList"), f"{prefix}severityList", alarms.SEVERITIES)
    if severities:
        condition &= Q(severity__in=severities)
    states = _states(_list(raw.get("statusList"), f"{prefix}statusList", SEARCH_STATUSES))
    if states is not None:
        either = Q(pk__in=[])
        for cleared, acknowledged in sorted(states):
            either |= Q(cleared=cleared, acknowledged=acknowledged)
        condition &= either
    propagated = _flag(raw.get("searchPropagatedAlarms"), f"{prefix}searchPropagatedAlarms")
    assignee = raw.get("assigneeId")
    if assignee is not None:
        if not isinstance(assignee, dict):
            raise ValidationError(f"'{prefix}assigneeId' must be a user id object {{entityType, id}}")
        condition &= Q(assignee_id=parse_uuid(assignee.get("id")))
    return condition, propagated


def _sort(raw) -> spec.SortOrder | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ValidationError("'pageLink.sortOrder' must be a JSON object")
    direction = raw.get("direction") or "ASC"
    if direction not in ("ASC", "DESC"):
        raise ValidationError(f"Invalid sort direction: {direction!s:.16}. Supported: ASC, DESC")
    key = spec.parse_key(raw.get("key"), "pageLink.sortOrder.key", (ALARM_FIELD, spec.ENTITY_FIELD,
                                                                     *spec.LATEST_TYPES))
    if key.type == ALARM_FIELD and key.key not in _COLUMNS:
        raise ValidationError(f"Unsupported alarm field to sort by: {key.key:.48}. Supported: {', '.join(_COLUMNS)}")
    return spec.SortOrder(key, direction == "DESC")


def _entities(user, query: spec.Query, sort: spec.SortOrder | None) -> list:
    """[(entity_type, row)] of the first :data:`MAX_ENTITIES` entities the query finds, in order."""
    if sort is None or sort.key.type == ALARM_FIELD:
        sort = spec.SortOrder(spec.Key(spec.ENTITY_FIELD, "createdTime"), False)
    query.page = spec.PageLink(MAX_ENTITIES, 0, "", sort)
    return queries.select_entities(user, query)[1]


def _parts(user, items, propagated: bool) -> list[tuple[object, str]]:
    """[(alarms, the column naming the entity each is listed for)]: the entities' own alarms, and
    with ``propagated`` those propagated to them (one row per alarm and entity)."""
    base = Alarm.objects.filter(tenant_id=user.tenant_id).order_by()
    ids = [row.pk for _, row in items]
    if user.authority == Authority.CUSTOMER_USER:  # an entity shared by a group role without READ: no alarms
        blind = set().union(*(group_access.unreadable(user, kind, [row.pk for k, row in items if k == kind])
                              for kind in {k for k, _ in items}))
        ids = [pk for pk in ids if pk not in blind]
    parts = [(base.filter(originator_id__in=ids), "originator_id")]
    if not propagated:
        return parts
    spread = base.filter(propagations__entity_id__in=ids, propagations__tenant_id=user.tenant_id)
    if user.authority == Authority.CUSTOMER_USER:  # its customer's, and those it reads through shared groups
        spread = spread.filter(pk__in=Alarm.objects.for_user(user).order_by().values("pk"))
    return [*parts, (spread, "propagations__entity_id")]


def _named(rows, column: str):
    return rows.annotate(entity=F(column), originator_name=_originator("name", "title", Value("Deleted")),
                         originator_label=_originator("label", "title", Value("")))


def _text_search(rows, fields: list[spec.Key], text: str):
    """ThingsBoard's textSearch: a case-insensitive substring of any selected alarm field."""
    if not text or not fields:
        return rows
    text = text.lower()
    match = Q(pk__in=[])
    for name in dict.fromkeys(k.key for k in fields):
        if name == "status":
            states = [state for state, label in _STATUS_NAMES.items() if text in label.lower()]
            for cleared, acknowledged in states:
                match |= Q(cleared=cleared, acknowledged=acknowledged)
        elif _COLUMNS.get(name) is not None:
            alias = f"search_{name}"
            rows = rows.annotate(**{alias: Cast(_COLUMNS[name], CharField())})
            match |= Q(**{f"{alias}__icontains": text})
    return rows.filter(match)


def _sortable(rows, sort: spec.SortOrder | None, items):
    """Annotate what the page is sorted by (before a union: every part needs the same columns)."""
    if sort is not None and sort.key.type == ALARM_FIELD:
        expression = _COLUMNS[sort.key.key]
        return rows if expression is None or sort.key.key == "status" else rows.annotate(sort_value=expression)
    priority = Case(*(When(entity=row.pk, then=Value(i)) for i, (_, row) in enumerate(items)),
                    default=Value(len(items)), output_field=IntegerField())
    return rows.annotate(priority=priority)


def _ordering(sort: spec.SortOrder | None) -> list:
    if sort is None or sort.key.type != ALARM_FIELD:
        return ["priority", "-created_time", "-id"]  # the entities' order, newest alarm first
    prefix = "-" if sort.descending else ""
    if sort.key.key == "status":  # ThingsBoard sorts the status text: ACTIVE_ACK < ACTIVE_UNACK < CLEARED_...
        return [f"{prefix}cleared", f"{'' if prefix else '-'}acknowledged", f"{prefix}id"]
    if _COLUMNS[sort.key.key] is None:
        return ["-created_time", "-id"]
    # NULLs (an unassigned alarm's assignee fields) as PostgreSQL, ThingsBoard's database, puts
    # them: last ascending, first descending; SQLite would put them the other way
    value = F("sort_value").desc(nulls_first=True) if sort.descending else F("sort_value").asc(nulls_last=True)
    return [value, f"{prefix}created_time", f"{prefix}id"]


def _page_link(raw) -> tuple[spec.PageLink, dict]:
    if not isinstance(raw, dict):
        raise ValidationError("'pageLink' must be a JSON object")
    page = spec.parse_page_link({k: v for k, v in raw.items() if k != "sortOrder"})
    return spec.PageLink(page.page_size, page.page, page.text_search, _sort(raw.get("sortOrder"))), raw


def _render(page_rows, items, query: spec.Query) -> list[dict]:
    by_pk = {row.pk: (kind, row) for kind, row in items}
    shown = [by_pk[pk] for pk in dict.fromkeys(a.entity for a in page_rows) if pk in by_pk]
    latest = {data["entityId"]["id"]: data["latest"] for data in queries.render_entities(shown, query)}
    names = alarms.originator_names(page_rows)
    data = []
    for alarm in page_rows:
        kind = by_pk[alarm.entity][0] if alarm.entity in by_pk else alarm.originator_type
        data.append({**alarms.alarm_json(alarm, names), "entityId": entity_id(kind, alarm.entity),
                     "latest": latest.get(str(alarm.entity), {})})
    return data


def find(user, body) -> dict:
    """The PageData of AlarmData for an AlarmDataQuery."""
    query = spec.parse_query(body, queries.dynamic_resolver(user), with_page=False)
    page, raw_link = _page_link(body.get("pageLink"))
    query.entity_fields = [spec.parse_key(k, f"entityFields[{i}]", (spec.ENTITY_FIELD,))
                           for i, k in enumerate(_array(body.get("entityFields"), "entityFields"))]
    query.latest_values = [spec.parse_key(k, f"latestValues[{i}]", spec.LATEST_TYPES)
                           for i, k in enumerate(_array(body.get("latestValues"), "latestValues"))]
    alarm_fields = [spec.parse_key(k, f"alarmFields[{i}]", (ALARM_FIELD,))
                    for i, k in enumerate(_array(body.get("alarmFields"), "alarmFields"))]
    condition, propagated = _alarm_filter(raw_link, "pageLink.")
    items = _entities(user, query, page.sort)
    if not items:
        return {"data": [], "totalPages": 0, "totalElements": 0, "hasNext": False}
    parts = [_sortable(_text_search(_named(rows.filter(condition), column), alarm_fields, page.text_search),
                      page.sort, items) for rows, column in _parts(user, items, propagated)]
    total = sum(rows.count() for rows in parts)
    rows = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    start = page.page * page.page_size
    page_rows = list(rows.order_by(*_ordering(page.sort))[start:start + page.page_size]) if start < total else []
    return {"data": _render(page_rows, items, query), "totalPages": -(-total // page.page_size),
            "totalElements": total, "hasNext": start + page.page_size < total}


def count(user, body) -> int:
    """How many alarms an AlarmCountQuery matches."""
    query = spec.parse_query(body, queries.dynamic_resolver(user), with_page=False)
    condition, propagated = _alarm_filter(body, "")
    items = _entities(user, query, None)
    if not items:
        return 0
    return sum(rows.filter(condition).count() for rows, _ in _parts(user, items, propagated))
