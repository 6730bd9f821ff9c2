"""The address-space side of the OPC-UA integration: find device nodes, resolve their tags,
turn values into ThingsBoard's text, and carry out the encoder's writes and method calls.

Browsing walks the hierarchical references down from the Objects folder, level by level, many
nodes per Browse request. Standard nodes (namespace 0: Server, Aliases, ...) are not descended.
"""

import base64
import datetime
import json
import re
from dataclasses import dataclass, field

from asyncua import Client, ua

__all__ = ["DeviceNode", "scan", "resolve_tags", "as_text", "write_value", "call_method", "parse_node_id"]

MAX_DEPTH = 16
MAX_NODES = 50_000
BROWSE_CHUNK = 200
_HIERARCHICAL = ua.NodeId(ua.ObjectIds.HierarchicalReferences)
_NODE_CLASSES = int(ua.NodeClass.Object) | int(ua.NodeClass.Variable)


@dataclass
class DeviceNode:
    """A node matched by a mapping: the uplink metadata and the tags to subscribe."""

    node_id: ua.NodeId
    name: str
    fqn: str
    mapping: object
    tags: dict[str, ua.NodeId] = field(default_factory=dict)  # key -> variable node

    @property
    def key(self) -> str:
        return self.node_id.to_string()

    def metadata(self) -> dict[str, str]:
        return {"opcUaNode_name": self.name, "opcUaNode_namespaceIndex": str(self.node_id.NamespaceIndex),
                "opcUaNode_identifier": str(self.node_id.Identifier), "opcUaNode_fqn": self.fqn}


class Browser:
    """Children of nodes, browsed in batches and remembered for one scan."""

    def __init__(self, client: Client):
        self.client = client
        self.children: dict[ua.NodeId, list[ua.ReferenceDescription]] = {}

    async def browse(self, node_ids: list[ua.NodeId]) -> None:
        todo = [n for n in node_ids if n not in self.children]
        for start in range(0, len(todo), BROWSE_CHUNK):
            chunk = todo[start:start + BROWSE_CHUNK]
            params = ua.BrowseParameters()
            params.View = ua.ViewDescription()
            params.RequestedMaxReferencesPerNode = 0
            params.NodesToBrowse = [self._description(n) for n in chunk]
            results = await self.client.uaclient.browse(params)
            for node_id, result in zip(chunk, results, strict=False):
                references = list(result.References or []) if result.StatusCode.is_good() else []
                point = result.ContinuationPoint
                while point:
                    more = await self.client.uaclient.browse_next(
                        ua.BrowseNextParameters(ReleaseContinuationPoints=False, ContinuationPoints=[point]))
                    references.extend(more[0].References or [])
                    point = more[0].ContinuationPoint
                self.children[node_id] = references

    @staticmethod
    def _description(node_id: ua.NodeId) -> ua.BrowseDescription:
        desc = ua.BrowseDescription()
        desc.NodeId = node_id
        desc.BrowseDirection = ua.BrowseDirection.Forward
        desc.ReferenceTypeId = _HIERARCHICAL
        desc.IncludeSubtypes = True
        desc.NodeClassMask = _NODE_CLASSES
        desc.ResultMask = int(ua.BrowseResultMask.All)
        return desc

    async def child(self, node_id: ua.NodeId, name: str) -> ua.NodeId | None:
        await self.browse([node_id])
        for ref in self.children[node_id]:
            if ref.BrowseName.Name == name:
                return ref.NodeId
        return None


def _matches(mapping, node_id: ua.NodeId, fqn: str) -> bool:
    if mapping.namespace is not None and node_id.NamespaceIndex != mapping.namespace:
        return False
    subject = fqn if mapping.mappingType == "FQN" else node_id.to_string()
    return re.search(mapping.deviceNodePattern, subject) is not None


async def scan(client: Client, mappings) -> tuple[list[DeviceNode], Browser]:
    """Object nodes under Objects matched by the first mapping whose pattern they match."""
    browser = Browser(client)
    root = ua.NodeId(ua.ObjectIds.ObjectsFolder)
    level, seen, found = [(root, "Objects")], {root}, []
    for _ in range(MAX_DEPTH):
        if not level or len(seen) > MAX_NODES:
            break
        await browser.browse([node_id for node_id, _ in level])
        below = []
        for node_id, fqn in level:
            for ref in browser.children[node_id]:
                child = ref.NodeId
                if ref.NodeClass != ua.NodeClass.Object or child.NamespaceIndex == 0 or child in seen:
                    continue
                seen.add(child)
                child_fqn = f"{fqn}.{ref.BrowseName.Name}"
                mapping = next((m for m in mappings if _matches(m, child, child_fqn)), None)
                if mapping is not None:
                    found.append(DeviceNode(child, ref.BrowseName.Name, child_fqn, mapping))
                below.append((child, child_fqn))
        level = below
    return found, browser


