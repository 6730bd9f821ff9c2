"""The uplink pipeline's hand-off to the rule engine (DESIGN.md section 3, last step).

After a batch is stored, the pipeline calls :func:`dispatch` once with one :class:`RuleEngineMsg`
per entity and message type, as ThingsBoard's integrations push POST_TELEMETRY_REQUEST and
POST_ATTRIBUTES_REQUEST messages into the rule engine. The data is already stored when this runs
(telemetry, latest values and SERVER_SCOPE attributes, after ``updateOnlyKeys``), so a rule chain
needs no "save" node for it; it routes, enriches, alarms and sends downlinks.

It does nothing yet: the rule-chain issue fills :func:`dispatch` in (e.g. one Celery task per
batch on a "rules" queue). It must stay cheap and must not raise for one bad message: the
uplinks it describes are stored and acknowledged already.
"""

from dataclasses import dataclass, field
from uuid import UUID

__all__ = ["POST_TELEMETRY_REQUEST", "POST_ATTRIBUTES_REQUEST", "RuleEngineMsg", "dispatch"]

POST_TELEMETRY_REQUEST = "POST_TELEMETRY_REQUEST"
POST_ATTRIBUTES_REQUEST = "POST_ATTRIBUTES_REQUEST"


@dataclass(frozen=True, slots=True)
class RuleEngineMsg:
    """One rule-engine message about one device or asset.

    ``data`` is ThingsBoard's message body: for telemetry a list of ``{"ts": ms, "values": {...}}``,
    for attributes a flat ``{key: value}``. ``metadata`` holds ``deviceName``/``deviceType`` (or
    ``assetName``/``assetType``), ``integrationName``, ``integrationId`` and ``ts``."""

    msg_type: str
    tenant_id: UUID
    originator_type: str  # DEVICE | ASSET
    originator_id: UUID
    data: dict | list
    metadata: dict[str, str] = field(default_factory=dict)


def dispatch(messages: list[RuleEngineMsg]) -> None:
    """Hand stored uplink data to the rule engine. A no-op until rule chains exist."""
