"""What a downlink encoder returned, normalised (reference 4.5): ``{contentType, data, metadata}``."""

import base64
import binascii
import json
from dataclasses import dataclass, field

from converters.output import OutputError, kind_name, parse_output

__all__ = ["DownlinkPayload", "normalise_downlink"]


@dataclass(frozen=True, slots=True)
class DownlinkPayload:
    """What an encoder returned: content type JSON, TEXT or BINARY (``data`` then base64)."""

    content_type: str
    data: str
    metadata: dict[str, str] = field(default_factory=dict)

    def payload_bytes(self) -> bytes:
        if self.content_type == "BINARY":
            return base64.b64decode(self.data)
        return self.data.encode("utf-8")


def normalise_downlink(output, notes: list | None = None) -> DownlinkPayload:
    """Encoder output ``{contentType, data, metadata}`` -> DownlinkPayload.

    ``contentType`` defaults to JSON when absent; ``data`` is a string (numbers and booleans are
    turned into text, an object or array into its JSON text); BINARY data must be base64 text;
    metadata values must be scalars."""
    if isinstance(output, str):
        output = parse_output(output)
    if not isinstance(output, dict):
        raise OutputError(f"the encoder must return an object {{contentType, data, metadata}}, not {kind_name(output)}")
    if notes is not None and "contentType" not in output:
        notes.append("contentType: not given; the downlink is sent as JSON")
    content_type = output.get("contentType", "JSON")
    if not isinstance(content_type, str) or content_type.upper() not in ("JSON", "TEXT", "BINARY"):
        raise OutputError(f"contentType: must be JSON, TEXT or BINARY, not {content_type!r}")
    content_type = content_type.upper()
    data = output.get("data")
    if data is None:
        raise OutputError("data: is required")
    if isinstance(data, bool | int | float) and notes is not None:
        notes.append(f"data: {kind_name(data)}, sent as its text")
    if isinstance(data, bool):
        data = "true" if data else "false"
    elif isinstance(data, int | float):
        data = json.dumps(data)
    elif isinstance(data, dict | list) and content_type != "BINARY":
        if notes is not None:
            notes.append(f"data: {kind_name(data)}, sent as its JSON text")
        data = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    elif not isinstance(data, str):
        raise OutputError(f"data: must be a string, not {kind_name(data)} (use JSON.stringify)")
    if content_type == "BINARY":
        try:
            base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise OutputError("data: BINARY content must be base64 (use btoa)") from None
    metadata = output.get("metadata")
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise OutputError(f"metadata: must be an object of strings, not {kind_name(metadata)}")
    clean = {}
    for key, value in metadata.items():
        if value is None:
            continue
        if isinstance(value, dict | list):
            raise OutputError(f"metadata.{key}: must be a string, not {kind_name(value)}")
        clean[key] = value if isinstance(value, str) else json.dumps(value)
    return DownlinkPayload(content_type, data, clean)
