"""Limits every script run is held to, read from Django settings with safe defaults."""

import os
from dataclasses import dataclass

__all__ = ["Limits", "worker_count"]


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-run bounds; sent to the worker with every batch, so a settings change applies at once."""

    timeout_ms: int = 500
    memory_mb: int = 32
    max_output_bytes: int = 4 * 1024 * 1024
    max_error_chars: int = 1024
    context_cache: int = 256
    # A batch stops running a converter that timed out this many times: without it one hostile
    # converter fed 500 messages would hold a worker for 500 x the timeout.
    max_timeouts_per_batch: int = 3

    @property
    def timeout_s(self) -> float:
        return self.timeout_ms / 1000

    @classmethod
    def from_settings(cls, **overrides) -> "Limits":
        d = cls()
        values = {
            "timeout_ms": _setting("CONVERTER_TIMEOUT_MS", d.timeout_ms),
            "memory_mb": _setting("CONVERTER_MEMORY_LIMIT_MB", d.memory_mb),
            "max_output_bytes": _setting("CONVERTER_MAX_OUTPUT_BYTES", d.max_output_bytes),
            "max_error_chars": _setting("CONVERTER_MAX_ERROR_CHARS", d.max_error_chars),
            "context_cache": _setting("CONVERTER_CONTEXT_CACHE", d.context_cache),
            "max_timeouts_per_batch": _setting("CONVERTER_MAX_TIMEOUTS_PER_BATCH", d.max_timeouts_per_batch),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**{k: int(v) for k, v in values.items()})


def worker_count() -> int:
    """CONVERTER_WORKERS, default 2, never more than the machine's cores (at least 1)."""
    default = max(1, min(2, os.cpu_count() or 1))
    return max(1, int(_setting("CONVERTER_WORKERS", default)))


def _setting(name: str, default):
    # The engine also runs where Django is not configured (the bench's bare side, the remote runner).
    from tbproject.conf import setting

    return setting(name, default)