async def resolve_tags(browser: Browser, device: DeviceNode) -> list[str]:
    """Fill ``device.tags``; returns the paths of required tags that were not found."""
    missing = []
    for tag in device.mapping.subscriptionTags:
        node_id = await _resolve(browser, device.node_id, tag.path)
        if node_id is not None:
            device.tags[tag.key] = node_id
        elif tag.required:
            missing.append(tag.path)
    return missing


async def _resolve(browser: Browser, start: ua.NodeId, path: str) -> ua.NodeId | None:
    whole = await browser.child(start, path)  # a browse name may itself hold dots
    if whole is not None or "." not in path:
        return whole
    node_id = start
    for part in path.split("."):
        node_id = await browser.child(node_id, part)
        if node_id is None:
            return None
    return node_id


def as_text(value) -> str | None:
    """A value as ThingsBoard puts it in the payload: text (``"72.15"``, ``"true"``)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    if isinstance(value, (list, tuple)):
        return json.dumps([as_text(v) for v in value])
    if isinstance(value, ua.LocalizedText):
        return value.Text
    return str(value)


def parse_node_id(text) -> ua.NodeId:
    if not isinstance(text, str) or not text:
        raise ValueError(f"{text!r} is not a NodeId (ns=<index>;<i|s|g|b>=<identifier>)")
    try:
        return ua.NodeId.from_string(text)
    except Exception:
        raise ValueError(f"{text!r} is not a NodeId (ns=<index>;<i|s|g|b>=<identifier>)") from None


_INTEGERS = {ua.VariantType.SByte, ua.VariantType.Byte, ua.VariantType.Int16, ua.VariantType.UInt16,
             ua.VariantType.Int32, ua.VariantType.UInt32, ua.VariantType.Int64, ua.VariantType.UInt64}
_FLOATS = {ua.VariantType.Float, ua.VariantType.Double}


def coerce(value, variant_type: ua.VariantType):
    """The encoder's JSON value (often text) as the node's built-in type."""
    if isinstance(value, list):
        return [coerce(v, variant_type) for v in value]
    if variant_type == ua.VariantType.Boolean:
        if isinstance(value, str):
            if value.strip().lower() in ("true", "1", "on"):
                return True
            if value.strip().lower() in ("false", "0", "off"):
                return False
            raise ValueError(f"{value!r} is not a Boolean")
        return bool(value)
    if variant_type in _INTEGERS:
        if isinstance(value, float) and not value.is_integer():
            raise ValueError(f"{value!r} is not an integer")
        return int(float(value)) if isinstance(value, str) and "." in value else int(value)
    if variant_type in _FLOATS:
        return float(value)
    if variant_type == ua.VariantType.String:
        return value if isinstance(value, str) else json.dumps(value)
    return value


def _builtin(data_type: ua.NodeId) -> ua.VariantType | None:
    if data_type.NamespaceIndex == 0 and isinstance(data_type.Identifier, int) and 1 <= data_type.Identifier <= 25:
        return ua.VariantType(data_type.Identifier)
    return None


async def write_value(client: Client, node_text, value) -> None:
    node = client.get_node(parse_node_id(node_text))
    variant_type = await node.read_data_type_as_variant_type()
    await node.write_value(ua.DataValue(ua.Variant(coerce(value, variant_type), variant_type)))


async def call_method(client: Client, object_text, method_text, args) -> list:
    obj = client.get_node(parse_node_id(object_text))
    method_id = parse_node_id(method_text)
    args = list(args or [])
    types: list[ua.VariantType | None] = []
    try:
        definitions = await client.get_node(method_id).get_child("0:InputArguments")
        types = [_builtin(a.DataType) for a in await definitions.read_value()]
    except ua.UaError:  # no InputArguments property: the server guesses the types
        pass
    variants = [ua.Variant(coerce(arg, t), t) if t is not None else arg
                for arg, t in zip(args, types + [None] * (len(args) - len(types)), strict=False)]
    result = await obj.call_method(method_id, *variants)
    return result if isinstance(result, list) else [result]
