"""What transports hand to the uplink pipeline (DESIGN.md section 3)."""

from dataclasses import dataclass, field

from converters.output import slot_constructor

__all__ = ["RawUplink", "Downlink", "raw_uplink"]


@dataclass(frozen=True, slots=True)
class RawUplink:
    """One message as it arrived: bytes and string metadata, before any script ran.

    ``metadata`` already holds ``integrationName``, the integration's configuration.metadata and
    the transport's keys (``Header:<name>`` for HTTP, ``topic`` for MQTT). ``content_type`` is
    JSON, TEXT or BINARY: a hint for debug events; the decoder always receives bytes.

    ``conversion``: what a remote runner's converter made of it (remote/convert.py, the keys in
    integrations/remote/protocol.py); None when the server converts it. The raw payload stays.
    """

    integration_id: str
    payload: bytes
    metadata: dict[str, str] = field(default_factory=dict)
    received_ts: int = 0
    content_type: str = "BINARY"
    conversion: dict | None = None


#: RawUplink(integration_id, payload, metadata, received_ts, content_type, conversion), every
#: field given: half the cost of the dataclass's constructor (integrations.queue.decode makes one
#: per queued uplink)
raw_uplink = slot_constructor(RawUplink)


@dataclass(frozen=True, slots=True)
class Downlink:
    """One encoded downlink on its way to a device: what the downlink converter returned.

    Made by the downlink path (integrations/downlinks/) from a rule-engine message that reached an
    integration downlink node: the encoder's ``{contentType, data, metadata}`` with ``data`` as
    bytes (BINARY is base64 in the encoder's output, decoded here). ``metadata`` is the encoder's
    output metadata (MQTT ``topic``, LoRaWAN ``DevEUI``/``fPort``, HTTP headers ...). ``route``
    is what the pipeline remembered of the device's last uplink through this integration (its
    uplink metadata, e.g. TCP/UDP ``remoteAddress``/``remotePort``), empty when none was seen:
    a transport that replies "on the device's connection" finds the connection with it.
    """

    integration_id: str
    device_name: str
    payload: bytes
    content_type: str = "JSON"
    metadata: dict[str, str] = field(default_factory=dict)
    route: dict[str, str] = field(default_factory=dict)
    originator_id: str = ""
    ts: int = 0
