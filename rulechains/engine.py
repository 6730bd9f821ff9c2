"""The rule engine: runs batches of messages through each tenant's root rule chain.

    report = process([Msg, ...])

Messages are grouped by tenant; each tenant's root chain is loaded with its nodes and
connections (two queries for all tenants of a batch) and kept per tenant for CHAIN_CACHE_SECONDS
(:func:`root_chains`): a stream of small batches, one per API request, walks a cached graph. A
chain saved in this process is forgotten at once (rulechains/signals.py); other processes pick
it up within that time, as ThingsBoard's rule-engine actors reload a chain after it is saved.

A chain is walked from its first node. The messages waiting at the same node are handed to it
together (``process_batch``), so a script node runs one engine call and an enrichment node one
query for all of them. What a node sends out by a relation goes
to every node connected by that relation; a relation with no connection ends the message there
(a Failure without a connection is counted and, with node debug on, recorded).

Loop guard: one incoming message, with every copy made of it, may run at most
RULE_ENGINE_MAX_HOPS nodes; past that it is dropped with a warning and an error event on the
node where it stopped. This bounds cycles in a chain and fan-out alike. A copy a duplicate node
makes (``Out.fork``) is a message of its own, as in ThingsBoard: it starts with the hop count of
the message it was made of and has its own budget from there, so siblings do not use up each
other's hops; one incoming message may give rise to at most RULE_ENGINE_MAX_DUPLICATES such
copies in all (further ones are dropped like a message past its hops), which bounds a chain that
duplicates in a loop.

Chains call chains: a node whose Out names a ``chain`` (TbRuleChainInputNode) sends the message to
that chain's first node and remembers where it came from; an Out with ``chain=RETURN``
(TbRuleChainOutputNode) takes it back to the calling node, leaving by the relation the Out names.
``resume`` starts messages after a node (the delay node's timer, the generator's beat job).

Tenancy: a message whose originator is not an entity of its tenant (rulechains/originators.py)
runs no node. Where it enters (``process``, ``resume``) it is dropped, counted in
``Report.refused``, logged, and recorded as an error event on the node it would have entered
(``process``) or come from (``resume``) when that node records failures: routing it by a Failure
relation would hand it to the very nodes (a log, a save) that act on its originator. A node that
sends a message on with another originator (change originator) that is not the tenant's sends
the message it got by Failure instead, with its originator unchanged.

Nothing here raises for a message: a node that fails sends it by Failure. Only loading the
chains and checking the originators can raise (database unavailable), before any node ran, so
the task can retry the batch.
"""

import logging
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple

from django.conf import settings
from django.db import connection, transaction

from converters.events import EventBatch
from rulechains import debug, originators, profiles, queue_stats
from rulechains.messages import FAILURE, Msg
from rulechains.models import RuleChain, RuleNode, RuleNodeConnection
from rulechains.nodes import NODES
from rulechains.nodes.base import RETURN, NodeContext, Out, fail, max_duplicates
from tbproject.clock import now_ms

__all__ = ["process", "resume", "Report", "Graph", "load_root_chains", "load_chains", "root_chains", "forget_chains",
           "max_hops", "max_duplicates",
           "CHAIN_CACHE_SECONDS"]

log = logging.getLogger(__name__)


def max_hops() -> int:
    return int(getattr(settings, "RULE_ENGINE_MAX_HOPS", 100))


@dataclass
class Report:
    """What a batch did (for logs and tests)."""

    messages: int = 0
    node_runs: int = 0
    failures: int = 0
    hop_limited: int = 0
    unrouted: int = 0
    refused: int = 0  # originator not an entity of the message's tenant: dropped where it entered


@dataclass
class Graph:
    """A chain ready to run: node rows by index, and targets by (index, relation)."""

    chain: RuleChain
    nodes: dict[int, RuleNode] = field(default_factory=dict)
    links: dict[tuple[int, str], list[int]] = field(default_factory=lambda: defaultdict(list))

    @property
    def first(self) -> int | None:
        index = self.chain.first_node_index
        return index if index in self.nodes else None


class _Item(NamedTuple):
    msg: Msg
    root: int  # its hop budget (and debug msgId): an incoming message's, or a copy's (Out.fork)
    relation: str
    stack: tuple = ()  # (chain id, node index) of the rule chain nodes that called into this chain


def load_root_chains(tenant_ids) -> dict:
    """{tenant id: Graph} of the root chains (with nodes) of these tenants, in two queries."""
    graphs = _load(rule_chain__tenant_id__in=list(tenant_ids), rule_chain__root=True)
    return {g.chain.tenant_id: g for g in graphs.values()}


