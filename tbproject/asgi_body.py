"""An ASGI request's body, read whole: shared by the uplink ingress (integrations/ingress/) and the
lean attribute saves (devices/api/lean_app.py), and shipped in the remote runner's wheel."""

__all__ = ["ClientGone", "read_body"]


class ClientGone(Exception):
    """The client disconnected before its body was read."""


async def read_body(receive, limit: int | None = None) -> bytes | None:
    """The whole body, or None once it grows past ``limit`` bytes (None: no limit here; the caller
    checked the declared length). Raises ClientGone when the client went away first."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if limit is not None and size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
