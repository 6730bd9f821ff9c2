""""Test this chain": one sample message through a chain as the editor has it, storing nothing.

    report = run(chain, metadata, {"msgType", "metadata", "data", "originator"?})

The posted metadata (unsaved edits included) is validated as a save would (rulechains.metadata,
without compiling scripts: a script that does not compile fails its message by Failure, which
the path shows). Its nodes become unsaved rows with fresh ids (so compiled scripts of the
stored nodes are never reused for edited ones) and run on the real engine in trial mode
(engine._run): every node records its IN and OUT events, in memory only; a node with side
effects (saves, alarms, calls out, delays: ``BaseNode.side_effects``) is not run but sends the
message on by Success (``BaseNode.simulate``). Everything runs in a transaction that is rolled
back, so a read-only node that writes by surprise leaves nothing either. Rule chain nodes call
the stored chains they name.
"""

import copy
import json
import uuid

from django.db import transaction

from converters.events import EventBatch
from rulechains import engine, originators
from rulechains.messages import Msg
from rulechains.metadata import MetadataError, clean, keep_secrets, short_type
from rulechains.models import RuleChain, RuleNode
from rulechains.nodes import NODES
from rulechains.nodes.base import NodeContext
from tbproject.clock import now_ms

__all__ = ["run", "sample_msg", "MAX_STEPS", "UnknownOriginator"]

#: events a test run reports at most (the engine's hop limit bounds the run itself)
MAX_STEPS = 1000
_TRIAL_IDS = uuid.UUID("0b7a53de-9d3c-4c55-a2c4-3b1f0d6f7e21")


class _Trace(EventBatch):
    """Keeps the events in memory, in order; never writes them."""

    def __init__(self):
        super().__init__(max_rows=1 << 30)
        self.kept: list = []

    def flush(self) -> int:
        self.kept.extend(self.pending)
        self.pending = []
        return 0


class UnknownOriginator(LookupError):
    """The posted originator is not an entity of the chain's tenant (the API answers 404)."""


def _check_originator(tenant_id, msg: Msg) -> None:
    """A posted originator must be an entity of the chain's tenant (the engine's check,
    rulechains/originators.py): a test run never acts as another tenant's entity. Another
    tenant's id and an id that does not exist are refused alike ("<Type> with id [...] is not
    found", as the entity endpoints say), before anything runs."""
    if originators.foreign([msg], tenant_id):
        raise UnknownOriginator(originators.not_found(msg))


def sample_msg(tenant_id, sample) -> Msg:
    """The test message of a request body ``{msgType, metadata, data, originator}``; MetadataError if malformed."""
    if not isinstance(sample, dict):
        raise MetadataError("msg must be an object: {msgType, metadata, data}")
    msg_type = sample.get("msgType") or "POST_TELEMETRY_REQUEST"
    metadata = sample.get("metadata") or {}
    if not isinstance(msg_type, str) or not isinstance(metadata, dict):
        raise MetadataError("msg.msgType must be a string and msg.metadata an object")
    originator = sample.get("originator") or {}
    if not isinstance(originator, dict):
        raise MetadataError("msg.originator must be {entityType, id}")
    try:
        originator_id = uuid.UUID(str(originator["id"])) if originator.get("id") else uuid.uuid4()
    except ValueError:
        raise MetadataError(f"msg.originator.id must be a UUID, got {str(originator.get('id'))[:64]!r}") from None
    data = sample.get("data", {})
    if isinstance(data, str):  # the page sends the text of its data box: JSON when it parses
        try:
            data = json.loads(data)
        except ValueError:
            pass
    return Msg(msg_type, tenant_id, str(originator.get("entityType") or "DEVICE"), originator_id, data,
               {str(k): str(v) for k, v in metadata.items()})


def _graph(chain: RuleChain, data) -> tuple[engine.Graph, list[RuleNode]]:
    first, nodes, connections = clean(data, check=False)
    stored = {n.pk: n for n in chain.nodes.all()}
    rows = []
    for index, n in enumerate(nodes):
        keep_secrets(n, stored.get(n["id"]))
        fields = {k: v for k, v in n.items() if k != "id"}
        identity = json.dumps([str(chain.pk), index, n["type"], n["configuration"]], sort_keys=True, default=str)
        rows.append(RuleNode(id=uuid.uuid5(_TRIAL_IDS, identity), tenant_id=chain.tenant_id, rule_chain=chain,
                             index=index, **fields))
    trial_chain = copy.copy(chain)
    trial_chain.first_node_index = first
    graph = engine.Graph(trial_chain)
    graph.nodes = dict(enumerate(rows))
    for src, dst, relation in connections:
        graph.links[(src, relation)].append(dst)
    return graph, rows


def _step(event, index: int | None, name: str, node_type: str) -> dict:
    body = event.body
    return {"index": index, "nodeId": str(event.entity_id), "name": name, "type": node_type,
            "shortType": short_type(node_type), "direction": body["type"], "relationType": body["relationType"],
            "msgType": body["msgType"], "data": body["data"], "metadata": body["metadata"],
            "error": body.get("error"), "duration": body.get("duration"),
            "simulated": node_type in NODES and NODES.load(node_type).side_effects}


def run(chain: RuleChain, data, sample) -> dict:
    """{steps: [...], firstNodeIndex, report}: the path the sample took, node by node, in order."""
    graph, rows = _graph(chain, data)
    msg = sample_msg(chain.tenant_id, sample)
    if isinstance(sample, dict) and isinstance(sample.get("originator"), dict) and sample["originator"].get("id"):
        _check_originator(chain.tenant_id, msg)  # no id: a fresh one, nobody's entity
    report = engine.Report(messages=1)
    trace = _Trace()
    if graph.first is None:
        return {"steps": [], "firstNodeIndex": None, "report": vars(report)}
    with transaction.atomic():
        engine._run({chain.pk: graph}, {(chain.pk, graph.first): [engine._Item(msg, 0, "")]}, 1,
                    NodeContext(chain.tenant_id, now_ms()), trace, report, trial=True)
        trace.flush()
        transaction.set_rollback(True)
    mine = {row.pk: row for row in rows}
    others = {n.pk: n for n in RuleNode.objects.filter(
        tenant_id=chain.tenant_id, pk__in={e.entity_id for e in trace.kept} - set(mine))}
    steps = []
    for event in trace.kept[:MAX_STEPS]:
        row = mine.get(event.entity_id) or others.get(event.entity_id)
        steps.append(_step(event, row.index if event.entity_id in mine else None, row.name if row else "",
                           row.type if row else ""))
    return {"steps": steps, "firstNodeIndex": graph.first, "report": vars(report)}