def load_chains(tenant_id, chain_ids) -> dict:
    """{chain id: Graph} of these chains of the tenant (others' chains are left out)."""
    return _load(rule_chain__tenant_id=tenant_id, rule_chain_id__in=list(chain_ids))


def _load(**lookup) -> dict:
    graphs: dict = {}
    index_of = {}
    for row in RuleNode.objects.filter(**lookup).order_by().select_related("rule_chain"):
        graph = graphs.get(row.rule_chain_id)
        if graph is None:
            graph = graphs[row.rule_chain_id] = Graph(row.rule_chain)
        graph.nodes[row.index] = row
        index_of[row.pk] = row.index
    if not graphs:
        return {}
    rows = RuleNodeConnection.objects.filter(rule_chain_id__in=list(graphs)).order_by()
    for chain_id, from_id, to_id, relation in rows.values_list("rule_chain_id", "from_node_id", "to_node_id", "type"):
        if from_id in index_of and to_id in index_of:
            graphs[chain_id].links[(index_of[from_id], relation)].append(index_of[to_id])
    return graphs


#: Seconds a tenant's loaded root chain (or its absence) is reused by this process.
CHAIN_CACHE_SECONDS = 2.0
_chains: dict = {}  # tenant id -> (expires, Graph | None)
_chains_lock = threading.Lock()


def forget_chains() -> None:
    with _chains_lock:
        _chains.clear()


def root_chains(tenant_ids) -> dict:
    """{tenant id: Graph} like :func:`load_root_chains`, cached per tenant for CHAIN_CACHE_SECONDS;
    the tenants not cached are loaded together."""
    now = time.monotonic()
    found, missing = {}, []
    for tenant_id in tenant_ids:
        hit = _chains.get(tenant_id)
        if hit is not None and hit[0] > now:
            if hit[1] is not None:
                found[tenant_id] = hit[1]
        else:
            missing.append(tenant_id)
    if missing:
        loaded = load_root_chains(missing)
        with _chains_lock:
            if len(_chains) > 10_000:
                _chains.clear()
            for tenant_id in missing:
                _chains[tenant_id] = (now + CHAIN_CACHE_SECONDS, loaded.get(tenant_id))
        found.update(loaded)
    return found


def process(messages: list[Msg], *, now: int | None = None) -> Report:
    """Run ``messages`` through their tenants' root chains (or their originator profile's default
    rule chain); never raises for a message."""
    report = Report(messages=len(messages))
    refused = originators.foreign(messages)  # one query per originator type for the whole batch
    by_tenant: dict = defaultdict(list)
    dropped: dict = defaultdict(list)
    for i, msg in enumerate(messages):
        (dropped if i in refused else by_tenant)[msg.tenant_id].append(msg)
    roots = root_chains(by_tenant.keys() | dropped.keys())
    queue_stats.noted(by_tenant.keys())  # once per process and tenant: GET /api/queueStats
    # profiles' default rule chains replace the root
    chosen = profiles.default_chains([m for i, m in enumerate(messages) if i not in refused] if refused else messages)
    now = now_ms() if now is None else now
    with debug.Recorder() as events:
        for tenant_id, msgs in dropped.items():
            root = roots.get(tenant_id)
            first = root.nodes[root.first] if root is not None and root.first is not None else None
            _refuse(tenant_id, first, "IN", "", msgs, now, events, report)
        for tenant_id, msgs in by_tenant.items():
            root = roots.get(tenant_id)
            graphs = {root.chain.pk: root} if root else {}
            wanted = {chosen[(tenant_id, m.originator_id)] for m in msgs if (tenant_id, m.originator_id) in chosen}
            if wanted - set(graphs):
                graphs.update(load_chains(tenant_id, wanted - set(graphs)))
            start: dict = {}
            for i, m in enumerate(msgs):
                graph = graphs.get(chosen.get((tenant_id, m.originator_id))) or root
                if graph is None or graph.first is None:
                    report.unrouted += 1
                    continue
                start.setdefault((graph.chain.pk, graph.first), []).append(_Item(m, i, ""))
            if start:
                _run(graphs, start, len(msgs), NodeContext(tenant_id, now), events, report)
    return report


