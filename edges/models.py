"""Edges, what is assigned to them, the rule chains' edge flags and the edges' event queue."""

import secrets
import uuid

from django.db import models

from rulechains.models import RuleChain
from tenants.models import Customer, TenantScopedModel

__all__ = ["Edge", "EdgeAssignment", "EdgeRuleChainFlags", "EdgeEvent", "new_routing_key", "new_secret"]


def new_routing_key() -> str:
    return str(uuid.uuid4())


def new_secret() -> str:
    return secrets.token_urlsafe(15)[:20]


class Edge(TenantScopedModel):
    """A ThingsBoard Edge instance of a tenant (owned by it or by one of its customers).

    ``routing_key`` and ``secret`` are what the edge would authenticate with (CLOUD_ROUTING_KEY/SECRET);
    ``root_rule_chain`` is one of the EDGE rule chains assigned to it.
    """

    # a deleted customer's edges become the tenant's, as ThingsBoard unassigns them
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    root_rule_chain = models.ForeignKey(RuleChain, null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+")
    name = models.CharField(max_length=255)
    type = models.CharField(max_length=255, default="default")
    label = models.CharField(max_length=255, blank=True, default="")
    routing_key = models.CharField(max_length=255, unique=True, default=new_routing_key)
    secret = models.CharField(max_length=255, default=new_secret)
    edge_license_key = models.CharField(max_length=255, blank=True, default="")
    cloud_endpoint = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="edge_name_per_tenant")]

    def __str__(self) -> str:
        return self.name


class EdgeAssignment(TenantScopedModel):
    """One entity assigned to an edge: a RULE_CHAIN, an ENTITY_GROUP (``group_type`` its type), an
    INTEGRATION or a SCHEDULER_EVENT, by id (the row goes when the entity does: edges/receivers.py)."""

    edge = models.ForeignKey(Edge, on_delete=models.CASCADE, related_name="assignments")
    entity_type = models.CharField(max_length=32)
    entity_id = models.UUIDField()
    group_type = models.CharField(max_length=32, blank=True, default="")

    customer_lookup = "edge__customer_id"

    class Meta:
        ordering = ["created_time"]
        constraints = [models.UniqueConstraint(fields=["edge", "entity_type", "entity_id"], name="edge_assignment")]
        indexes = [models.Index(fields=["entity_id"], name="edge_assignment_entity")]

    def __str__(self) -> str:
        return f"{self.entity_type} {self.entity_id} -> {self.edge_id}"


class EdgeRuleChainFlags(TenantScopedModel):
    """A rule chain of type EDGE that is the tenant's edge template root (the root of every new edge) or
    assigned to every new edge (``auto_assign``)."""

    rule_chain = models.OneToOneField(RuleChain, on_delete=models.CASCADE, related_name="edge_flags")
    template_root = models.BooleanField(default=False)
    auto_assign = models.BooleanField(default=False)

    customer_lookup = None

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant"], condition=models.Q(template_root=True),
                                               name="one_edge_template_root")]

    def __str__(self) -> str:
        return str(self.rule_chain_id)


class EdgeEvent(TenantScopedModel):
    """One event of an edge's queue (ThingsBoard's EdgeEvent): ``type`` the entity's EdgeEventType
    (RULE_CHAIN, ENTITY_GROUP, INTEGRATION...), ``action`` the EdgeEventActionType, ``seq_id`` the
    order within the edge's queue."""

    edge = models.ForeignKey(Edge, on_delete=models.CASCADE, related_name="events")
    seq_id = models.BigIntegerField(default=0)
    type = models.CharField(max_length=32)
    action = models.CharField(max_length=32)
    entity_id = models.UUIDField(null=True, blank=True)
    entity_group_id = models.UUIDField(null=True, blank=True)
    uid = models.CharField(max_length=64, default=new_routing_key)
    body = models.JSONField(null=True, blank=True)

    customer_lookup = "edge__customer_id"

    class Meta:
        ordering = ["-created_time", "-seq_id"]
        indexes = [models.Index(fields=["edge", "created_time"], name="edge_event_edge_time")]
        # the last seqId of an edge is read by this index; two writers can never share one
        constraints = [models.UniqueConstraint(fields=["edge", "seq_id"], name="edge_event_seq")]

    def __str__(self) -> str:
        return f"{self.type} {self.action} ({self.edge_id})"
