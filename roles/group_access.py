"""GROUP roles grant data access: a group permission (user group + GROUP role + entity group) gives the
user group's members the role's operations on the entities of that entity group.

For a customer user (its authority already reaches its customer's entities):

* :func:`shared_pks` is tenants/shared_rows.py's provider: ``Model.objects.for_user(user)`` also holds the
  members of the entity groups granted to it (and, for ``EntityGroup``, those groups themselves), so a
  device of a shared tenant group is found by id, listed by group, read over telemetry;
* :func:`group_allows` is asked by roles/enforcement.py for a request that names one entity: reached only
  through granted groups, the request's operation must be one of those groups' roles (READ granted: a
  write is 403);
* a model whose rows belong to another entity (``shared_through = ("originator_type", "originator_id")``:
  rulechains' alarms) shares the rows of the members of the groups whose roles grant READ (or ALL), and with
  ``shared_propagations = (reverse relation, type field, id field)`` also the rows listed for such a member (an
  alarm propagated to a shared entity: its EntityAlarm rows) that are the tenant's or the user's customer's (never
  another customer's), in the same query; a propagation grants READ only. Its views ask :func:`row_decides` (or
  :func:`user_may` / :func:`decides` for an entity) before a write, decided as before propagations were shared
  (ThingsBoard: an alarm's operations need the ALARM resource's operation on its originator, which for a group
  permission its group roles decide; the customer's own alarms: its authority and generic roles).

The granted groups come from the user's rights (roles/rights.py), cached per process like its generic
rights; a user with no GROUP grant costs nothing more than before.
"""

import uuid

from django.db.models import Q

from devices import group_types
from devices.models import EntityGroup
from roles.rights import rights_of
from tenants.choices import Authority

__all__ = ["shared_pks", "group_allows", "granted_groups", "user_may", "decides", "row_decides",
           "readable_by_groups", "unreadable"]


def granted_groups(rights, group_type: str) -> dict:
    """entity group id -> operations granted, for the groups of ``group_type``."""
    return {gid: ops for gid, (gtype, ops) in rights.groups.items() if gtype == group_type}


def _group_type_of(model) -> str | None:
    model = model._meta.concrete_model
    return next((t for t in group_types.member_types() if group_types.member_model(t) is model), None)


def shared_pks(user, model):
    if user.authority != Authority.CUSTOMER_USER:
        return None
    rights = rights_of(user)
    if not rights.groups:
        return None
    if model._meta.concrete_model is EntityGroup:
        return list(rights.groups)
    through = getattr(model, "shared_through", None)
    if through:
        return _shared_through(user, rights, model, *through)
    group_type = _group_type_of(model)
    granted = granted_groups(rights, group_type) if group_type else None
    if not granted:
        return None
    return EntityGroup.objects.filter(pk__in=list(granted)).values_list(f"{group_types.relation(group_type)}__pk",
                                                                         flat=True)


def _readable(ops) -> bool:
    return "ALL" in ops or "READ" in ops


def readable_by_groups(rights, entity_type: str):
    """The ids of the ``entity_type`` members of the groups granted with READ (or ALL), as a subquery; None
    when no such group is granted."""
    relation = group_types.relation(entity_type)
    granted = [gid for gid, ops in granted_groups(rights, entity_type).items() if _readable(ops)]
    if not relation or not granted:
        return None
    return EntityGroup.objects.filter(pk__in=granted).values(f"{relation}__pk")


def unreadable(user, entity_type: str, ids) -> set:
    """Of the ``entity_type`` entities ``ids`` a customer user sees, those it reaches only through shared groups
    whose roles grant no READ (their alarms are not its to read)."""
    if user.authority != Authority.CUSTOMER_USER:
        return set()
    rights = rights_of(user)
    blind = [gid for gid, ops in granted_groups(rights, entity_type).items() if not _readable(ops)]
    relation, model = group_types.relation(entity_type), group_types.member_model(entity_type)
    if not blind or not relation or model is None:
        return set()
    found = set(EntityGroup.objects.filter(pk__in=blind, **{f"{relation}__pk__in": list(ids)})
                .values_list(f"{relation}__pk", flat=True))
    readable = readable_by_groups(rights, entity_type)
    if found and readable is not None:
        found -= set(readable.filter(**{f"{relation}__pk__in": list(found)}).values_list(f"{relation}__pk", flat=True))
    lookup = model.customer_lookup
    if found and lookup:
        found -= set(model._default_manager.filter(pk__in=list(found), **{lookup: user.customer_id})
                     .values_list("pk", flat=True))
    return found


