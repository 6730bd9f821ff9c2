"""What happens to edges: recording events, assigning and unassigning, a new edge's rule chains, sync.

Every assignment change and every change of an assigned entity becomes an EdgeEvent in the edge's queue
(ThingsBoard's EdgeEventType/EdgeEventActionType names); ``sync`` queues ADDED for everything assigned.
"""

from django.db import transaction
from django.db.models import F, OuterRef, Subquery
from rest_framework.exceptions import ValidationError

from edges import conf
from edges.models import Edge, EdgeAssignment, EdgeEvent, EdgeRuleChainFlags
from rulechains.models import RuleChain, RuleChainType
from tbproject.clock import now_ms
from tenants.models import Tenant

__all__ = ["record", "record_many", "prune_events", "lock_flags",
           "assign", "unassign", "set_root", "set_up_new_edge", "sync", "edge_template_root",
           "auto_assign_chains", "ASSIGNED", "UNASSIGNED", "ADDED", "UPDATED", "DELETED"]

ADDED, UPDATED, DELETED = "ADDED", "UPDATED", "DELETED"
ASSIGNED, UNASSIGNED = "ASSIGNED_TO_EDGE", "UNASSIGNED_FROM_EDGE"
EDGE_ROOT_NAME = "Edge Root Rule Chain"


def _last_seq():
    return Subquery(EdgeEvent.objects.filter(edge=OuterRef("pk")).order_by("-seq_id").values("seq_id")[:1])


def record_many(events) -> list[EdgeEvent]:
    """Append ``events`` (unsaved EdgeEvents, ``edge_id`` set) to their edges' queues, each numbered after its
    edge's last one, in order: the edges' rows locked and their last seqIds read in one query, one INSERT.
    Concurrent writers of one edge wait for each other (and (edge, seq_id) is unique besides)."""
    events = list(events)
    if not events:
        return []
    with transaction.atomic(savepoint=False):
        edge_ids = sorted({e.edge_id for e in events})  # one lock order for every writer: no deadlock
        last = dict(Edge.objects.select_for_update().filter(pk__in=edge_ids).order_by("pk")
                    .annotate(last=_last_seq()).values_list("pk", "last"))
        events = [e for e in events if e.edge_id in last]  # an edge deleted meanwhile: nothing to queue
        for event in events:
            last[event.edge_id] = event.seq_id = (last[event.edge_id] or 0) + 1
        return EdgeEvent.objects.bulk_create(events)


def record(edge: Edge, event_type: str, action: str, entity_id=None, body=None, group_id=None) -> EdgeEvent | None:
    """Append one event to the edge's queue, numbered after the edge's last one."""
    made = record_many([EdgeEvent(tenant_id=edge.tenant_id, edge_id=edge.pk, type=event_type, action=action,
                                  entity_id=entity_id, body=body, entity_group_id=group_id)])
    return made[0] if made else None


def prune_events(now: int | None = None) -> int:
    """Events older than EDGE_EVENTS_TTL_DAYS go (0 days: none), but each edge's newest one, so that its
    numbering goes on; how many were deleted."""
    days = conf.events_ttl_days()
    if days <= 0:
        return 0
    cutoff = (now_ms() if now is None else now) - days * 86_400_000
    newest = EdgeEvent.objects.filter(edge=OuterRef("edge")).order_by("-seq_id").values("seq_id")[:1]
    return EdgeEvent.objects.filter(created_time__lt=cutoff, seq_id__lt=Subquery(newest)).order_by().delete()[0]


def assign(edge: Edge, entity_type: str, entity_id, group_type: str = "") -> bool:
    """Assign (idempotent, as ThingsBoard's); True when it was not assigned yet."""
    with transaction.atomic():
        _, created = EdgeAssignment.objects.get_or_create(
            edge=edge, entity_type=entity_type, entity_id=entity_id,
            defaults={"tenant_id": edge.tenant_id, "group_type": group_type})
        if created:
            record(edge, entity_type, ASSIGNED, entity_id)
    return created


