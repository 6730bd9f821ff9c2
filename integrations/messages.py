"""What transports hand to the uplink pipeline (DESIGN.md section 3)."""

from dataclasses import dataclass, field

__all__ = ["RawUplink"]


@dataclass(frozen=True, slots=True)
class RawUplink:
    """One message as it arrived: bytes and string metadata, before any script ran.

    ``metadata`` already holds ``integrationName``, the integration's configuration.metadata and
    the transport's keys (``Header:<name>`` for HTTP, ``topic`` for MQTT). ``content_type`` is
    JSON, TEXT or BINARY: a hint for debug events; the decoder always receives bytes.
    """

    integration_id: str
    payload: bytes
    metadata: dict[str, str] = field(default_factory=dict)
    received_ts: int = 0
    content_type: str = "BINARY"
