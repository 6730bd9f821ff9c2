"""A chain's nodes and connections as ThingsBoard's RuleChainMetaData, both ways.

    export_metadata(chain) -> {ruleChainId, version, firstNodeIndex, nodes, connections, ruleChainConnections: []}
    save_metadata(chain, data)   # validates everything, then replaces the nodes and connections

Saving is all or nothing. It refuses (MetadataError, a 400 in the API) a node type that is not
in rulechains.nodes.NODES (naming every such type and node), a configuration its type cannot
run, a script that does not compile, a connection to a node that does not exist, and links to
other rule chains. A posted node carrying the id of a node of the same chain keeps that id (its
debug events stay reachable); the others get new ids. Secrets in node configurations (a node
type's ``secret_fields``: passwords, private keys) are write-only: exported as MASK, and a
posted MASK keeps what that node stores.
"""

import copy
import uuid

from django.db import transaction
from django.dispatch import Signal

from converters.events import all_enabled_until, cap_all_enabled_until
from integrations.types.base import MASK, _get, _set
from rulechains.models import RuleChain, RuleNode, RuleNodeConnection
from rulechains.nodes import NODES
from rulechains.nodes.base import ConfigError
from tbproject.api.ids import entity_id
from tbproject.clock import now_ms
from vault.resolution import is_reference

__all__ = ["MetadataError", "metadata_saving", "metadata_saved", "export_metadata", "node_json", "save_metadata",
           "short_type", "masked", "keep_secrets"]


class MetadataError(ValueError):
    """Metadata that cannot be saved; the text says what and where."""


def short_type(node_type: str) -> str:
    return node_type.rpartition(".")[2]


def node_json(node: RuleNode) -> dict:
    return {
        "id": entity_id("RULE_NODE", node.pk), "createdTime": node.created_time,
        "ruleChainId": entity_id("RULE_CHAIN", node.rule_chain_id), "type": node.type, "name": node.name,
        "debugMode": _all_on(node),
        "debugSettings": {"failuresEnabled": node.debug_failures or node.debug_mode, "allEnabled": _all_on(node),
                          "allEnabledUntil": node.debug_all_until if _all_on(node) else 0},
        "singletonMode": node.singleton_mode, "queueName": None, "configurationVersion": node.configuration_version,
        "configuration": masked(node.type, node.configuration), "additionalInfo": node.additional_info or None,
        "externalId": None,
    }


def masked(node_type: str, configuration):
    """The configuration with the node type's secrets replaced by MASK (write-only in the API)."""
    paths = NODES.load(node_type).secret_fields if node_type in NODES else ()
    if not paths or not isinstance(configuration, dict):
        return configuration
    out = copy.deepcopy(configuration)
    for path in paths:
        if _get(out, path) not in (None, "") and not is_reference(_get(out, path)):  # a ${secret:..} shows as it is
            _set(out, path, MASK)
    return out


def keep_secrets(node: dict, stored: RuleNode | None) -> None:
    """A posted MASK keeps the stored secret of the same node; without one it is refused."""
    for path in NODES.load(node["type"]).secret_fields:
        if _get(node["configuration"], path) != MASK:
            continue
        node["configuration"] = copy.deepcopy(node["configuration"])  # never change the caller's data
        value = _get(stored.configuration, path) if stored is not None and stored.type == node["type"] else None
        if value in (None, "", MASK):
            raise MetadataError(f"Rule node '{node['name']}': configuration.{path}: no secret is stored to keep; "
                                "enter it again")
        _set(node["configuration"], path, value)


def _all_on(node: RuleNode) -> bool:
    return node.debug_mode and now_ms() < node.debug_all_until


def export_metadata(chain: RuleChain) -> dict:
    nodes = list(chain.nodes.order_by("index", "pk"))
    position = {n.pk: i for i, n in enumerate(nodes)}
    first = next((i for i, n in enumerate(nodes) if n.index == chain.first_node_index), -1)
    connections = sorted(
        ({"fromIndex": position[c.from_node_id], "toIndex": position[c.to_node_id], "type": c.type}
         for c in chain.connections.all() if c.from_node_id in position and c.to_node_id in position),
        key=lambda c: (c["fromIndex"], c["toIndex"], c["type"]))
    return {"ruleChainId": entity_id("RULE_CHAIN", chain.pk), "version": chain.version, "firstNodeIndex": first,
            "nodes": [node_json(n) for n in nodes], "connections": connections, "ruleChainConnections": []}


