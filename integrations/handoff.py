"""The uplink pipeline's hand-off to the rule engine (DESIGN.md section 3, last step).

After a batch is stored, the pipeline calls :func:`dispatch` once with one :class:`RuleEngineMsg`
per entity and message type, as ThingsBoard's integrations push POST_TELEMETRY_REQUEST and
POST_ATTRIBUTES_REQUEST messages into the rule engine. The data is already stored when this runs
(telemetry, latest values and SERVER_SCOPE attributes, after ``updateOnlyKeys``), so the messages
are marked ``stored``: the save nodes of a rule chain (the root chain has them, as ThingsBoard's
does) pass such a message on without writing it a second time. A node that changes the data or
the type (a script transform, enrichment into the data) makes a message that is no longer
``stored``, which a save node then writes.

:func:`dispatch` queues the whole batch as ONE Celery task (rulechains.tasks.process_messages),
never one per message, through the entry points the rule engine connected (:func:`connect`, from
the rulechains app's ready()): this module does not import the rule engine. It is cheap and
never raises: the uplinks it describes are stored and acknowledged already, so a message that
cannot be queued is logged and dropped.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from uuid import UUID

__all__ = ["POST_TELEMETRY_REQUEST", "POST_ATTRIBUTES_REQUEST", "RuleEngineMsg", "connect", "dispatch", "wanted",
           "rule_engine_messages"]

log = logging.getLogger(__name__)

POST_TELEMETRY_REQUEST = "POST_TELEMETRY_REQUEST"
POST_ATTRIBUTES_REQUEST = "POST_ATTRIBUTES_REQUEST"


@dataclass(frozen=True, slots=True)
class RuleEngineMsg:
    """One rule-engine message about one device or asset (ThingsBoard's TbMsg).

    ``data`` is ThingsBoard's message body: for telemetry a list of ``{"ts": ms, "values": {...}}``,
    for attributes a flat ``{key: value}``. ``metadata`` holds ``deviceName``/``deviceType`` (or
    ``assetName``/``assetType``), ``integrationName``, ``integrationId`` and ``ts``. ``stored``
    says that ``data`` is already stored as this ``msg_type`` says (see the module docstring)."""

    msg_type: str
    tenant_id: UUID
    originator_type: str  # DEVICE | ASSET
    originator_id: UUID
    data: dict | list
    metadata: dict[str, str] = field(default_factory=dict)
    stored: bool = False


#: The rule engine's entry points, connected by the rulechains app when it is ready
#: (rulechains/apps.py): integrations/ hands stored uplinks on without importing the rule engine.
_engine: tuple[Callable[[UUID, str], bool], Callable[[list], None]] | None = None


def connect(acts_on_stored: Callable[[UUID, str], bool], submit: Callable[[list], None]) -> None:
    """Connect the rule engine: ``acts_on_stored(tenant_id, msg_type)`` says whether the tenant's
    root chain does anything with a stored message of that type, ``submit(messages)`` queues them."""
    global _engine
    _engine = (acts_on_stored, submit)


def wanted(tenant_id, msg_type: str) -> bool | None:
    """Whether :func:`dispatch` would pass on a stored ``msg_type`` message of this tenant, so
    that the pipeline need not even build the ones it would leave out (rulechains/shortcut.py).
    None when the root chain could not be read: build them, and :func:`dispatch` asks again."""
    if _engine is None:
        return False
    try:
        return _engine[0](tenant_id, msg_type)
    except Exception:
        log.exception("rule engine: could not read the root chain of tenant %s", tenant_id)
        return None


def dispatch(messages: list[RuleEngineMsg], *, asked: frozenset | set = frozenset()) -> None:
    """Hand stored uplink data to the rule engine: one queued task for the whole batch.

    ``asked``: the (tenant id, message type) pairs :func:`wanted` already said yes to for this
    batch; they are not asked again."""
    if not messages:
        return
    if _engine is None:
        log.warning("rule engine: not connected; %d stored uplink messages are not routed", len(messages))
        return
    acts_on_stored, submit = _engine
    try:
        # Leave out what the tenant's root chain would only pass through (rulechains/shortcut.py).
        keys = {(m.tenant_id, m.msg_type) for m in messages}
        acting = {key for key in keys if key in asked or acts_on_stored(*key)}
        messages = [replace(m, stored=True) for m in messages if (m.tenant_id, m.msg_type) in acting]
        if messages:
            submit(messages)
    except Exception:
        log.exception("rule engine: could not queue %d stored uplink messages; they are not routed", len(messages))


def rule_engine_messages(messages) -> tuple[list[RuleEngineMsg], set]:
    """The batch's rule-engine messages, and the (tenant, message type) pairs the rule engine
    was asked about and said yes to (so that dispatch does not ask again)."""
    out = []
    append, msg = out.append, RuleEngineMsg
    bases: dict = {}
    answers: dict = {}  # (tenant, message type) -> whether the root chain acts on it (None: unknown)
    for m in messages:
        integration = m.integration
        base = bases.get(integration.pk)
        if base is None:
            base = bases[integration.pk] = {"integrationName": integration.name, "integrationId": str(integration.pk)}
            for kind in (POST_TELEMETRY_REQUEST, POST_ATTRIBUTES_REQUEST):
                if (integration.tenant_id, kind) not in answers:
                    answers[(integration.tenant_id, kind)] = wanted(integration.tenant_id, kind)
        series: dict = {}
        if answers[(integration.tenant_id, POST_TELEMETRY_REQUEST)] is not False:
            for entity_id, key, ts, value in m.points:
                series.setdefault(entity_id, {}).setdefault(ts, {})[key] = value
        attributes: dict = {}
        if answers[(integration.tenant_id, POST_ATTRIBUTES_REQUEST)] is not False:
            for entity_id, _, key, value, _ in m.attributes:
                attributes.setdefault(entity_id, {})[key] = value
        if not series and not attributes:
            continue
        ts = str(m.uplink.received_ts)
        for entity in dict.fromkeys(e for e in m.entities if e is not None):
            prefix = "device" if entity.entity_type == "DEVICE" else "asset"
            metadata = {**base, "ts": ts, f"{prefix}Name": entity.name, f"{prefix}Type": entity.profile}
            if entity.pk in series:
                data = [{"ts": t, "values": values} for t, values in series[entity.pk].items()]
                append(msg(POST_TELEMETRY_REQUEST, integration.tenant_id, entity.entity_type, entity.pk,
                           data, metadata))
            if entity.pk in attributes:
                append(msg(POST_ATTRIBUTES_REQUEST, integration.tenant_id, entity.entity_type, entity.pk,
                           attributes[entity.pk], metadata))
    return out, {key for key, answer in answers.items() if answer is True}