def resume(tenant_id, chain_id, node_id, relation: str, msgs: list[Msg], stack=(), *, now: int | None = None) -> Report:
    """Run ``msgs`` on from node ``node_id`` of the tenant's chain ``chain_id`` as if it had sent
    them by ``relation`` (``stack``: the calling chains, as the engine keeps them)."""
    report = Report(messages=len(msgs))
    graph = load_chains(tenant_id, [chain_id]).get(chain_id)
    index = next((i for i, row in (graph.nodes.items() if graph else ()) if row.pk == node_id), None)
    if index is None:
        report.unrouted += len(msgs)
        return report
    stack = tuple((uuid.UUID(str(c)), int(i)) for c, i in stack)
    refused = originators.foreign(msgs, tenant_id)
    items = [_Item(m, i, relation, stack) for i, m in enumerate(msgs) if i not in refused]
    graphs = {chain_id: graph}
    with debug.Recorder() as events:
        ctx = NodeContext(tenant_id, now_ms() if now is None else now)
        pending: dict = {}
        row = graph.nodes[index]
        if refused:
            _refuse(tenant_id, row, "OUT", relation, [msgs[i] for i in sorted(refused)], ctx.now, events, report)
        for item in items:
            if debug.wants(row, failed=False, now=ctx.now):  # what the node sends now, as if it ran now
                events.add(debug.event(row, "OUT", item.msg, str(uuid.uuid4()), relation, None, ctx.now))
            _route(graphs, ctx, (chain_id, index), item, relation, None, pending)
        _run(graphs, pending, len(msgs), ctx, events, report)
    return report


def _refuse(tenant_id, row, direction: str, relation: str, msgs: list, now: int, events: EventBatch,
            report: Report) -> None:
    """Drop ``msgs``, whose originators are not the tenant's: counted, logged, and an error event
    on node ``row`` (the one they would have entered, or come from) if it records failures."""
    report.refused += len(msgs)
    wanted = row is not None and debug.wants(row, failed=True, now=now)
    for msg in msgs if wanted else ():
        events.add(debug.event(row, direction, msg, str(uuid.uuid4()), relation, _dropped(msg), now))
    log.warning("rule engine: %d message(s) of tenant %s dropped: %s", len(msgs), tenant_id, _dropped(msgs[0]))


def _dropped(msg: Msg) -> str:
    return f"{originators.not_found(msg)}: the message is dropped, its originator is not an entity of this tenant"


def _check_swaps(ctx: NodeContext, msgs: list[Msg], outs: list) -> list:
    """``outs`` with each message that a node sent on with an originator of its own choosing (change
    originator) that is not the tenant's replaced by the message it got, by Failure."""
    swaps = []
    for i, out_list in enumerate(outs):
        msg = msgs[i]
        for out in out_list:
            new = out.msg
            if new is not msg and (new.originator_id != msg.originator_id
                                   or new.originator_type != msg.originator_type):
                swaps.append((i, out))
    if not swaps:
        return outs
    refused = originators.foreign([out.msg for _, out in swaps], ctx.tenant_id)
    for k in refused:
        i, out = swaps[k]
        outs[i] = [Out(FAILURE, msgs[i], originators.not_found(out.msg)) if o is out else o for o in outs[i]]
    return outs


def _route(graphs: dict, ctx: NodeContext, at: tuple, item: _Item, relation: str, chain, pending: dict) -> None:
    """Queue ``item`` (leaving node ``at`` by ``relation``) at the nodes it goes to next."""
    stack = item.stack
    if chain == RETURN:  # an output node: back to the node that called this chain, by the output's name
        if not stack:
            return
        at, stack = stack[-1], stack[:-1]
    for chain_id in (chain if chain not in (None, RETURN) else None, at[0]):
        if chain_id is not None and chain_id not in graphs:  # a called chain, or a caller after a delay
            graphs.update(load_chains(ctx.tenant_id, [chain_id]))
    if chain not in (None, RETURN):  # a rule chain node: on to the first node of that chain
        graph = graphs.get(chain)
        if graph is not None and graph.first is not None:
            pending.setdefault((chain, graph.first), []).append(item._replace(relation=relation,
                                                                               stack=(*stack, at)))
        return
    graph = graphs.get(at[0])
    for target in graph.links.get((at[1], relation), ()) if graph is not None else ():
        pending.setdefault((at[0], target), []).append(_Item(item.msg, item.root, relation, stack))


def _always(row, *, failed: bool, now: int | None = None) -> bool:
    return True


