"""ThingsBoard PE's "All" entity groups: every owner (the tenant, each customer) has one group named "All" per
type of DEVICE, ASSET and ENTITY_VIEW (``EntityGroup.group_all``, ``groupAll: true`` in the JSON) holding every
entity the owner owns.

Design: real membership rows, kept where entities are created and where they change owner, so that everything
reading members (``group.members``, ``entity.groups``, the membership tables: the group member endpoints, the
entity data query filter ``entityGroup``, roles/group_access.py's group permissions, the rule engine's group
nodes, transfer/) sees the "All" groups' members without knowing about them.

* An owner gets its groups when made (:func:`ensure_owner`: post_save of Tenant and Customer, devices/signals.py;
  existing owners by the data migration devices/0015, which calls :func:`ensure_all` and :func:`fill`).
* An entity joins its owner's "All" group when created: :func:`join` (one INSERT ... SELECT for a whole batch,
  whatever its size: post_save for rows saved one at a time, devices/provisioning.py after its bulk INSERT).
* An owner change (a save with another ``customer``) leaves the former owner's groups, "All" included, and
  joins the new owner's "All" (devices/group_owners.py calls :func:`join`). A deleted customer's entities become
  the tenant's (``on_delete=SET_NULL``, no save): they join the tenant's "All" (:func:`owned` read before the
  delete, :func:`join_owned` after it: devices/signals.py).
* The group is not renamed nor deleted, and no member is added or removed by hand: :func:`refuse` raises the
  400 the API answers to ``addEntities`` and ``deleteEntities`` (and to a rename or a delete). A save naming it in
  ``entityGroupId`` and the owner endpoints naming it answer 200: the entity is its member already (the save
  joined it to its owner's "All"). The rule engine's "add to group" and "remove from group" nodes and
  auto-provisioning's ``groupName`` treat it as ThingsBoard does: nothing to do (its members are already there).
* Every join sends devices/membership.py's ``group_members_changed`` with the pairs inserted (``RETURNING``, only
  when a receiver listens); the data migration sends nothing.

User groups' "All" (roles/defaults.py, by name) stay roles/'s; dashboards have no single owner here and no
"All" group.
"""

import uuid

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Exists, OuterRef, Q, Subquery
from django.db.models.lookups import IsNull
from rest_framework.exceptions import ValidationError

from devices import membership

__all__ = ["ALL", "ALL_TYPES", "MODELS", "ensure_owner", "ensure_all", "remove_all", "join", "fill", "owned",
           "join_owned", "refuse", "is_all", "all_group_of"]

ALL = "All"
#: group types that have an "All" group -> (model label, field of the membership table)
MODELS = {"DEVICE": ("devices.Device", "device"), "ASSET": ("devices.Asset", "asset"),
          "ENTITY_VIEW": ("devices.EntityView", "entityview")}
ALL_TYPES = tuple(MODELS)
_DESCRIPTION = "Every {kind} of the {owner}"
_MESSAGES = {
    "rename": "Entity group 'All' can't be renamed!",
    "delete": "Entity group 'All' can't be deleted!",
    "add": "Entities can't be added to the entity group 'All': it holds every entity of its owner!",
    "remove": "Entities can't be removed from the entity group 'All': it holds every entity of its owner!",
}


def is_all(group) -> bool:
    return bool(getattr(group, "group_all", False))


def refuse(group, action: str) -> None:
    """Raise ThingsBoard's 400 when ``action`` ("rename", "delete", "add", "remove") targets an "All" group."""
    if is_all(group):
        raise ValidationError(_MESSAGES[action])


def _rows(tenant_id, customer_id, EntityGroup) -> list:
    owner = "customer" if customer_id else "tenant"
    return [EntityGroup(tenant_id=tenant_id, customer_id=customer_id, type=kind, name=ALL, group_all=True,
                        description=_DESCRIPTION.format(kind=kind.lower().replace("_", " "), owner=owner))
            for kind in ALL_TYPES]