def _int(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise MetadataError(f"{what} must be an integer, got {str(value)[:40]!r}")
    return value


def _debug(node: dict) -> tuple[bool, bool, int]:
    """(debug all, failures, end of the debug-all window): ``allEnabled`` (or the legacy
    ``debugMode``) opens a new window, as ThingsBoard's "used as a trigger"; a posted
    ``allEnabledUntil`` alone keeps one still open (never longer than one window)."""
    settings = node.get("debugSettings") if isinstance(node.get("debugSettings"), dict) else {}
    if node.get("debugMode") or settings.get("allEnabled"):
        until = all_enabled_until()
    else:
        until = cap_all_enabled_until(settings.get("allEnabledUntil"))
    return until > 0, bool(settings.get("failuresEnabled")), until


def _clean_nodes(raw_nodes, *, check: bool) -> list[dict]:
    if not isinstance(raw_nodes, list) or not all(isinstance(n, dict) for n in raw_nodes):
        raise MetadataError("nodes must be a list of rule node objects")
    unsupported = [f"{n.get('type')} (node '{n.get('name', '')}')" for n in raw_nodes if n.get("type") not in NODES]
    if unsupported:
        supported = ", ".join(short_type(t) for t in NODES.kinds())
        raise MetadataError(f"Unsupported rule node type: {'; '.join(unsupported)}. Supported types: {supported}")
    cleaned = []
    for i, n in enumerate(raw_nodes):
        name = n.get("name") or ""
        configuration = n.get("configuration") or {}
        if not isinstance(name, str) or not isinstance(configuration, dict):
            raise MetadataError(f"Rule node {i}: name must be a string and configuration a JSON object")
        additional = n.get("additionalInfo") or {}
        if not isinstance(additional, dict):
            raise MetadataError(f"Rule node '{name}': additionalInfo must be a JSON object")
        node_class = NODES.load(n["type"])
        try:
            (node_class.check if check else node_class.clean_config)(configuration)
        except ConfigError as e:
            raise MetadataError(f"Rule node '{name}' ({short_type(n['type'])}): {e}") from None
        raw_id = n.get("id")
        raw_id = raw_id.get("id") if isinstance(raw_id, dict) else raw_id
        try:
            node_id = uuid.UUID(str(raw_id)) if raw_id else None
        except ValueError:
            node_id = None
        debug_mode, debug_failures, debug_until = _debug(n)
        version = n.get("configurationVersion") or 0
        cleaned.append({"id": node_id, "type": n["type"], "name": name[:255], "configuration": configuration,
                        "additional_info": additional, "debug_mode": debug_mode, "debug_failures": debug_failures,
                        "debug_all_until": debug_until,
                        "singleton_mode": bool(n.get("singletonMode")),
                        "configuration_version": version if isinstance(version, int) and version >= 0 else 0})
    return cleaned


def _clean_connections(raw, count: int) -> list[tuple[int, int, str]]:
    if not isinstance(raw, list):
        raise MetadataError("connections must be a list of {fromIndex, toIndex, type}")
    out = []
    for c in raw:
        if not isinstance(c, dict):
            raise MetadataError("connections must be a list of {fromIndex, toIndex, type}")
        src, dst = _int(c.get("fromIndex"), "connection fromIndex"), _int(c.get("toIndex"), "connection toIndex")
        relation = c.get("type")
        if not 0 <= src < count or not 0 <= dst < count:
            raise MetadataError(f"Connection {src} -> {dst} refers to a node that does not exist "
                                f"(the chain has {count} nodes)")
        if not isinstance(relation, str) or not relation.strip() or len(relation) > 255:
            raise MetadataError(f"Connection {src} -> {dst}: type must be a relation name such as 'Success'")
        out.append((src, dst, relation))
    return list(dict.fromkeys(out))


_CHAIN_INPUT = "org.thingsboard.rule.engine.flow.TbRuleChainInputNode"


def _chain_links(raw, nodes: list[dict], connections: list) -> None:
    """ThingsBoard's legacy ``ruleChainConnections`` ({fromIndex, targetRuleChainId, type,
    additionalInfo}: "this node's relation goes to that chain") become what ThingsBoard 3.3+ turns
    them into on save: a "rule chain" node calling the target chain, appended to ``nodes``, and a
    connection to it (named after the target chain in :func:`save_metadata`)."""
    if raw is None:
        return
    if not isinstance(raw, list) or not all(isinstance(c, dict) for c in raw):
        raise MetadataError("ruleChainConnections must be a list of {fromIndex, targetRuleChainId, type}")
    count = len(nodes)
    for c in raw:
        src = _int(c.get("fromIndex"), "ruleChainConnections fromIndex")
        if not 0 <= src < count:
            raise MetadataError(f"ruleChainConnections: fromIndex {src} refers to a node that does not exist "
                                f"(the chain has {count} nodes)")
        target = c.get("targetRuleChainId")
        target = target.get("id") if isinstance(target, dict) else target
        try:
            target = uuid.UUID(str(target))
        except ValueError:
            raise MetadataError("ruleChainConnections: targetRuleChainId must be a rule chain id") from None
        relation = c.get("type")
        if not isinstance(relation, str) or not relation.strip() or len(relation) > 255:
            raise MetadataError(f"ruleChainConnections from {src}: type must be a relation name such as 'Success'")
        layout = c.get("additionalInfo") if isinstance(c.get("additionalInfo"), dict) else {}
        layout = {k: v for k, v in layout.items() if k not in ("description", "ruleChainNodeId")}
        nodes.append({"id": None, "type": _CHAIN_INPUT, "name": "", "configuration": {"ruleChainId": str(target)},
                      "additional_info": layout, "debug_mode": False, "debug_failures": False, "debug_all_until": 0,
                      "singleton_mode": False, "configuration_version": 0, "chain_link": target})
        connections.append((src, len(nodes) - 1, relation))


def clean(data, *, check: bool = True) -> tuple[int | None, list[dict], list]:
    """(first node index, nodes, connections) of a RuleChainMetaData body, or MetadataError."""
    if not isinstance(data, dict):
        raise MetadataError("The rule chain metadata must be a JSON object")
    nodes = _clean_nodes(data.get("nodes") or [], check=check)
    connections = _clean_connections(data.get("connections") or [], len(nodes))
    _chain_links(data.get("ruleChainConnections"), nodes, connections)
    connections = list(dict.fromkeys(connections))
    first = data.get("firstNodeIndex")
    if first is not None and first != -1:
        first = _int(first, "firstNodeIndex")
        if not 0 <= first < len(nodes):
            raise MetadataError(f"firstNodeIndex {first} is not the index of a node (the chain has {len(nodes)})")
    else:
        first = None
    return first, nodes, connections


#: sent (sender=RuleChain, chain=...) inside the save's transaction, before the nodes are replaced
#: and after: the audit log (audit/) subscribes to diff what a user changed
metadata_saving = Signal()
metadata_saved = Signal()


def save_metadata(chain: RuleChain, data, *, check: bool = True, new: bool = False) -> RuleChain:
    """Replace the chain's nodes and connections with ``data`` (validated first, all or nothing).

    ``check`` also compiles scripts (needs the script engine; converters.engine.EngineError when
    it cannot start). ``new`` (the chain was just inserted in this transaction: it has no nodes yet)
    inserts the nodes in one query instead of looking for rows to keep and delete."""
    first, nodes, connections = clean(data, check=check)
    links = {n["chain_link"] for n in nodes if "chain_link" in n}
    names = dict(RuleChain.objects.filter(tenant_id=chain.tenant_id, pk__in=links).values_list("pk", "name"))
    for n in nodes:
        if "chain_link" in n:
            n["name"] = names.get(n.pop("chain_link")) or "Rule Chain Input"
    with transaction.atomic():
        if new:
            return _insert_new(chain, first, nodes, connections)
        existing = {n.pk: n for n in chain.nodes.all()}
        for n in nodes:
            keep_secrets(n, existing.get(n["id"]))
        metadata_saving.send(sender=RuleChain, chain=chain)
        chain.connections.all().delete()
        kept, rows = set(), []
        for index, n in enumerate(nodes):
            row = existing.get(n["id"]) if n["id"] not in kept else None
            fields = {k: v for k, v in n.items() if k != "id"}
            if row is None:
                row = RuleNode(tenant_id=chain.tenant_id, rule_chain=chain, index=index, **fields)
                row.save(force_insert=True)
            else:
                kept.add(row.pk)
                for key, value in fields.items():
                    setattr(row, key, value)
                row.index = index
                row.save()
            rows.append(row)
        RuleNode.objects.filter(rule_chain=chain).exclude(pk__in=[r.pk for r in rows]).delete()
        RuleNodeConnection.objects.bulk_create([
            RuleNodeConnection(tenant_id=chain.tenant_id, rule_chain=chain, from_node=rows[src], to_node=rows[dst],
                               type=relation) for src, dst, relation in connections])
        chain.first_node_index = first
        chain.save()
        metadata_saved.send(sender=RuleChain, chain=chain)
    return chain


def _insert_new(chain: RuleChain, first, nodes: list, connections: list) -> RuleChain:
    for n in nodes:
        keep_secrets(n, None)
    metadata_saving.send(sender=RuleChain, chain=chain)
    rows = []
    for index, n in enumerate(nodes):
        row = RuleNode(tenant_id=chain.tenant_id, rule_chain=chain, index=index,
                       **{k: v for k, v in n.items() if k != "id"})
        if row.debug_mode and not row.debug_all_until:  # as RuleNode.save, which bulk_create does not call
            row.debug_all_until = all_enabled_until()
        rows.append(row)
    RuleNode.objects.bulk_create(rows)
    RuleNodeConnection.objects.bulk_create([
        RuleNodeConnection(tenant_id=chain.tenant_id, rule_chain=chain, from_node=rows[src], to_node=rows[dst],
                           type=relation) for src, dst, relation in connections])
    chain.first_node_index = first
    chain.save()
    metadata_saved.send(sender=RuleChain, chain=chain)
    return chain
