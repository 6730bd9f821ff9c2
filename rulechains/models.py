"""Rule chains: graphs of rule nodes that route rule-engine messages after storage (issue 6).

The JSON shape is ThingsBoard's (``RuleChain`` and ``RuleChainMetaData``): a node's ``type`` is the
ThingsBoard class name, its ``configuration`` that node's JSON; connections name the relation type
(``Success``, ``True``, ``Post telemetry``...) from one node to another, by index in the chain.
"""

from django.conf import settings
from django.db import models

from rulechains.alarm_comment_models import AlarmComment, AlarmCommentType  # models of this app, in their own modules
from rulechains.node_state_models import RuleNodeState  # noqa: F401  (the aggregate stream node's state)
from rulechains.queue_stats_models import QueueStats  # noqa: F401  (GET /api/queueStats)
from rulechains.rpc_models import Rpc, RpcStatus
from tenants.models import TenantScopedModel, TenantScopedQuerySet

__all__ = ["RuleChain", "RuleNode", "RuleNodeConnection", "RuleChainType", "Alarm", "AlarmSeverity", "EntityAlarm",
           "Rpc", "RpcStatus", "AlarmComment", "AlarmCommentType"]


class RuleChainType(models.TextChoices):
    CORE = "CORE"
    EDGE = "EDGE"


class RuleChain(TenantScopedModel):
    """A tenant's rule chain. Exactly one per tenant is the root: it receives every message.

    ``first_node_index`` is the ``index`` of the node that receives the chain's messages (None:
    an empty chain, which drops them). Every change to the nodes or connections goes through
    rulechains.metadata, which replaces them whole, as ThingsBoard's ``POST /api/ruleChain/metadata``.
    """

    name = models.CharField(max_length=255)
    type = models.CharField(max_length=8, choices=RuleChainType.choices, default=RuleChainType.CORE)
    root = models.BooleanField(default=False)
    debug_mode = models.BooleanField(default=False)
    configuration = models.JSONField(null=True, blank=True)
    first_node_index = models.PositiveIntegerField(null=True, blank=True)

    customer_lookup = None  # rule chains belong to the tenant; customer users see none

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant"], condition=models.Q(root=True), name="one_root_rule_chain"),
        ]

    def __str__(self) -> str:
        return self.name


class RuleNode(TenantScopedModel):
    """One node of a chain: ``type`` is a ThingsBoard class name listed in rulechains.nodes.NODES.

    ``index`` is the node's position in the chain's ``nodes`` list (connections and
    ``firstNodeIndex`` refer to it). ``debug_mode`` ("debug all") records every message in and
    out as DEBUG_RULE_NODE events until ``debug_all_until`` (ms), failures only afterwards;
    ``debug_failures`` records failures only (rulechains/debug.py).
    """

    rule_chain = models.ForeignKey(RuleChain, on_delete=models.CASCADE, related_name="nodes")
    index = models.PositiveIntegerField()
    type = models.CharField(max_length=255)
    name = models.CharField(max_length=255, blank=True)
    debug_mode = models.BooleanField(default=False)
    debug_failures = models.BooleanField(default=False)
    debug_all_until = models.BigIntegerField(default=0, editable=False, help_text="end of the debug-all window, ms")
    singleton_mode = models.BooleanField(default=False)
    configuration_version = models.PositiveIntegerField(default=0)
    configuration = models.JSONField(default=dict, blank=True)

    customer_lookup = None

    class Meta:
        ordering = ["rule_chain", "index"]

    def save(self, *args, **kwargs):
        if self.debug_mode and not self.debug_all_until:  # switched on outside the API (admin): open the window
            from converters.events import all_enabled_until

            self.debug_all_until = all_enabled_until()
        super().save(*args, **kwargs)

    def __str__(self) -> str:
        return f"{self.name or self.type.rpartition('.')[2]} ({self.rule_chain})"


class RuleNodeConnection(TenantScopedModel):
    """A relation ``type`` from one node to another of the same chain."""

    rule_chain = models.ForeignKey(RuleChain, on_delete=models.CASCADE, related_name="connections")
    from_node = models.ForeignKey(RuleNode, on_delete=models.CASCADE, related_name="outgoing")
    to_node = models.ForeignKey(RuleNode, on_delete=models.CASCADE, related_name="incoming")
    type = models.CharField(max_length=255)

    customer_lookup = None

    class Meta:
        ordering = ["rule_chain", "from_node__index", "type"]
        constraints = [models.UniqueConstraint(fields=["from_node", "to_node", "type"], name="rule_node_connection")]

    def __str__(self) -> str:
        return f"{self.from_node.name} -[{self.type}]-> {self.to_node.name}"