def ensure_owner(tenant_id, customer_id=None, EntityGroup=None, *, new: bool = False) -> None:
    """Make the owner's "All" groups (one INSERT). ``new``: the owner was just inserted in this transaction, so
    none can exist; else the unique (owner, type, name) constraints keep what exists (:func:`ensure_all` first
    renames a user's own group named "All")."""
    EntityGroup = EntityGroup or _model("devices.EntityGroup")
    EntityGroup.objects.bulk_create(_rows(tenant_id, customer_id, EntityGroup), ignore_conflicts=not new)


def ensure_all(EntityGroup, Tenant, Customer) -> int:
    """The data migration's first half: every owner's "All" groups. A group a user made with the name "All" is
    renamed "All (own)" (its members and permissions stay its own: making it the owner's "All" would widen what
    its permissions grant). Returns how many user groups were renamed."""
    taken = EntityGroup.objects.filter(name=ALL, type__in=ALL_TYPES, group_all=False)
    renamed = 0
    for group in taken:
        group.name = _free_name(EntityGroup, group)
        group.save(update_fields=["name"])
        renamed += 1
    rows = [g for tenant_id in Tenant.objects.values_list("pk", flat=True) for g in _rows(tenant_id, None, EntityGroup)]
    rows += [g for tenant_id, pk in Customer.objects.values_list("tenant_id", "pk") for g in
             _rows(tenant_id, pk, EntityGroup)]
    EntityGroup.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    return renamed


def remove_all(EntityGroup) -> int:
    """The data migration going back (before its column goes): delete every "All" group (their membership rows go
    with them), so that going forward again makes them anew instead of renaming them "All (own)"."""
    return EntityGroup.objects.filter(group_all=True).delete()[0]


def _free_name(EntityGroup, group) -> str:
    siblings = EntityGroup.objects.filter(tenant_id=group.tenant_id, customer_id=group.customer_id, type=group.type)
    name, n = "All (own)", 1
    while siblings.filter(name=name).exists():
        n += 1
        name = f"All (own {n})"
    return name


def _model(label: str):
    from django.apps import apps

    return apps.get_model(label)


def _candidates(group_type: str, entities_query, EntityGroup, through, member: str):
    """(group id, entity id) of the ``entities_query`` rows not yet in their owner's "All" group, as a query."""
    all_group = EntityGroup.objects.filter(
        Q(customer_id=OuterRef("customer_id")) | (Q(customer_id=None) & IsNull(OuterRef("customer_id"), True)),
        tenant_id=OuterRef("tenant_id"), type=group_type, group_all=True).order_by().values("pk")[:1]
    return (entities_query.order_by().annotate(all_group=Subquery(all_group)).filter(all_group__isnull=False)
            .exclude(Exists(through.objects.filter(entitygroup_id=OuterRef("all_group"),
                                                   **{f"{member}_id": OuterRef("pk")})))
            .values_list("all_group", "pk"))


def _insert_select(group_type: str, entities_query, EntityGroup=None, *, returning: bool = False):
    """One ``INSERT INTO <membership> SELECT``: each entity of ``entities_query`` joins its owner's "All". Returns
    how many joined, or with ``returning`` the (group id, entity id) pairs inserted (``RETURNING``: no more
    queries, PostgreSQL and SQLite alike)."""
    EntityGroup = EntityGroup or _model("devices.EntityGroup")
    member = MODELS[group_type][1]
    relation = {"DEVICE": "devices", "ASSET": "assets", "ENTITY_VIEW": "entity_views"}[group_type]
    through = EntityGroup._meta.get_field(relation).remote_field.through
    try:  # Django 5.2 selects values_list()'s columns in the order named, annotations too: (group, member)
        sql, params = _candidates(group_type, entities_query, EntityGroup, through, member).query.sql_with_params()
    except EmptyResultSet:
        return [] if returning else 0
    quote = connection.ops.quote_name
    columns = ", ".join(quote(through._meta.get_field(f).column) for f in ("entitygroup", member))
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {quote(through._meta.db_table)} ({columns}) {sql}"
                       + (f" RETURNING {columns}" if returning else ""), params)
        if returning:
            return [(_uuid(group), _uuid(entity)) for group, entity in cursor.fetchall()]
        return cursor.rowcount