def unassign(edge: Edge, entity_type: str, entity_id) -> None:
    """Unassign; 400 when not assigned, and for the edge's root rule chain (ThingsBoard's refusal)."""
    if entity_type == "RULE_CHAIN" and edge.root_rule_chain_id == entity_id:
        raise ValidationError("Can't unassign root rule chain from edge!")
    with transaction.atomic():
        deleted, _ = EdgeAssignment.objects.filter(edge=edge, entity_type=entity_type, entity_id=entity_id).delete()
        if not deleted:
            raise ValidationError(f"{_title(entity_type)} isn't assigned to edge [{edge.name}]!")
        record(edge, entity_type, UNASSIGNED, entity_id)


def set_root(edge: Edge, chain: RuleChain) -> Edge:
    """Make ``chain`` (of type EDGE) the edge's root, assigning it first when it is not."""
    if chain.type != RuleChainType.EDGE:
        raise ValidationError("Rule chain type must be EDGE to be set as edge root!")
    with transaction.atomic():
        assign(edge, "RULE_CHAIN", chain.pk)
        edge.root_rule_chain = chain
        edge.save(update_fields=["root_rule_chain", "version"])
    return edge


def lock_flags(tenant_id) -> None:
    """Inside a transaction: the tenant's edge flags change one writer at a time. A no-op UPDATE of the tenant's
    row: PostgreSQL locks it (NO KEY UPDATE: rows referencing the tenant may still be inserted), SQLite takes
    its write lock at once (a read first would make a concurrent writer fail, "database is locked")."""
    Tenant.objects.filter(pk=tenant_id).update(version=F("version"))


def edge_template_root(tenant) -> RuleChain:
    """The tenant's edge template root chain; an empty "Edge Root Rule Chain" is made when it has none."""
    def template():
        rows = EdgeRuleChainFlags.objects.filter(tenant=tenant, template_root=True).select_related("rule_chain")
        flags = rows.first()
        return flags.rule_chain if flags is not None else None

    chain = template()
    if chain is not None:
        return chain
    with transaction.atomic():
        lock_flags(tenant.pk)  # two first edges at once: one template root
        chain = template()
        if chain is None:
            chain = RuleChain.objects.create(tenant=tenant, name=EDGE_ROOT_NAME, type=RuleChainType.EDGE)
            EdgeRuleChainFlags.objects.create(tenant=tenant, rule_chain=chain, template_root=True)
    return chain


def auto_assign_chains(tenant):
    return RuleChain.objects.filter(tenant=tenant, type=RuleChainType.EDGE, edge_flags__auto_assign=True)


def set_up_new_edge(edge: Edge) -> None:
    """A new edge: the template root as its root rule chain, and every auto-assign chain."""
    root = edge_template_root(edge.tenant)
    assign(edge, "RULE_CHAIN", root.pk)
    for chain in auto_assign_chains(edge.tenant).exclude(pk=root.pk):
        assign(edge, "RULE_CHAIN", chain.pk)
    # part of the creation: no new version, no UPDATED event
    Edge.objects.filter(pk=edge.pk).update(root_rule_chain=root)
    edge.root_rule_chain = root


def sync(edge: Edge) -> int:
    """Queue ADDED for the edge itself and everything assigned to it; the number of events queued."""
    with transaction.atomic():
        record(edge, "EDGE", ADDED, edge.pk)
        rows = list(EdgeAssignment.objects.filter(edge=edge).order_by("created_time"))
        for row in rows:
            record(edge, row.entity_type, ADDED, row.entity_id)
            if row.entity_type == "RULE_CHAIN":
                record(edge, "RULE_CHAIN_METADATA", ADDED, row.entity_id)
    return len(rows) + 1


def _title(entity_type: str) -> str:
    return {"RULE_CHAIN": "Rule chain", "ENTITY_GROUP": "Entity group", "INTEGRATION": "Integration",
            "SCHEDULER_EVENT": "Scheduler event"}.get(entity_type, entity_type)
