"""Reading and writing the AdminSettings documents, with a short per-process cache: the JWT and security
documents are read on every request and login, and a settings change is rare.

A change made in this process is seen at once; another process (a second web worker) sees it within
``TTL`` seconds. Values posted by a client are checked here for what every document shares: a JSON
object, no NUL characters, numbers a column and Java's long can hold, a bounded size.
"""

import asyncio
import email.utils
import json
import re
from concurrent.futures import ThreadPoolExecutor

from django.db import connections

from tbproject.process_cache import ProcessCache
from tbproject.text import check_json
from tenants.models import AdminSettings

__all__ = ["SettingsError", "TTL", "MAX_BYTES", "read", "prefetch", "write", "forget", "checked_document", "integer",
           "mail_address"]

TTL = 5.0
MAX_BYTES = 64 * 1024
LONG_MAX = 2**63 - 1
_ADDRESS = re.compile(r"[^@\s,;<>\"]+@[^@\s,;<>\"]+")  # as lax as a mail server: one local part, one domain

#: key -> the stored document, or _ABSENT when nothing is stored (ProcessCache keeps no None)
_cache = ProcessCache(max_entries=1_000)
_ABSENT: dict = {}
#: where an event loop's thread (the lean ASGI app checking a token) reads a document: the ORM refuses to
#: run in that thread; one worker, so one database connection
_reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="admin-settings")


class SettingsError(Exception):
    """A refused settings document: the message says which field and why (a 400)."""


def read(key: str, *, copy: bool = True) -> dict | None:
    """The stored document of ``key`` (a copy unless the caller promises not to change it), None when nothing
    is stored."""
    cached = _cache.get(key)
    if cached is None:
        since = _cache.generation
        value = _reader.submit(_query_closing, key).result() if _in_event_loop() else _query(key)
        cached = _ABSENT if value is None else value
        _cache.put_many([(key, cached)], since, TTL)
    if cached is _ABSENT:
        return None
    return json.loads(json.dumps(cached)) if copy else cached


async def prefetch(key: str) -> None:
    """Have :func:`read` of ``key`` answer from the cache without blocking an event loop (the lean ASGI app): a
    stale or missing copy is read in the reader's thread while the loop serves other requests."""
    if _cache.get(key) is not None:
        return
    since = _cache.generation
    value = await asyncio.wrap_future(_reader.submit(_query_closing, key))
    _cache.put_many([(key, _ABSENT if value is None else value)], since, TTL)


def _in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _query(key: str) -> dict | None:
    row = AdminSettings.objects.filter(key=key).only("json_value").first()
    return row.json_value if row is not None and isinstance(row.json_value, dict) else None


def _query_closing(key: str) -> dict | None:
    # a read every TTL seconds at most: no connection is kept open in the reader's thread (a test database
    # could not be dropped, and an idle one would count against PostgreSQL's max_connections)
    try:
        return _query(key)
    finally:
        connections.close_all()


def write(key: str, value: dict) -> AdminSettings:
    row, _ = AdminSettings.objects.update_or_create(key=key, defaults={"json_value": value})
    forget(key)
    return row


def forget(key: str | None = None) -> None:
    """Drop the cached copy of ``key`` (every key when None): the next read goes to the database."""
    if key is None:
        _cache.forget()
    else:
        _cache.forget_key(key)


def checked_document(value, what: str = "jsonValue") -> dict:
    """``value`` when it is a JSON object a settings row can hold, else a SettingsError."""
    if not isinstance(value, dict):
        raise SettingsError(f"{what} must be a JSON object")
    try:
        check_json(value)
        text = json.dumps(value, allow_nan=False)
    except ValueError as e:
        raise SettingsError(f"{what}: {e}") from None
    if len(text.encode()) > MAX_BYTES:
        raise SettingsError(f"{what} is larger than {MAX_BYTES} bytes")
    if _too_big(value):
        raise SettingsError(f"{what}: a number is out of range (at most {LONG_MAX})")
    return value


def _too_big(value) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, bool):
            continue
        if isinstance(item, int) and abs(item) > LONG_MAX:
            return True
        if isinstance(item, float) and abs(item) > 1e300:
            return True
        if isinstance(item, dict):
            stack += item.values()
        elif isinstance(item, list):
            stack += item
    return False


def mail_address(value, field: str, *, named: bool = False) -> str:
    """``value`` stripped when it is one e-mail address ("" allowed; ``named``: ``Name <address>`` too), else a
    SettingsError: a line break or a second address would break, or redirect, every mail sent with it."""
    if not isinstance(value, str) or len(value) > 254 or any(ch in value for ch in "\r\n\x00"):
        raise SettingsError(f"{field} must be an email address")
    value = value.strip()
    if not value:
        return value
    name, address = email.utils.parseaddr(value)
    if (name and not named) or "," in value or not _ADDRESS.fullmatch(address):
        raise SettingsError(f"{field} must be an email address")
    return value


def integer(data: dict, key: str, *, default: int | None, minimum: int = 0, maximum: int = LONG_MAX,
            numeric_text: bool = False) -> int | None:
    """``data[key]`` as an integer in [minimum, maximum] (``default`` when absent or null); a number in a
    string when ``numeric_text`` (ThingsBoard keeps the mail port and timeout as text). Else a SettingsError."""
    value = data.get(key)
    if value is None or value == "":
        return default
    if numeric_text and isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value) < 20:
        value = int(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise SettingsError(f"{key} must be an integer")
    if not minimum <= value <= maximum:
        raise SettingsError(f"{key} must be between {minimum} and {maximum}")
    return value
