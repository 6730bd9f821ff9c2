"""The edge event queue's cost and order: members joining an assigned group in one batch (the integrations'
provisioning) are one INSERT of events, numbered without gaps or repeats; old events go after
EDGE_EVENTS_TTL_DAYS."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from converters.output import EntityUpdate
from devices import known
from devices.provisioning import Provisioner
from edges import services
from edges.models import Edge, EdgeEvent
from edges.tasks import prune_events
from tbproject.clock import now_ms
from tbproject.testing.factories import make_group
from tenants.limits import limits_of


def _provision(tenant, prefix: str, count: int = 200) -> list[str]:
    known.forget()
    updates = [EntityUpdate(entity_type="DEVICE", name=f"{prefix}-{i}", profile="meter", group="Meters")
               for i in range(count)]
    provisioner = Provisioner(tenant.pk, allow_create=True)
    limits_of(tenant.pk)
    with CaptureQueriesContext(connection) as ctx:
        provisioner.prefetch(updates)
    assert len(provisioner.created) == count
    return [q["sql"] for q in ctx.captured_queries]


def test_a_batch_joining_an_assigned_group_costs_a_few_queries_whatever_its_size(tenant):
    group = make_group(tenant, "Meters")
    _provision(tenant, "warm", 5)  # the profile, the group's lookups
    unassigned = _provision(tenant, "a")
    edge = Edge.objects.create(tenant=tenant, name="e1")
    other = Edge.objects.create(tenant=tenant, name="e2")
    services.assign(edge, "ENTITY_GROUP", group.pk, "DEVICE")
    services.assign(other, "ENTITY_GROUP", group.pk, "DEVICE")
    assigned = _provision(tenant, "b")
    inserts = [q for q in assigned if q.startswith('INSERT INTO "edges_edgeevent"')]
    # the assigned group's 400 events: one INSERT (SQLite splits it by its bound parameters: a few); whether the
    # tenant has a group on an edge (read again: the assignment was made since), one lookup per membership event
    # of the batch (its "All" join and "Meters"), the edges locked and their last seqIds read in one query;
    # before, two queries per device and edge
    assert len(inserts) <= 8 and len(assigned) - len(unassigned) - len(inserts) <= 4, (unassigned, assigned)
    for e in (edge, other):
        rows = list(EdgeEvent.objects.filter(edge=e).order_by("seq_id")
                    .values_list("seq_id", "action", "entity_group_id"))
        assert [r[0] for r in rows] == list(range(1, 202))  # ASSIGNED_TO_EDGE, then 200 members: no gap, no repeat
        assert {r[1:] for r in rows[1:]} == {("ADDED_TO_ENTITY_GROUP", group.pk)}
    services.record(edge, "EDGE", services.UPDATED, edge.pk)
    assert EdgeEvent.objects.filter(edge=edge).order_by("-seq_id").first().seq_id == 202


def test_a_tenant_without_groups_on_edges_pays_no_edge_query_per_batch(tenant):
    make_group(tenant, "Meters")
    _provision(tenant, "warm", 5)  # reads once per receivers.TENANTS_TTL whether the tenant has a group on an edge
    queries = _provision(tenant, "a", 30)
    assert not [q for q in queries if "edges_edge" in q]


def test_events_past_their_ttl_are_pruned(tenant, settings):
    edge = Edge.objects.create(tenant=tenant, name="e1")
    old = services.record(edge, "EDGE", services.UPDATED, edge.pk)
    EdgeEvent.objects.filter(pk=old.pk).update(created_time=now_ms() - 8 * 86_400_000)
    fresh = services.record(edge, "EDGE", services.UPDATED, edge.pk)
    settings.EDGE_EVENTS_TTL_DAYS = 0  # 0: kept forever
    assert prune_events() == 0
    settings.EDGE_EVENTS_TTL_DAYS = 7
    assert prune_events() == 1
    assert list(EdgeEvent.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert services.record(edge, "EDGE", services.UPDATED, edge.pk).seq_id == fresh.seq_id + 1