def _uuid(value):
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))  # SQLite: hex text


def _join_sending(group_type: str, entities_query, tenant_of) -> int:
    """:func:`_insert_select` of live rows, sending the pairs it inserted as devices/membership.py's
    ``group_members_changed`` when someone listens (``tenant_of``: entity id -> tenant id)."""
    if not membership.listened(group_type):
        return _insert_select(group_type, entities_query)
    pairs = _insert_select(group_type, entities_query, returning=True)
    by_tenant: dict = {}
    for pair in pairs:
        by_tenant.setdefault(tenant_of(pair[1]), []).append(pair)
    for tenant_id, some in by_tenant.items():
        membership.send(tenant_id, group_type, membership.ADDED, some)
    return len(pairs)


def join(group_type: str, entities, *, tell: bool = True) -> int:
    """``entities`` (rows of one model, saved) join their owners' "All" groups: one query whatever their number.
    A device that joins an "All" group with an OTA package is told its package here (``tell``: more queries, only
    when a device group of its tenant has a package); provisioning passes False, as devices/ota/signals.py's
    ``devices_created``, which it calls after this, tells its new devices their package, groups included."""
    entities = list(entities)
    if not entities or group_type not in MODELS:
        return 0
    model = _model(MODELS[group_type][0])
    query = model._default_manager.filter(pk__in=[e.pk for e in entities])
    tenants = {e.pk: e.tenant_id for e in entities}
    if group_type == "DEVICE" and tell:
        from devices.ota import signals as ota_signals

        if any(ota_signals.tenant_has_group_packages(t) for t in set(tenants.values())):
            from devices.ota import updates

            added = []
            updates.refresh(query, lambda: added.append(_join_sending("DEVICE", query, tenants.get)))
            return added[0]
    return _join_sending(group_type, query, tenants.get)


def fill(tenant_id=None, EntityGroup=None, models=None) -> int:
    """Every entity (of ``tenant_id``, else of every tenant) missing from its owner's "All" group joins it, set
    based: the data migration (historical models: nothing is sent)."""
    total = 0
    for group_type, (label, _) in MODELS.items():
        model = (models or {}).get(group_type) or _model(label)
        query = model._default_manager.all() if tenant_id is None else model._default_manager.filter(
            tenant_id=tenant_id)
        total += _insert_select(group_type, query, EntityGroup)
    return total


def owned(customer) -> dict:
    """{group type: [entity id, ...]} of the entities ``customer`` owns (read before it is deleted): one query."""
    from django.db.models import CharField, Value

    queries = [_model(label)._default_manager.filter(customer_id=customer.pk).order_by()
               .values_list("pk", Value(group_type, output_field=CharField()))
               for group_type, (label, _) in MODELS.items()]
    found: dict = {}
    for pk, group_type in queries[0].union(*queries[1:], all=True):
        found.setdefault(group_type, []).append(pk)
    return found


def join_owned(tenant_id, owned_ids: dict) -> int:
    """The entities of ``owned_ids`` (:func:`owned` of a deleted customer: the tenant's now, ``SET_NULL``, no
    save) join the tenant's "All" groups: one INSERT ... SELECT per type they have, whatever the tenant's other
    entities."""
    total = 0
    for group_type, ids in owned_ids.items():
        query = _model(MODELS[group_type][0])._default_manager.filter(tenant_id=tenant_id, pk__in=ids)
        total += _join_sending(group_type, query, lambda _: tenant_id)
    return total


def all_group_of(entity, group_type: str):
    """The "All" group of ``entity``'s owner, or None."""
    from devices.models import EntityGroup

    return EntityGroup.objects.filter(tenant_id=entity.tenant_id, customer_id=entity.customer_id, type=group_type,
                                      group_all=True).first()