class AlarmSeverity(models.TextChoices):
    CRITICAL = "CRITICAL"
    MAJOR = "MAJOR"
    MINOR = "MINOR"
    WARNING = "WARNING"
    INDETERMINATE = "INDETERMINATE"


class Alarm(TenantScopedModel):
    """ThingsBoard's alarm, minimal: raised and cleared by the alarm rule nodes, read, acknowledged
    and cleared through ``/api/alarm``. One alarm per (originator, type) is active at a time: the
    create node updates it until it is cleared; the next one is a new alarm. ``customer`` is the
    originator's customer when raised (customer users see their customer's alarms only).
    ``assignee`` is a user of the tenant (a customer user only for its customer's alarms), set and
    unset through ``/api/alarm/{id}/assign``; ``assign_ts`` is when it last changed. The entities an
    alarm propagates to are its :class:`EntityAlarm` rows (rulechains/alarm_propagation.py)."""

    customer = models.ForeignKey("tenants.Customer", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    originator_type = models.CharField(max_length=32)
    originator_id = models.UUIDField()
    type = models.CharField(max_length=255)
    severity = models.CharField(max_length=16, choices=AlarmSeverity.choices, default=AlarmSeverity.CRITICAL)
    acknowledged = models.BooleanField(default=False)
    cleared = models.BooleanField(default=False)
    start_ts = models.BigIntegerField(default=0)
    end_ts = models.BigIntegerField(default=0)
    ack_ts = models.BigIntegerField(default=0)
    clear_ts = models.BigIntegerField(default=0)
    details = models.JSONField(null=True, blank=True)
    propagate = models.BooleanField(default=False)
    propagate_to_owner = models.BooleanField(default=False)
    propagate_to_tenant = models.BooleanField(default=False)
    propagate_relation_types = models.JSONField(default=list, blank=True)
    # SET_NULL only backs up rulechains.signals, which unassigns (assign_ts, ALARM_UNASSIGNED) first
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    assign_ts = models.BigIntegerField(default=0)

    #: a customer user also reads the alarms of the entities an entity group shared with it lets it read
    #: (roles/group_access.py; ``Alarm.objects.for_user``): raised on them, or propagated to them (the
    #: ``propagations`` rows' entity type and id)
    shared_through = ("originator_type", "originator_id")
    shared_propagations = ("propagations", "entity_type", "entity_id")

    class Meta:
        ordering = ["-created_time"]
        indexes = [models.Index(fields=["tenant", "originator_id", "type", "created_time"], name="alarm_originator"),
                   models.Index(fields=["tenant", "assignee"], name="alarm_assignee")]

    @property
    def status(self) -> str:
        return f"{'CLEARED' if self.cleared else 'ACTIVE'}_{'ACK' if self.acknowledged else 'UNACK'}"

    def __str__(self) -> str:
        return f"{self.type} ({self.status})"


class EntityAlarm(models.Model):
    """An entity other than its originator that an alarm is listed for (ThingsBoard's
    ``entity_alarm`` rows): the parents it propagates to along relations (``propagate``), its
    originator's owner (``propagateToOwner``) and the tenant (``propagateToTenant``), recorded when
    the alarm is raised or its propagation changes. Read by the per-entity alarm lists and by
    alarm data queries with ``searchPropagatedAlarms``."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+", editable=False)
    alarm = models.ForeignKey(Alarm, on_delete=models.CASCADE, related_name="propagations")
    entity_type = models.CharField(max_length=32)
    entity_id = models.UUIDField()

    customer_lookup = "alarm__customer_id"
    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["alarm", "entity_type"]
        constraints = [models.UniqueConstraint(fields=["alarm", "entity_id"], name="entity_alarm_unique")]
        indexes = [models.Index(fields=["tenant", "entity_id"], name="entity_alarm_entity")]

    def __str__(self) -> str:
        return f"{self.alarm_id} -> {self.entity_type} {self.entity_id}"
