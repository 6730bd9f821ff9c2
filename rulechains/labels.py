"""Where a chain's output labels are used: ThingsBoard's RuleChainOutputLabelsUsage.

A "rule chain" node (TbRuleChainInputNode) calling a chain leaves by the labels of that chain's
output nodes; each such node with at least one outgoing connection is one usage, its ``labels``
the relation types it leaves by. Sorted by chain name, then node name, as ThingsBoard's.
"""

from collections import defaultdict

from rulechains.models import RuleChain, RuleNode, RuleNodeConnection
from rulechains.nodes import RULE_CHAIN_INPUT
from tbproject.api.ids import entity_id

__all__ = ["output_labels_usage"]


def output_labels_usage(chain: RuleChain) -> list[dict]:
    callers = list(RuleNode.objects.filter(tenant_id=chain.tenant_id, type=RULE_CHAIN_INPUT,
                                           configuration__ruleChainId=str(chain.pk))
                   .select_related("rule_chain"))
    labels = defaultdict(set)
    for from_id, kind in RuleNodeConnection.objects.filter(from_node__in=callers).values_list("from_node_id", "type"):
        labels[from_id].add(kind)
    usages = [{"ruleChainId": entity_id("RULE_CHAIN", node.rule_chain_id),
               "ruleNodeId": entity_id("RULE_NODE", node.pk),
               "ruleChainName": node.rule_chain.name, "ruleNodeName": node.name,
               "labels": sorted(labels[node.pk])}
              for node in callers if labels[node.pk]]
    return sorted(usages, key=lambda u: (u["ruleChainName"], u["ruleNodeName"]))