def _run(graphs: dict, pending: dict, count: int, ctx: NodeContext, events: EventBatch, report: Report, *,
         trial: bool = False) -> None:
    """Walk ``pending`` to the end. ``trial`` (rulechains/trial.py): every node records its events,
    whatever its debug settings, and nodes with side effects are simulated."""
    limit, fork_limit = max_hops(), max_duplicates()
    wants = _always if trial else debug.wants
    runs = [0] * count  # per hop budget: nodes run; budgets 0..count-1 are the incoming messages'
    origin = list(range(count))  # per hop budget: the incoming message it descends from
    forks = [0] * count  # per incoming message: copies made of it and of its copies (Out.fork)
    warned: set[int] = set()
    # Debug events name the incoming message a copy descends from; ids are made only when needed.
    base = uuid.uuid4().int

    def msg_id(root: int) -> str:
        return str(uuid.UUID(int=(base + root) % (1 << 128)))

    while pending:
        key = next(iter(pending))  # oldest first: messages that arrive together run together
        items = pending.pop(key)
        graph = graphs[key[0]]
        row = graph.nodes[key[1]]
        ready = []
        for item in items:
            runs[item.root] += 1
            if runs[item.root] <= limit:
                ready.append(item)
                continue
            report.hop_limited += 1
            error = (f"Message dropped: it and its copies ran {limit} rule nodes (RULE_ENGINE_MAX_HOPS); "
                     f"is there a loop in rule chain '{graph.chain.name}'?")
            if origin[item.root] not in warned:
                warned.add(origin[item.root])
                log.warning("%s (node '%s')", error, row.name)
            if wants(row, failed=True, now=ctx.now):
                events.add(debug.event(row, "IN", item.msg, msg_id(item.root), item.relation, error, ctx.now))
        if not ready:
            continue
        report.node_runs += len(ready)
        if wants(row, failed=False, now=ctx.now):
            for item in ready:
                events.add(debug.event(row, "IN", item.msg, msg_id(item.root), item.relation, None, ctx.now))
        ctx.stacks = [item.stack for item in ready]  # for nodes that hand messages on later (delay)
        started = time.perf_counter()
        msgs = [item.msg for item in ready]
        outs = _run_node(row, ctx, msgs, trial)
        duration = round((time.perf_counter() - started) * 1000, 3)
        outs = _check_swaps(ctx, msgs, outs)
        for item, out_list in zip(ready, outs, strict=True):
            for out in out_list:
                failed = out.relation == FAILURE
                report.failures += failed
                if wants(row, failed=failed, now=ctx.now):
                    events.add(debug.event(row, "OUT", out.msg, msg_id(item.root), out.relation, out.error, ctx.now,
                                           duration))
                nxt = item._replace(msg=out.msg)
                if out.fork:
                    first = origin[item.root]
                    forks[first] += 1
                    if forks[first] > fork_limit:
                        report.hop_limited += 1
                        if forks[first] == fork_limit + 1:
                            log.warning("Copies dropped: one message gave rise to more than %d copies "
                                        "(RULE_ENGINE_MAX_DUPLICATES) at node '%s' of rule chain '%s'",
                                        fork_limit, row.name, graph.chain.name)
                        continue
                    runs.append(runs[item.root])  # the copy's own budget, from its parent's hop count
                    origin.append(first)
                    nxt = nxt._replace(root=len(runs) - 1)
                _route(graphs, ctx, key, nxt, out.relation, out.chain, pending)


def _run_node(row: RuleNode, ctx: NodeContext, msgs: list[Msg], trial: bool = False) -> list:
    """The node's Outs per message; every failure of the node itself becomes Failure Outs. In a
    trial a node with side effects is simulated (BaseNode.simulate)."""
    try:
        node = NODES.load(row.type)(row)
    except KeyError:
        return [fail(m, f"Unsupported rule node type: {row.type}") for m in msgs]
    except Exception as e:  # a configuration stored before it was validated (admin, old data)
        return [fail(m, f"Invalid configuration: {e}") for m in msgs]
    try:
        if trial and node.side_effects:
            outs = node.simulate(ctx, msgs)
        elif node.savepoint and connection.in_atomic_block:  # a failed query must not poison the caller's transaction
            with transaction.atomic():
                outs = node.process_batch(ctx, msgs)
        else:
            outs = node.process_batch(ctx, msgs)
        if len(outs) != len(msgs):
            raise RuntimeError(f"{type(node).__name__} returned {len(outs)} results for {len(msgs)} messages")
        return outs
    except Exception as e:
        log.exception("rule node '%s' (%s) failed on a batch of %d", row.name, row.type, len(msgs))
        return [fail(m, f"{type(e).__name__}: {e}"[:1024]) for m in msgs]
