"""Edge events for changes of assigned entities, from the lower apps' signals (no polling).

A saved rule chain, entity group, integration or scheduler event assigned to edges: UPDATED on each of
those edges; a rule chain's metadata saved: RULE_CHAIN_METADATA UPDATED; a deleted one: DELETED, and its
assignments go. An edge saved (not created): EDGE UPDATED on its own queue. Devices, assets and entity views added to or
removed from an assigned group: ADDED_TO_ENTITY_GROUP / REMOVED_FROM_ENTITY_GROUP.
"""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from rest_framework.exceptions import ValidationError

from devices.models import EntityGroup
from devices.signals import group_members_changed
from edges import services
from edges.models import Edge, EdgeAssignment, EdgeEvent, EdgeRuleChainFlags
from integrations.models import Integration
from rulechains import chain_signals
from rulechains.metadata import metadata_saved
from rulechains.models import RuleChain
from scheduler.models import SchedulerEvent
from tbproject.process_cache import ProcessCache

TYPES = {RuleChain: "RULE_CHAIN", EntityGroup: "ENTITY_GROUP", Integration: "INTEGRATION",
         SchedulerEvent: "SCHEDULER_EVENT"}


def _edges_of(entity_type: str, entity_id):
    rows = EdgeAssignment.objects.filter(entity_type=entity_type, entity_id=entity_id).select_related("edge")
    return [row.edge for row in rows]


def _saved(sender, instance, created, raw=False, **kwargs) -> None:
    if raw or created:
        return
    entity_type = TYPES[sender]
    for edge in _edges_of(entity_type, instance.pk):
        services.record(edge, entity_type, services.UPDATED, instance.pk)


def _deleted(sender, instance, **kwargs) -> None:
    entity_type = TYPES[sender]
    for edge in _edges_of(entity_type, instance.pk):
        if Edge.objects.filter(pk=edge.pk).exists():  # not an edge going with its tenant
            services.record(edge, entity_type, services.DELETED, instance.pk)
    EdgeAssignment.objects.filter(entity_type=entity_type, entity_id=instance.pk).delete()


for _model in TYPES:
    post_save.connect(_saved, sender=_model, dispatch_uid=f"edges-saved-{_model.__name__}")
    post_delete.connect(_deleted, sender=_model, dispatch_uid=f"edges-deleted-{_model.__name__}")


@receiver(metadata_saved, dispatch_uid="edges-metadata-saved")
def _metadata_saved(sender, chain, **kwargs) -> None:
    for edge in _edges_of("RULE_CHAIN", chain.pk):
        services.record(edge, "RULE_CHAIN_METADATA", services.UPDATED, chain.pk)


@receiver(post_save, sender=Edge, dispatch_uid="edges-edge-saved")
def _edge_saved(sender, instance, created, raw=False, **kwargs) -> None:
    if not raw and not created:
        services.record(instance, "EDGE", services.UPDATED, instance.pk)


@receiver(chain_signals.edge_roots, dispatch_uid="edges-template-root")
def _template_roots(sender, tenant_id, **kwargs) -> set:
    """The tenant's edge template root renders "root": true, as ThingsBoard stores it."""
    return set(EdgeRuleChainFlags.objects.filter(tenant_id=tenant_id, template_root=True)
               .values_list("rule_chain_id", flat=True))


@receiver(chain_signals.deleting, dispatch_uid="edges-chain-deleting")
def _chain_deleting(sender, chain, **kwargs) -> None:
    """ThingsBoard's refusals: the edge template root (root: true) and any edge's root chain stay."""
    if EdgeRuleChainFlags.objects.filter(rule_chain_id=chain.pk, template_root=True).exists():
        raise ValidationError("Deletion of Root Tenant Rule Chain is prohibited!")
    edge = Edge.objects.filter(tenant_id=chain.tenant_id, root_rule_chain_id=chain.pk).order_by("name").first()
    if edge is not None:
        raise ValidationError(f"Can't delete rule chain that is root for edge [{edge.name}]. Please assign "
                              "another root rule chain first to the edge!")


@receiver(post_delete, sender=RuleChain, dispatch_uid="edges-flags-chain-deleted")
def _chain_deleted(sender, instance, **kwargs) -> None:
    EdgeRuleChainFlags.objects.filter(rule_chain_id=instance.pk).delete()


#: an assigned group's members: ADDED_TO_ENTITY_GROUP / REMOVED_FROM_ENTITY_GROUP of each member, on each
#: edge the group is assigned to (``entityGroupId`` the group), as ThingsBoard queues them for the edge. From
#: devices' one membership event (devices/membership.py), not ``m2m_changed``: a receiver of that makes Django read
#: a group's members before every ``.add()``, on the integrations' auto-provisioning path among others.
MEMBERS = {"DEVICE", "ASSET", "ENTITY_VIEW"}
_MEMBER_ACTIONS = {"added": "ADDED_TO_ENTITY_GROUP", "removed": "REMOVED_FROM_ENTITY_GROUP"}
#: how long this process trusts "the tenant has no group assigned to an edge" (no query per membership change):
#: a group assigned in another process is seen within this many seconds (here: at once, _assignment_saved)
TENANTS_TTL = 5.0
_GROUPED = ProcessCache(10_000)  # tenant id -> whether any group of the tenant is assigned to an edge


def _tenant_has_groups(tenant_id) -> bool:
    return _GROUPED.get_or_load(
        tenant_id, lambda: EdgeAssignment.objects.filter(tenant_id=tenant_id, entity_type="ENTITY_GROUP").exists(),
        TENANTS_TTL)


@receiver(post_save, sender=EdgeAssignment, dispatch_uid="edges-assignment-saved")
def _assignment_saved(sender, instance, raw=False, **kwargs) -> None:
    if instance.entity_type == "ENTITY_GROUP":
        _GROUPED.forget_key(instance.tenant_id)


@receiver(group_members_changed, dispatch_uid="edges-members-changed")
def _members_changed(sender, tenant_id, group_type, action, pairs, **kwargs) -> None:
    edge_action = _MEMBER_ACTIONS.get(action)
    if edge_action is None or group_type not in MEMBERS or not pairs or not _tenant_has_groups(tenant_id):
        return
    rows = EdgeAssignment.objects.filter(tenant_id=tenant_id, entity_type="ENTITY_GROUP",
                                         entity_id__in={g for g, _ in pairs})
    edges_by_group: dict = {}
    for edge_id, group_id in rows.values_list("edge_id", "entity_id"):
        edges_by_group.setdefault(group_id, []).append(edge_id)
    if edges_by_group:  # one INSERT of every member's event on every edge (edges/services.py)
        services.record_many(EdgeEvent(tenant_id=tenant_id, edge_id=edge_id, type=group_type, action=edge_action,
                                       entity_id=member_id, entity_group_id=group_id)
                             for group_id, member_id in sorted(pairs, key=str)
                             for edge_id in edges_by_group.get(group_id, ()))
