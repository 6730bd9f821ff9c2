"""Per-integration deduplication of uplinks (our addition; README "Beyond ThingsBoard").

A network server or a broker may deliver one message twice (an MQTT QoS 1 redelivery, a webhook
retried after a timeout, two ChirpStack instances behind one URL). An integration opts in with a
key of our own in its configuration, which ThingsBoard clients save and read back unchanged:

    "deduplication": {"key": "metadata:eui" | "jsonpath:$.fCnt" | "lorawan", "windowSeconds": 60}

- ``metadata:<name>``: the uplink metadata value ``name`` (an MQTT topic, a header...);
- ``jsonpath:$.a.b[0]``: a value inside the JSON payload (dots, ``[index]`` and ``['key']``);
- ``lorawan``: ``(devEui, fCnt)`` from the network server's envelope (converters/unwrap: ChirpStack,
  The Things Stack, LORIOT, ThingPark; an HTTP integration tries each).

A message whose key was seen within the window is not converted nor stored: the pipeline counts
it (IntegrationStats.duplicates, the STATS event's ``duplicates``; a DEBUG_INTEGRATION event with
status DUPLICATE while "debug all" is on). A message without the key
(not JSON, no such field) is never a duplicate. Keys are claimed for a whole batch in one round
trip: a Lua script over all keys (``SET ... PX``) when REDIS_URL is set, else one
``INSERT ... ON CONFLICT DO UPDATE ... WHERE expired RETURNING`` into UplinkSeen (the periodic
job :func:`prune` deletes expired rows). Works across processes either way.
"""

import hashlib
import json
import re
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

from converters.unwrap import UNWRAPPERS, UnwrapError, get_unwrapper
from tbproject import redis_client
from tbproject.clock import now_ms

__all__ = ["Deduplication", "DUPLICATE", "settings_of", "key_of", "screen", "mark", "debug_events", "claim",
           "release", "prune"]

#: the widest window accepted (a week): the shared state is bounded by traffic x window
MAX_WINDOW_SECONDS = 7 * 24 * 3600
REDIS_PREFIX = "tb:dedup:"
_PATH_PART = re.compile(r"\.([A-Za-z_$][\w$-]*)|\[(\d+)\]|\[['\"]([^'\"]*)['\"]\]")


class Deduplication(BaseModel):
    """``configuration.deduplication``; extra keys are refused (a typo must not switch it off)."""

    model_config = ConfigDict(extra="forbid")
    key: str = Field(description='"metadata:<name>", "jsonpath:$.path" or "lorawan" (devEui and fCnt)')
    windowSeconds: int = Field(60, ge=1, le=MAX_WINDOW_SECONDS)

    @field_validator("key")
    @classmethod
    def _known_key(cls, value: str) -> str:
        value = value.strip()
        if value in ("", "lorawan"):  # empty: off (the admin form's way to switch it off)
            return value
        kind, _, arg = value.partition(":")
        if kind == "metadata" and arg:
            return value
        if kind == "jsonpath":
            parse_path(arg)
            return value
        raise ValueError('must be "metadata:<name>", "jsonpath:$.path" or "lorawan"')


def parse_path(path: str) -> list:
    """``$.a.b[0]['c d']`` -> ["a", "b", 0, "c d"]; ValueError for anything else."""
    if not path.startswith("$"):
        raise ValueError("a JSONPath starts with $")
    parts, pos = [], 1
    while pos < len(path):
        match = _PATH_PART.match(path, pos)
        if match is None:
            raise ValueError(f"unsupported JSONPath {path!r}: use $.name, [index] and ['key']")
        name, index, quoted = match.groups()
        parts.append(int(index) if index is not None else (name if name is not None else quoted))
        pos = match.end()
    if not parts:
        raise ValueError("the JSONPath names no field")
    return parts


def settings_of(integration) -> tuple[str, int] | None:
    """(key spec, window ms) of an integration that deduplicates, else None (checked at save)."""
    raw = (integration.configuration or {}).get("deduplication")
    if not isinstance(raw, dict) or not raw.get("key"):
        return None
    try:
        spec = Deduplication.model_validate(raw)
    except ValueError:
        return None
    return spec.key, spec.windowSeconds * 1000


def key_of(spec: str, integration_type: str, payload: bytes, metadata: dict) -> str | None:
    """The deduplication key of one uplink, or None when it has none."""
    if spec == "lorawan":
        return _lorawan(integration_type, payload, metadata)
    kind, _, arg = spec.partition(":")
    if kind == "metadata":
        value = (metadata or {}).get(arg)
        return None if value in (None, "") else str(value)
    try:
        value = json.loads(payload)
        for part in parse_path(arg):
            value = value[part]
    except (ValueError, TypeError, KeyError, IndexError):
        return None
    return None if value is None else json.dumps(value, sort_keys=True, separators=(",", ":"))


def _lorawan(integration_type: str, payload: bytes, metadata: dict) -> str | None:
    own = get_unwrapper(integration_type)
    candidates = [own] if own else dict.fromkeys(UNWRAPPERS.load(kind) for kind in UNWRAPPERS.kinds())
    for unwrapper in candidates:
        try:
            fields = unwrapper(payload, metadata or {}).metadata
        except (UnwrapError, ValueError, TypeError):
            continue
        eui, fcnt = fields.get("eui"), fields.get("fCnt")
        if eui not in (None, "") and fcnt not in (None, ""):
            return f"{str(eui).lower()}/{fcnt}"
    return None


def digest(key: str) -> str:
    return hashlib.sha1(key.encode("utf-8")).hexdigest()


