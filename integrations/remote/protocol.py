"""The remote-integration wire protocol: JSON text frames over one websocket (both directions).

The remote runner connects to ``/ws/integrations/remote`` with the integration's routing key and
secret in the handshake headers (KEY_HEADER, SECRET_HEADER): a wrong pair is refused before the
websocket opens (HTTP 403). Then:

remote -> server
  ``hello``     {version, host, outboxId, outboxDepth, dropped}: first frame
  ``uplinks``   {seq, uplinks: [[payload base64, metadata, received_ts, content_type], ...]}
  ``status``    {outboxDepth, dropped, connected?, error?, method?}: the listener's state
  ``lifecycle`` {event, error?}: the hosted listener STARTED / STOPPED / FAILED on the remote
  ``dropped``   {reason, payload (base64, at most 1 KB), metadata}: a frame the listener refused
  ``downlinkResult`` {id, error?, permanent?}

server -> remote
  ``config``    {integration: {id, name, type, enabled, version, configuration, ...}, ackedSeq}
  ``ack``       {seq}: the batch is durably queued on the server (or was already: a resend)
  ``nack``      {seq, error}: the batch can never be queued (malformed): the remote drops it
  ``downlink``  {id, deviceName, payload (base64), contentType, metadata, route}

Batches are numbered by the remote's outbox (``seq`` grows and is never reused within one
``outboxId``); the server remembers the highest acknowledged ``seq`` per (integration, outboxId)
and acknowledges a resent batch again without queueing it twice. ``ackedSeq`` in ``config`` tells
a reconnecting remote what the server already has, so an acknowledgement lost with the
connection costs nothing.

This module imports nothing of Django: the remote runner uses it without settings.
"""

import base64
import json

from integrations.messages import Downlink, RawUplink

__all__ = ["PATH", "KEY_HEADER", "SECRET_HEADER", "PROTOCOL_VERSION", "MAX_BATCH", "MAX_FRAME_BYTES", "ProtocolError",
           "frame", "parse", "encode_uplinks", "decode_uplinks", "encode_downlink", "decode_downlink"]

PATH = "/ws/integrations/remote"
KEY_HEADER, SECRET_HEADER = "X-Integration-Key", "X-Integration-Secret"
PROTOCOL_VERSION = 1
#: Uplinks per batch, and bytes per frame, that the server accepts (and the remote sends at most).
MAX_BATCH = 500
MAX_FRAME_BYTES = 4 * 1024 * 1024


class ProtocolError(ValueError):
    """A frame that does not follow the protocol; the message says what is wrong."""


def frame(kind: str, **fields) -> str:
    return json.dumps({"type": kind, **fields}, separators=(",", ":"))


def parse(text) -> dict:
    """The JSON object of a text frame, with a string ``type``; ProtocolError otherwise."""
    if not isinstance(text, str):
        raise ProtocolError("frames are JSON text, not binary")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ProtocolError(f"frame is not JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise ProtocolError("frame must be a JSON object with a string 'type'")
    return data


def encode_uplinks(uplinks: list[RawUplink]) -> list:
    b64 = base64.b64encode
    return [[b64(u.payload).decode("ascii"), u.metadata, u.received_ts, u.content_type] for u in uplinks]


def decode_uplinks(integration_id: str, items) -> list[RawUplink]:
    """The uplinks of an ``uplinks`` frame, attributed to ``integration_id`` (the authenticated one)."""
    if not isinstance(items, list) or not items:
        raise ProtocolError("'uplinks' must be a non-empty list")
    if len(items) > MAX_BATCH:
        raise ProtocolError(f"a batch holds at most {MAX_BATCH} uplinks, not {len(items)}")
    out = []
    for n, item in enumerate(items):
        try:
            payload, metadata, received_ts, content_type = item
            if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
                raise ValueError("metadata must map strings to strings")
            if content_type not in ("JSON", "TEXT", "BINARY"):
                raise ValueError(f"content type {content_type!r}")
            out.append(RawUplink(integration_id, base64.b64decode(payload, validate=True), dict(metadata),
                                 int(received_ts), content_type))
        except (TypeError, ValueError) as exc:
            raise ProtocolError(f"uplink {n} is malformed: {exc}") from None
    return out


def encode_downlink(downlink_id: str, downlink: Downlink) -> str:
    return frame("downlink", id=downlink_id, deviceName=downlink.device_name,
                 payload=base64.b64encode(downlink.payload).decode("ascii"), contentType=downlink.content_type,
                 metadata=downlink.metadata, route=downlink.route, originatorId=downlink.originator_id,
                 ts=downlink.ts)


def decode_downlink(integration_id: str, data: dict) -> Downlink:
    try:
        return Downlink(integration_id=integration_id, device_name=str(data.get("deviceName") or ""),
                        payload=base64.b64decode(data["payload"]), content_type=str(data.get("contentType") or "JSON"),
                        metadata=dict(data.get("metadata") or {}), route=dict(data.get("route") or {}),
                        originator_id=str(data.get("originatorId") or ""), ts=int(data.get("ts") or 0))
    except (KeyError, TypeError, ValueError) as exc:
        raise ProtocolError(f"downlink is malformed: {exc}") from None
