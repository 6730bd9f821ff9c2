"""Rule-node types as ThingsBoard's ComponentDescriptor (``GET /api/components``): the palette
and the configuration forms of the rule chain page come from here, so from the NODES table and
each node class's ``group``, ``relations``, ``defaults`` and ``fields``.

    descriptors(["FILTER", "ACTION"]) -> [ComponentDescriptor, ...]
    validate(node_type, configuration)  # ConfigError naming the problem (compiles scripts too)
"""

import uuid

from rulechains.metadata import short_type
from rulechains.nodes import NODES
from rulechains.nodes.base import GROUPS, ConfigError
from tbproject.api.ids import entity_id

__all__ = ["descriptors", "descriptor", "validate", "GROUPS"]

#: a stable id per type (ThingsBoard's descriptors have ids; ours are derived from the class name)
_NAMESPACE = uuid.UUID("5b8e7c43-2f1e-4b8a-9d0a-1c2b3d4e5f60")


def descriptor(node_type: str) -> dict:
    node = NODES.load(node_type)
    relations = list(node.relations)
    return {
        "id": entity_id("COMPONENT_DESCRIPTOR", uuid.uuid5(_NAMESPACE, node_type)), "createdTime": 0,
        "type": node.group, "scope": "TENANT", "clusteringMode": "ENABLED", "name": node.label or short_type(node_type),
        "clazz": node_type, "configurationVersion": 0, "actions": None,
        "configurationDescriptor": {"nodeDefinition": {
            "details": (node.__doc__ or "").strip(), "description": node.label,
            "inEnabled": not node_type.endswith("TbMsgGeneratorNode"),
            "outEnabled": bool(relations) or node.custom_relations,
            "relationTypes": relations, "customRelations": node.custom_relations,
            "ruleChainNode": node_type.endswith("TbRuleChainInputNode"),
            "defaultConfiguration": node.defaults, "uiResources": [], "configDirective": "", "icon": "",
            "iconUrl": "", "docUrl": "",
            # ours: the form the rule chain page draws, and whether "Test this chain" simulates the node
            "fields": list(node.fields), "sideEffects": node.side_effects,
        }},
    }


def descriptors(groups=GROUPS) -> list[dict]:
    wanted = set(groups)
    found = [descriptor(t) for t in NODES.kinds() if NODES.load(t).group in wanted]
    return sorted(found, key=lambda d: (GROUPS.index(d["type"]), d["name"]))


def validate(node_type: str, configuration) -> None:
    """ConfigError unless ``configuration`` is one this node type can run (as a save checks it)."""
    if not isinstance(node_type, str) or node_type not in NODES:
        raise ConfigError(f"Unsupported rule node type: {str(node_type)[:200]}")
    if not isinstance(configuration, dict):
        raise ConfigError("configuration must be a JSON object")
    NODES.load(node_type).check(configuration)
