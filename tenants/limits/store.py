"""Where token buckets live: in this process, or in Redis shared by every process.

Both run the same algorithm (GCRA, a token bucket kept as one "theoretical arrival time" per
window): ``take(key, windows, want)`` grants up to ``want`` tokens that every window of the limit
can give at once, and when it grants none, says in how many milliseconds one token will be there.
The Redis store runs it as one Lua script per call (atomic across processes, one round trip,
Redis's own clock); the callers reserve tokens in chunks (tenants/limits/limiter.py), so that a
generous limit costs a round trip per many messages.
"""

import threading
import time

from tenants.limits.spec import Window

__all__ = ["LocalStore", "RedisStore", "gcra"]


def gcra(tats: list[float], windows: tuple[Window, ...], want: int, now: float) -> tuple[int, int, list[float]]:
    """(granted, wait ms, new arrival times): the algorithm both stores run."""
    tats = [max(t, now) for t in tats]
    granted = want
    for tat, w in zip(tats, windows, strict=True):
        granted = min(granted, max(0, int((now + w.seconds * 1000 - tat) / w.interval_ms + 1e-9)))
    if granted:
        return granted, 0, [t + granted * w.interval_ms for t, w in zip(tats, windows, strict=True)]
    wait = max(t + w.interval_ms - w.seconds * 1000 - now for t, w in zip(tats, windows, strict=True))
    return 0, max(1, int(wait + 0.999)), tats


class LocalStore:
    """Buckets of this process only: embedded mode, and the fallback while Redis is unreachable."""

    chunk_fraction = 0  # exact: no reason to reserve ahead

    def __init__(self, clock=None):
        self.clock = clock or (lambda: time.monotonic() * 1000)
        self._tats: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str, windows: tuple[Window, ...], want: int) -> tuple[int, int]:
        with self._lock:
            now = self.clock()
            old = self._tats.get(key)
            if old is None or len(old) != len(windows):
                old = [now] * len(windows)
            granted, wait, tats = gcra(old, windows, want, now)
            self._tats[key] = tats
            if len(self._tats) > 100_000:  # keys of deleted tenants and integrations: start afresh
                self._tats = {key: tats}
            return granted, wait

    def reset(self) -> None:
        with self._lock:
            self._tats.clear()


# KEYS: one per window. ARGV: want, then per window its length (ms) and refill interval (ms).
_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local want = tonumber(ARGV[1])
local granted = want
local tats = {}
for i, key in ipairs(KEYS) do
  local period, interval = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])
  local tat = tonumber(redis.call('GET', key) or '0')
  if tat < now then tat = now end
  tats[i] = tat
  local free = math.floor((now + period - tat) / interval + 1e-9)
  if free < granted then granted = free end
end
if granted < 0 then granted = 0 end
if granted > 0 then
  for i, key in ipairs(KEYS) do
    local interval = tonumber(ARGV[2 * i + 1])
    local tat = tats[i] + granted * interval
    redis.call('SET', key, string.format('%.3f', tat), 'PX', math.ceil(tat - now) + 1000)
  end
  return {granted, 0}
end
local wait = 0
for i, key in ipairs(KEYS) do
  local period, interval = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])
  local w = tats[i] + interval - period - now
  if w > wait then wait = w end
end
return {0, math.max(1, math.ceil(wait))}
"""


class RedisStore:
    """Buckets shared through Redis. Raises redis.RedisError when Redis cannot be reached."""

    #: a caller reserves up to this share of the smallest window's capacity per round trip
    chunk_fraction = 0.02
    prefix = "tbproject:rl:"

    def __init__(self, url: str, *, timeout: float = 0.5):
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        self.script = self.client.register_script(_SCRIPT)

    def take(self, key: str, windows: tuple[Window, ...], want: int) -> tuple[int, int]:
        keys = [f"{self.prefix}{key}:{w.capacity}:{w.seconds}" for w in windows]
        args = [want]
        for w in windows:
            args += [w.seconds * 1000, repr(w.interval_ms)]
        granted, wait = self.script(keys=keys, args=args)
        return int(granted), int(wait)