def _shared_through(user, rights, model, type_field: str, id_field: str):
    """The rows of ``model`` that belong to an entity the user reads through a granted group, or are listed for one
    (``shared_propagations``) when they are the tenant's or the user's customer's (never another customer's), as one
    pk subquery: a UNION of parts each found by its own index (``originator IN (...) OR pk IN (...)`` makes
    PostgreSQL scan the table twice; rulechains/alarms.of_entity). None: no granted group grants READ."""
    rows = model._default_manager.filter(tenant_id=user.tenant_id).order_by()
    spread = getattr(model, "shared_propagations", None)
    parts = []
    for entity_type in sorted({gtype for gtype, _ in rights.groups.values()}):
        members = readable_by_groups(rights, entity_type)
        if members is None:
            continue
        parts.append(rows.filter(**{type_field: entity_type, f"{id_field}__in": members}).values("pk"))
        if spread:
            relation, kind_field, pk_field = spread
            field = model._meta.get_field(relation)
            owner = f"{field.field.name}__{model.customer_lookup}"  # the row's customer (none: the tenant's)
            listed = field.related_model._default_manager.filter(
                Q(**{f"{owner}__isnull": True}) | Q(**{owner: user.customer_id}),
                tenant_id=user.tenant_id, **{kind_field: entity_type, f"{pk_field}__in": members})
            parts.append(listed.order_by().values(field.field.attname))
    if not parts:
        return None
    return parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]


def group_allows(user, rights, resource: str, operation: str, target) -> bool:
    """May ``user`` do ``operation`` on the ``resource`` entity ``target``? True where groups decide nothing
    (not a grouped entity, its own customer's, in no granted group: the view's lookup answers 404)."""
    return _decision(user, rights, resource, operation, target) is not False


def _decision(user, rights, resource: str, operation: str, target) -> bool | None:
    granted = granted_groups(rights, resource)
    model = group_types.member_model(resource) if granted else None
    if model is None or target is None:
        return None
    try:
        target = uuid.UUID(str(target))
    except ValueError:
        return None  # the view answers its 400
    relation = group_types.relation(resource)
    holding = list(EntityGroup.objects.filter(pk__in=list(granted), **{relation: target}).values_list("pk", flat=True))
    if not holding:
        return None
    lookup = model.customer_lookup
    if lookup and model._default_manager.filter(pk=target, tenant_id=user.tenant_id,
                                                **{lookup: user.customer_id}).exists():
        return None  # its own customer's: the authority decides, as before
    ops = {op for gid in holding for op in granted[gid]}
    return "ALL" in ops or operation in ops


def user_may(user, resource: str, operation: str, target) -> bool:
    """:func:`group_allows` for a view that checks itself (alarms: rulechains/): a customer user reaching
    ``target`` only through shared groups needs ``operation`` in their roles."""
    return decides(user, resource, operation, target) is not False


def decides(user, resource: str, operation: str, target) -> bool | None:
    """True or False where the groups shared with a customer user decide ``operation`` on the ``resource``
    entity ``target`` (it reaches the entity only through them); None where they decide nothing (a tenant
    administrator, the customer's own entity, an entity in no granted group)."""
    if user.authority != Authority.CUSTOMER_USER:
        return None
    rights = rights_of(user)
    return _decision(user, rights, str(resource).upper(), operation, target) if rights.groups else None


def row_decides(user, operation: str, row) -> bool | None:
    """:func:`decides` for a row of a model with ``shared_through`` (an alarm), for a write (a read is the
    queryset's): True or False where the groups shared with a customer user decide ``operation`` through the row's
    entity (the originator), as before propagations were shared. An entity it is listed for (``shared_propagations``)
    grants READ only: a row the user reaches only that way is refused every write (False), whatever that entity's
    groups grant. None where groups decide nothing (a tenant administrator, the customer's own row: its authority
    and generic roles decide; a row not reached through groups)."""
    if user.authority != Authority.CUSTOMER_USER:
        return None
    rights = rights_of(user)
    if not rights.groups:
        return None
    type_field, id_field = row.shared_through
    decision = _decision(user, rights, str(getattr(row, type_field)).upper(), operation, getattr(row, id_field))
    if decision is not None:
        return decision
    if getattr(row, "customer_id", None) == user.customer_id:
        return None  # its own customer's: its authority decides
    return False if _listed_ops(rights, row) is not None else None


def _listed_ops(rights, row) -> set | None:
    """The operations of the granted groups holding an entity ``row`` is listed for (``shared_propagations``); None
    when no granted group holds one. One query, and one per entity type with granted groups."""
    spread = getattr(type(row), "shared_propagations", None)
    if not spread:
        return None
    relation, kind_field, pk_field = spread
    targets: dict[str, list] = {}
    for kind, pk in getattr(row, relation).order_by().values_list(kind_field, pk_field):  # no join to order
        targets.setdefault(str(kind).upper(), []).append(pk)
    ops, found = set(), False
    for kind, ids in targets.items():
        granted, relation_name = granted_groups(rights, kind), group_types.relation(kind)
        if not granted or not relation_name:
            continue
        holding = EntityGroup.objects.filter(pk__in=list(granted), **{f"{relation_name}__pk__in": ids})
        for gid in holding.order_by().values_list("pk", flat=True).distinct():
            found = True
            ops.update(granted[gid])
    return ops if found else None