def claim(items: list[tuple[str, str, int]], now: int | None = None) -> set[tuple[str, str]]:
    """Claim ``(integration id, key hash, window ms)`` items; returns the (id, hash) pairs that were
    free (not seen within their window): the others are duplicates. One round trip."""
    if not items:
        return set()
    now = now_ms() if now is None else now
    client = _redis()
    if client is None:
        return _claim_rows(items, now)
    free = set()
    for start in range(0, len(items), 1000):
        chunk = items[start:start + 1000]
        answers = client.eval(_CLAIM_LUA, len(chunk), *(f"{REDIS_PREFIX}{i}:{h}" for i, h, _ in chunk), now,
                              *(w for _, _, w in chunk))
        free.update((i, h) for (i, h, _), ok in zip(chunk, answers, strict=True) if ok)
    return free


#: Redis: claim each key unless it holds an end of window later than now (ARGV[1]); the value is
#: that end, so that the window is measured on the pipeline's clock as in the database; PX lets
#: Redis drop the key after the window by itself. One script call: atomic and one round trip.
_CLAIM_LUA = """
local now = tonumber(ARGV[1])
local out = {}
for i, key in ipairs(KEYS) do
  local window = tonumber(ARGV[i + 1])
  local ends = tonumber(redis.call('GET', key) or '0')
  if ends > now then out[i] = 0 else redis.call('SET', key, now + window, 'PX', window); out[i] = 1 end
end
return out
"""


def _claim_rows(items, now: int) -> set[tuple[str, str]]:
    from django.db import connection

    from integrations.models_dedup import UplinkSeen  # lazily: the schema above is imported by the types
    from tenants.usage import sql_uuid

    table = connection.ops.quote_name(UplinkSeen._meta.db_table)
    free = set()
    with connection.cursor() as cur:
        for start in range(0, len(items), 500):
            chunk = items[start:start + 500]
            values = ", ".join(["(%s, %s, %s)"] * len(chunk))
            params = [p for i, h, w in chunk for p in (sql_uuid(i), h, now + w)]
            cur.execute(f"INSERT INTO {table} (integration_id, key_hash, expires_ts) VALUES {values} "
                        f"ON CONFLICT (integration_id, key_hash) DO UPDATE SET expires_ts = excluded.expires_ts "
                        f"WHERE {table}.expires_ts <= %s RETURNING integration_id, key_hash", [*params, now])
            free.update((str(UUID(str(i))), h) for i, h in cur.fetchall())
    return free


def release(items: list[tuple[str, str]]) -> None:
    """Forget claimed keys of messages that were not stored after all (deferred, or the batch
    failed and will be retried), so that their next delivery is not taken for a duplicate."""
    if not items:
        return
    client = _redis()
    if client is not None:
        client.delete(*(f"{REDIS_PREFIX}{i}:{h}" for i, h in items))
        return
    from integrations.models_dedup import UplinkSeen

    by_integration: dict = {}
    for integration_id, key_hash in items:
        by_integration.setdefault(integration_id, []).append(key_hash)
    for integration_id, hashes in by_integration.items():
        UplinkSeen.objects.filter(integration_id=integration_id, key_hash__in=hashes).delete()


def prune(now: int | None = None) -> int:
    """Delete expired UplinkSeen rows (Redis expires its keys by itself); returns how many."""
    from integrations.models_dedup import UplinkSeen

    now = now_ms() if now is None else now
    deleted, _ = UplinkSeen.objects.filter(expires_ts__lte=now).delete()
    return deleted


def _redis():
    """This process's client of REDIS_URL, or None in embedded mode."""
    return redis_client.shared(socket_timeout=5)


#: what :func:`screen` says of a message seen within the window
DUPLICATE = "duplicate"


def screen(pairs: list, now: int | None = None) -> list:
    """For ``[(integration, RawUplink), ...]``, parallel answers: None (not deduplicated: the
    integration has no ``deduplication`` or the message no key), DUPLICATE, or the claimed
    ``(integration id, key hash)`` (for :func:`release`). A key twice in one batch: the first wins."""
    out: list = [None] * len(pairs)
    wanted, seen, specs = [], set(), {}
    last = pk = spec = None
    for pos, (integration, uplink) in enumerate(pairs):
        if integration is not last:  # a batch's messages come grouped by integration
            last, pk = integration, str(integration.pk)
            if pk not in specs:
                specs[pk] = settings_of(integration)
            spec = specs[pk]
        key = spec and key_of(spec[0], integration.type, uplink.payload, uplink.metadata)
        if not key:
            continue
        item = (pk, digest(key))
        if item in seen:
            out[pos] = DUPLICATE
            continue
        seen.add(item)
        wanted.append((pos, *item, spec[1]))
    free = claim([(i, h, w) for _, i, h, w in wanted], now)
    for pos, i, h, _ in wanted:
        out[pos] = (i, h) if (i, h) in free else DUPLICATE
    return out


def mark(messages: list, now: int | None = None) -> None:
    """:func:`screen` for the pipeline's messages (``integration``, ``uplink``): a duplicate gets
    ``status`` DUPLICATE and an ``error``; a message that claimed a key gets it as ``claim``."""
    answers = screen([(m.integration, m.uplink) for m in messages], now)
    for message, answer in zip(messages, answers, strict=True):
        if answer == DUPLICATE:
            message.status, message.error = DUPLICATE, "Duplicate within the deduplication window"
        else:
            message.claim = answer


def debug_events(integration, uplinks: list, now: int) -> list:
    """DEBUG_INTEGRATION events (status DUPLICATE) of the uplinks left out, under the debug policy
    ("debug all" only: a duplicate is not a failure). Not saved: the pipeline caps and writes them."""
    from integrations import events

    made = (events.uplink_event(integration, u.payload, u.content_type, status=DUPLICATE.upper(), now=now)
            for u in uplinks)
    return [event for event in made if event is not None]
