"""The remote-integration wire protocol: JSON text frames over one websocket (both directions).

The remote runner connects to ``/ws/integrations/remote`` with the integration's routing key and
secret in the handshake headers (KEY_HEADER, SECRET_HEADER): a wrong pair is refused before the
websocket opens (HTTP 403). Then:

remote -> server
  ``hello``     {version, host, outboxId, outboxDepth, dropped}: first frame
  ``uplinks``   {seq, uplinks: [[payload base64, metadata, received_ts, content_type(, conversion)], ...]}
                conversion (integration ``convertRemotely``, remote/convert.py): what the
                remote's converter made of the uplink, {converter, version, output | error,
                metadata?, us?}; the raw payload travels too (debug events, dead letters)
  ``status``    {outboxDepth, dropped, connected?, error?, method?}: the listener's state
  ``lifecycle`` {event, error?}: the hosted listener STARTED / STOPPED / FAILED on the remote
  ``dropped``   {reason, payload (base64, at most 1 KB), metadata}: a frame the listener refused
  ``downlinkResult`` {id, error?, permanent?}
  ``replyTaken`` {id}: an offered downlink (``replies``) answered its device's request

server -> remote
  ``config``    {integration: {id, name, type, enabled, version, configuration, converter?, ...}, ackedSeq}
                converter (only with ``convertRemotely``): {id, key, version, scriptVersion,
                type, converterVersion, lang, script, configuration, limits}; sent again when saved
                replyDecoder (types that answer a device's next request with its downlink: HTTP
                family, CoAP): the same fields, the converter that names a request's devices
  ``ack``       {seq}: the batch is durably queued on the server (or was already: a resend)
  ``nack``      {seq, error}: the batch can never be queued (malformed): the remote drops it
  ``downlink``  {id, deviceName, payload (base64), contentType, metadata, route}
  ``replies``   {downlinks: [{id, deviceName, payload, contentType, metadata, ...}, ...]}: for types
                that answer the next request, the newest PENDING downlink of each device, the whole
                set again whenever it changes (remote/replies.py); it stays PENDING on the server
                until ``replyTaken``

Batches are numbered by the remote's outbox (``seq`` grows and is never reused within one
``outboxId``); the server remembers the highest acknowledged ``seq`` per (integration, outboxId)
and acknowledges a resent batch again without queueing it twice. ``ackedSeq`` in ``config`` tells
a reconnecting remote what the server already has, so an acknowledgement lost with the
connection costs nothing.

This module imports nothing of Django: the remote runner uses it without settings.
"""

import base64
import json
import logging

from integrations.messages import Downlink, RawUplink

__all__ = ["PATH", "KEY_HEADER", "SECRET_HEADER", "PROTOCOL_VERSION", "MAX_BATCH", "MAX_FRAME_BYTES", "ProtocolError",
           "frame", "parse", "encode_uplinks", "decode_uplinks", "clean_conversion", "encode_downlink",
           "decode_downlink", "encode_replies"]

PATH = "/ws/integrations/remote"
KEY_HEADER, SECRET_HEADER = "X-Integration-Key", "X-Integration-Secret"
PROTOCOL_VERSION = 1
#: Uplinks per batch, and bytes per frame, that the server accepts (and the remote sends at most).
MAX_BATCH = 500
MAX_FRAME_BYTES = 4 * 1024 * 1024


log = logging.getLogger(__name__)


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
    return [[b64(u.payload).decode("ascii"), u.metadata, u.received_ts, u.content_type,
             *((u.conversion,) if u.conversion is not None else ())] for u in uplinks]


def clean_conversion(value, server: str = "") -> dict | None:
    """A remote's conversion of one uplink as the pipeline reads it, or None when it is not one
    (the server then converts the raw uplink itself: nothing is lost). ``server`` names the remote
    in the converter's debug events."""
    if not isinstance(value, dict):
        return None
    key, version, metadata, us = value.get("converter"), value.get("version"), value.get("metadata"), value.get("us", 0)
    results = [k for k in ("output", "error") if isinstance(value.get(k), str)]
    if (not isinstance(key, str) or not isinstance(version, int) or isinstance(version, bool) or len(results) != 1
            or (metadata is not None and not isinstance(metadata, dict)) or not isinstance(us, int) or us < 0):
        return None
    out = {"converter": key, "version": version, results[0]: value[results[0]], "us": us, "server": server}
    if metadata is not None:
        out["metadata"] = dict(metadata)
    return out


def decode_uplinks(integration_id: str, items, server: str = "") -> list[RawUplink]:
    """The uplinks of an ``uplinks`` frame, attributed to ``integration_id`` (the authenticated one).
    A malformed conversion is left out (clean_conversion): the server converts that uplink."""
    if not isinstance(items, list) or not items:
        raise ProtocolError("'uplinks' must be a non-empty list")
    if len(items) > MAX_BATCH:
        raise ProtocolError(f"a batch holds at most {MAX_BATCH} uplinks, not {len(items)}")
    out = []
    for n, item in enumerate(items):
        try:
            payload, metadata, received_ts, content_type, *conversion = item
            if len(conversion) > 1:
                raise ValueError(f"{len(item)} fields, at most 5")
            if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
                raise ValueError("metadata must map strings to strings")
            if content_type not in ("JSON", "TEXT", "BINARY"):
                raise ValueError(f"content type {content_type!r}")
            done = clean_conversion(conversion[0], server) if conversion else None
            if conversion and done is None:
                log.warning("uplink %d carries a malformed conversion: ignored, the server converts it", n)
            out.append(RawUplink(integration_id, base64.b64decode(payload, validate=True), dict(metadata),
                                 int(received_ts), content_type, done))
        except (TypeError, ValueError) as exc:
            raise ProtocolError(f"uplink {n} is malformed: {exc}") from None
    return out


def _downlink_fields(downlink_id: str, downlink: Downlink) -> dict:
    return {"id": downlink_id, "deviceName": downlink.device_name,
            "payload": base64.b64encode(downlink.payload).decode("ascii"), "contentType": downlink.content_type,
            "metadata": downlink.metadata, "route": downlink.route, "originatorId": downlink.originator_id,
            "ts": downlink.ts}


def encode_downlink(downlink_id: str, downlink: Downlink) -> str:
    return frame("downlink", **_downlink_fields(downlink_id, downlink))


def encode_replies(downlinks: list[tuple[str, Downlink]]) -> str:
    """A ``replies`` frame: ``(id, downlink)`` pairs; each item reads back with decode_downlink."""
    return frame("replies", downlinks=[_downlink_fields(i, d) for i, d in downlinks])


def decode_downlink(integration_id: str, data: dict) -> Downlink:
    try:
        return Downlink(integration_id=integration_id, device_name=str(data.get("deviceName") or ""),
                        payload=base64.b64decode(data["payload"]), content_type=str(data.get("contentType") or "JSON"),
                        metadata=dict(data.get("metadata") or {}), route=dict(data.get("route") or {}),
                        originator_id=str(data.get("originatorId") or ""), ts=int(data.get("ts") or 0))
    except (KeyError, TypeError, ValueError) as exc:
        raise ProtocolError(f"downlink is malformed: {exc}") from None
