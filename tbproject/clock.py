"""The clock every app reads: epoch milliseconds, as ThingsBoard stores and shows times.

Its own module so that asking the time imports nothing else (no models, no settings)."""

import time

__all__ = ["now_ms"]


def now_ms() -> int:
    return int(time.time() * 1000)
