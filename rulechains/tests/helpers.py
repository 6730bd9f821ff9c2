"""Helpers of the rule-chain tests: chains from compact node lists, messages, node instances."""

import uuid

from converters.models import DebugEvent
from rulechains import nodes, services
from rulechains.messages import Msg
from rulechains.models import RuleChain, RuleNode
from rulechains.nodes.base import NodeContext
from tbproject.clock import now_ms

__all__ = ["node", "install_root", "msg", "make_node", "run_node", "events_of", "chain_json", "DOWNLINK_EXAMPLE"]


def node(kind: str, name: str = "", debug: bool = False, **configuration) -> dict:
    return {"type": kind, "name": name or kind.rpartition(".")[2], "debugMode": debug,
            "configuration": configuration, "additionalInfo": {"layoutX": 1, "layoutY": 2}}


def chain_json(name, node_list, connections, first=0) -> dict:
    return {"ruleChain": {"name": name, "type": "CORE", "root": False, "debugMode": False, "configuration": None},
            "metadata": {"firstNodeIndex": first, "nodes": node_list,
                         "connections": [{"fromIndex": a, "toIndex": b, "type": t} for a, b, t in connections],
                         "ruleChainConnections": None}}


def install_root(tenant, node_list, connections, first=0, name="Test root") -> RuleChain:
    """Replace the tenant's root chain by one made of ``node_list`` and (from, to, relation) tuples."""
    RuleChain.objects.filter(tenant=tenant, root=True).delete()
    return services.create_chain(tenant.pk, chain_json(name, node_list, connections, first), root=True)


def msg(tenant, originator=None, msg_type="POST_TELEMETRY_REQUEST", data=None, metadata=None, kind="DEVICE",
        stored=False) -> Msg:
    originator_id = originator.pk if originator is not None else uuid.uuid4()
    return Msg(msg_type, tenant.pk, kind, originator_id, {"t": 1} if data is None else data, dict(metadata or {}),
               stored)


def make_node(tenant, kind: str, name: str = "n", **configuration):
    """An instance of node type ``kind`` over an unsaved row (what the engine builds per batch)."""
    row = RuleNode(tenant_id=tenant.pk, index=0, type=kind, name=name, configuration=configuration)
    return nodes.get_node(kind)(row)


def run_node(tenant, kind: str, msgs, **configuration):
    instance = make_node(tenant, kind, **configuration)
    return instance.process_batch(NodeContext(tenant.pk, now_ms()), list(msgs))


def events_of(node_row, direction=None) -> list[dict]:
    """Bodies of a node's debug events, oldest first."""
    rows = DebugEvent.objects.filter(entity_type="RULE_NODE", entity_id=node_row.pk).order_by("created_time", "pk")
    bodies = [e.body for e in rows]
    return [b for b in bodies if direction is None or b["type"] == direction]


def _downlink_example() -> dict:
    """The shape of ThingsBoard's "downlink example rule chain" (reference section 6)."""
    js = ("return '\\nIncoming message:\\n' + JSON.stringify(msg) + "
          "'\\nIncoming metadata:\\n' + JSON.stringify(metadata);")
    node_list = [
        node(nodes.SAVE_TIMESERIES, "SaveTS", defaultTTL=0),
        node(nodes.SAVE_ATTRIBUTES, "save client attributes", scope="CLIENT_SCOPE"),
        node(nodes.SWITCH, "Message Type Switch", version=0),
        node(nodes.LOG, "Log RPC", jsScript=js),
        node(nodes.LOG, "Log Other", jsScript=js),
        node(nodes.INTEGRATION_DOWNLINK, "Push to Integration", True,
             integrationId="637d8ad0-68a3-11e8-8b0a-15970e6a694b"),
        node(nodes.ORIGINATOR_FIELDS, "Get Device Name", True,
             fieldsMapping={"name": "deviceName", "type": "deviceType"}),
        node(nodes.ORIGINATOR_ATTRIBUTES, "Get Firmware Version", True, clientAttributeNames=[],
             sharedAttributeNames=[], serverAttributeNames=[], latestTsKeyNames=[]),
        node(nodes.SCRIPT_FILTER, "Check updated attributes", True,
             jsScript="return typeof msg.temperatureUploadFrequency !== undefined;"),
    ]
    connections = [(2, 8, "Attributes Updated"), (2, 4, "Other"), (2, 1, "Post attributes"), (2, 0, "Post telemetry"),
                   (2, 3, "RPC Request"), (6, 7, "Success"), (7, 5, "Success"), (8, 6, "True")]
    data = chain_json("Downlink Example Rule Chain", node_list, connections, first=2)
    data["ruleChain"]["additionalInfo"] = None
    data["ruleChain"]["firstRuleNodeId"] = None
    return data


DOWNLINK_EXAMPLE = _downlink_example()
