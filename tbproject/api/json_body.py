"""The JSON body of a plain Django view (one DRF does not parse: the device HTTP API, claiming,
provisioning), read once with the same rules everywhere:

    body = json_body(request, limit=settings.HTTP_INTEGRATION_MAX_BODY_BYTES)
    if isinstance(body, HttpResponse):
        return body                     # 413 or 400, ThingsBoard's error JSON with a clear message
    body = json_body(request, empty={})  # a body that may be empty (or blank): {} then

- size: past ``limit`` bytes (default API_MAX_BODY_BYTES, Django's DATA_UPLOAD_MAX_MEMORY_SIZE) a
  413, decided from Content-Length before anything is read, and from the bytes read when the
  header is missing or lies; at most ``limit + 1`` bytes are read;
- text: UTF-8 only (json.loads would also guess UTF-16 and UTF-32); anything else is a 400;
- JSON: strict (no NaN or Infinity, which no column and no other client can take), a 400 with the
  parser's message; nesting past the parser's depth is a 400, not a RecursionError;
- storable: a NUL character or a lone surrogate in any key or string (PostgreSQL's text and jsonb
  refuse both) is a 400 here, rather than a 500 at the save (tbproject/text.py);
- empty: a 400 unless ``empty`` is given, which is then the value (pass a fresh ``{}``).

Read the Django request before anything else reads its stream (DRF's ``request.data`` would).

:func:`scalar_text` reads one field the way ThingsBoard's Gson ``getAsString`` does.
"""

import json

from django.conf import settings
from django.http import JsonResponse

from tbproject.api.exceptions import ErrorCode, tb_error
from tbproject.text import check_json

__all__ = ["json_body", "scalar_text", "REFUSE"]

#: ``empty=`` default: an empty body is a 400
REFUSE = object()


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON value")


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse(tb_error(status, message, ErrorCode.BAD_REQUEST_PARAMS), status=status)


def json_body(request, *, limit: int | None = None, empty=REFUSE):
    """The parsed JSON body of ``request``, or the HttpResponse (413 or 400) to answer instead."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE if limit is None else limit
    too_large = f"Request body is larger than {limit} bytes"
    declared = request.META.get("CONTENT_LENGTH") or ""
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        return _error(413, too_large)
    # read(), not .body: .body applies API_MAX_BODY_BYTES (DATA_UPLOAD_MAX_MEMORY_SIZE), not ``limit``
    raw = request.read(limit + 1)
    if len(raw) > limit:
        return _error(413, too_large)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return _error(400, f"Invalid JSON body: not UTF-8 text (byte 0x{raw[e.start]:02x} at position {e.start})")
    if not text.strip():
        return _error(400, "Invalid JSON body: the body is empty") if empty is REFUSE else empty
    try:
        return check_json(json.loads(text, parse_constant=_refuse_constant))
    except RecursionError:
        return _error(400, "Invalid JSON body: nested too deeply")
    except ValueError as e:  # json.JSONDecodeError is one; so are check_json's and _refuse_constant's
        return _error(400, f"Invalid JSON body: {str(e)[:200]}")


def scalar_text(value, name: str) -> str:
    """A JSON scalar as Gson's ``getAsString`` reads it: a string as it is, a number or a boolean
    as its text (``true``, ``42``, ``1.5``); anything else (null, an object, an array) is a
    ValueError naming the field. A float shows as Python writes it (Gson keeps the text sent:
    ``1e3`` is "1000.0" here, "1e3" there)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    raise ValueError(f"{name} must be a string")
