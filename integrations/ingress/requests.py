"""The parts of an uplink request that need no database: its path, headers, body and content kind.

Used by the ingress (handler.py, asgi.py) and by the remote runner's HTTP listener (remote/http.py),
which has no models to import.
"""

import json
from collections.abc import Mapping

from tbproject.asgi_body import ClientGone, read_body

__all__ = ["PREFIX", "ClientGone", "split_path", "headers_of", "read_body", "declared_length", "content_kind",
           "body_problem"]

PREFIX = "/api/v1/integrations/"
_JSON_SUFFIX = "+json"
_TEXT_TYPES = frozenset({"application/xml", "application/javascript", "application/x-www-form-urlencoded"})


def split_path(path: str) -> tuple[str, str] | None:
    """(endpoint, routing key) of an ingress path, or None when it is not one."""
    if not path.startswith(PREFIX):
        return None
    endpoint, _, key = path[len(PREFIX):].partition("/")
    key = key[:-1] if key.endswith("/") else key
    if not endpoint or not key or "/" in key:
        return None
    return endpoint, key


def headers_of(scope) -> dict[str, str]:
    """An ASGI scope's headers, names lower-case, repeats joined with ", "."""
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", ()):
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def declared_length(headers: Mapping[str, str]) -> int | None:
    try:
        return int(headers["content-length"])
    except (KeyError, ValueError):
        return None


def content_kind(content_type: str) -> tuple[str, str]:
    """RawUplink.content_type (JSON, TEXT or BINARY) and the charset for a Content-Type header.

    Form bodies count as TEXT only when they say so (urlencoded); multipart and unknown types are BINARY.
    """
    mime, _, params = content_type.partition(";")
    mime = mime.strip().lower()
    charset = ""
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"')
    if mime == "application/json" or mime.endswith(_JSON_SUFFIX):
        return "JSON", charset
    if mime.startswith("text/") or mime in _TEXT_TYPES or mime.endswith("+xml"):
        return "TEXT", charset
    return "BINARY", charset


def body_problem(kind: str, charset: str, body: bytes) -> str | None:
    """Why ``body`` cannot be what its content type says, or None."""
    try:
        if kind == "JSON":
            json.loads(body.decode(charset) if charset and charset.lower() not in ("utf-8", "utf8") else body)
        elif kind == "TEXT":
            body.decode(charset or "utf-8")
    except LookupError:
        return f"Unknown charset '{charset[:40]}'"
    except UnicodeDecodeError as e:
        return f"Body is not valid {e.encoding} text"
    except (ValueError, RecursionError) as e:
        return f"Invalid JSON body: {e}"
    return None
