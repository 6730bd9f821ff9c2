"""Rule chains as users of secrets (vault/hooks.py): a secret a rule node's configuration names cannot be
deleted (ThingsBoard's ``references`` list the chains). No refresh is needed: the engine builds a node
from its configuration for each batch (engine._run_node), so a new value is used from the next batch."""

from rulechains.models import RuleNode
from vault import hooks

__all__ = ["connect"]


def _rows(tenant_id):
    return RuleNode.objects.filter(tenant_id=tenant_id).values_list("rule_chain_id", "rule_chain__name",
                                                                    "configuration")


def connect() -> None:
    hooks.register("RULE_CHAIN", _rows)
