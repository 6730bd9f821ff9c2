"""ThingsBoard's ``rule_node_state``: what a rule node keeps per entity between messages and
across restarts (the aggregate stream node's open intervals). A model of the rulechains app, in
its own module."""

from django.db import models

from tenants.models import TenantScopedModel

__all__ = ["RuleNodeState"]


class RuleNodeState(TenantScopedModel):
    """One node's state for one entity (``state_data``: the node's own JSON)."""

    rule_node = models.ForeignKey("rulechains.RuleNode", on_delete=models.CASCADE, related_name="states")
    entity_type = models.CharField(max_length=32)
    entity_id = models.UUIDField()
    state_data = models.JSONField(default=dict)

    customer_lookup = None

    class Meta:
        ordering = ["rule_node", "entity_id"]
        constraints = [models.UniqueConstraint(fields=["rule_node", "entity_id"], name="rule_node_state_unique")]

    def __str__(self) -> str:
        return f"{self.rule_node_id} {self.entity_type} {self.entity_id}"
