"""Where an alarm propagates: ThingsBoard's ``entity_alarm`` records (rulechains.models.EntityAlarm).

    record(alarms)        # the entities each alarm propagates to, stored (existing rows kept)
    targets(alarms)       # {alarm id: [(entity_type, entity_id)]}, without storing

As ThingsBoard does it, an alarm raised with ``propagate`` is listed for every entity that reaches
its originator through COMMON relations walked in the TO direction, level after level (the
parents, their parents...): the walk follows relations of any type, and an entity is a target
when a relation of one of ``propagateRelationTypes`` (any type when the list is empty) leads from
it into the walk. ``propagateToOwner`` adds the originator's owner (its customer, or the tenant),
``propagateToTenant`` the tenant. The originator itself is never a row: its alarms are found by
``originator_id``.

The walk runs for a whole batch of alarms at once, one query per level (ids in chunks of
:data:`BATCH`), each entity visited once per alarm, so a relation cycle ends by itself; it stops
at :data:`MAX_LEVEL` levels and :data:`MAX_ENTITIES` entities per alarm and logs when it was cut.
"""

import logging
from collections import defaultdict

from devices.models import EntityRelation
from rulechains.models import Alarm, EntityAlarm

__all__ = ["record", "targets", "MAX_LEVEL", "MAX_ENTITIES", "BATCH"]

log = logging.getLogger(__name__)

#: levels of parents walked (ThingsBoard's default ``sql.relations.max_level`` is 50 too)
MAX_LEVEL = 50
#: most entities one alarm reaches in its walk (a huge fleet of parents is cut, not walked)
MAX_ENTITIES = 1000
#: ids named in one query of the walk
BATCH = 500
COMMON = "COMMON"


def _owner(alarm: Alarm) -> tuple[str, object]:
    if alarm.customer_id and not (alarm.originator_type == "CUSTOMER" and alarm.customer_id == alarm.originator_id):
        return "CUSTOMER", alarm.customer_id
    return "TENANT", alarm.tenant_id


def _relations_to(tenant_id, ids: list) -> dict:
    """{to id: [(relation type, from type, from id)]} of the COMMON relations into the ids."""
    found = defaultdict(list)
    for start in range(0, len(ids), BATCH):
        rows = EntityRelation.objects.filter(tenant_id=tenant_id, type_group=COMMON, to_id__in=ids[start:start + BATCH])
        for to_id, rel_type, from_type, from_id in rows.values_list("to_id", "type", "from_type", "from_id"):
            found[to_id].append((rel_type, from_type, from_id))
    return found


class _Walk:
    """One alarm's walk: what it has visited, its frontier, the targets found."""

    def __init__(self, alarm: Alarm):
        self.alarm, self.types = alarm, set(alarm.propagate_relation_types or ())
        self.seen = {alarm.originator_id}
        self.frontier = [alarm.originator_id]
        self.found: dict = {}
        self.cut = ""

    def step(self, relations: dict) -> None:
        frontier = []
        for entity in self.frontier:
            for rel_type, from_type, from_id in relations.get(entity, ()):
                if (not self.types or rel_type in self.types) and from_id != self.alarm.originator_id:
                    self.found.setdefault(from_id, from_type)
                if from_id in self.seen:
                    continue
                if len(self.seen) >= MAX_ENTITIES:
                    self.cut = f"more than {MAX_ENTITIES} entities"
                    self.frontier = []
                    return
                self.seen.add(from_id)
                frontier.append(from_id)
        self.frontier = frontier


def _walk(alarms: list[Alarm]) -> dict:
    """{alarm id: {entity id: entity type}} of the relation targets of alarms raised with propagate."""
    walks = [_Walk(a) for a in alarms if a.propagate]
    by_tenant = defaultdict(list)
    for walk in walks:
        by_tenant[walk.alarm.tenant_id].append(walk)
    for tenant_id, group in by_tenant.items():
        for _ in range(MAX_LEVEL):
            active = [w for w in group if w.frontier]
            if not active:
                break
            relations = _relations_to(tenant_id, list({e for w in active for e in w.frontier}))
            for walk in active:
                walk.step(relations)
        for walk in group:
            if walk.frontier and not walk.cut:
                walk.cut = f"more than {MAX_LEVEL} levels"
    for walk in walks:
        if walk.cut:
            alarm = walk.alarm
            log.warning("alarm %s (%s on %s %s): propagation cut at %s of related entities; %d found", alarm.pk,
                        alarm.type, alarm.originator_type, alarm.originator_id, walk.cut, len(walk.found))
    return {w.alarm.pk: w.found for w in walks}


def targets(alarms: list[Alarm]) -> dict:
    """{alarm id: [(entity_type, entity_id)]}: where each alarm propagates, its originator excepted."""
    related = _walk(alarms)
    out = {}
    for alarm in alarms:
        found = dict(related.get(alarm.pk, {}))
        if alarm.propagate_to_owner:
            kind, pk = _owner(alarm)
            found.setdefault(pk, kind)
        if alarm.propagate_to_tenant:
            found.setdefault(alarm.tenant_id, "TENANT")
        found.pop(alarm.originator_id, None)
        out[alarm.pk] = [(kind, pk) for pk, kind in found.items()]
    return out


def record(alarms: list[Alarm]) -> int:
    """Store where the alarms propagate (rows already there are kept, as ThingsBoard keeps them);
    returns how many targets were computed."""
    alarms = [a for a in alarms if a.propagate or a.propagate_to_owner or a.propagate_to_tenant]
    if not alarms:
        return 0
    found = targets(alarms)
    rows = [EntityAlarm(tenant_id=alarm.tenant_id, alarm_id=alarm.pk, entity_type=kind, entity_id=pk)
            for alarm in alarms for kind, pk in found[alarm.pk]]
    EntityAlarm.objects.bulk_create(rows, ignore_conflicts=True, batch_size=BATCH)
    return len(rows)
