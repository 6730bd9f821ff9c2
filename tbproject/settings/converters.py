"""The converter engine, debug events and the converters library."""

import os

from tbproject.env import env_int, env_str

from .base import DATA_DIR

# Worker processes running converter scripts (per web or worker process); default 2, 1 on one core.
CONVERTER_WORKERS = env_int("CONVERTER_WORKERS", max(1, min(2, os.cpu_count() or 1)), minimum=1)
# Wall-clock limit of one script run, in milliseconds.
CONVERTER_TIMEOUT_MS = env_int("CONVERTER_TIMEOUT_MS", 500, minimum=1)
# Memory limit of one converter's script context, in MiB.
CONVERTER_MEMORY_LIMIT_MB = env_int("CONVERTER_MEMORY_LIMIT_MB", 32, minimum=1)
# Largest result one script run may return (its JSON text, in bytes).
CONVERTER_MAX_OUTPUT_BYTES = env_int("CONVERTER_MAX_OUTPUT_BYTES", 4 * 1024 * 1024, minimum=1024)
# Longest error message kept from a failed run (characters).
CONVERTER_MAX_ERROR_CHARS = env_int("CONVERTER_MAX_ERROR_CHARS", 1024, minimum=64)
# Compiled converter contexts each worker process keeps.
CONVERTER_CONTEXT_CACHE = env_int("CONVERTER_CONTEXT_CACHE", 256, minimum=1)
# Timeouts after which a batch stops running the same converter (the rest fail as "timeout").
CONVERTER_MAX_TIMEOUTS_PER_BATCH = env_int("CONVERTER_MAX_TIMEOUTS_PER_BATCH", 3, minimum=1)
# How long "debug all" stays on after it is switched on (ThingsBoard: 15 minutes).
DEBUG_ALL_DURATION_MINUTES = env_int("DEBUG_ALL_DURATION_MINUTES", 15, minimum=1)
# Days debug events are kept; 0 keeps them forever.
DEBUG_EVENTS_TTL_DAYS = env_int("DEBUG_EVENTS_TTL_DAYS", 7, minimum=0)
# Converters library (converters/library/): a git repository in ThingsBoard's data-converters layout
# (ThingsBoard's TB_INTEGRATIONS_CONVERTERS_LIBRARY_REPO_URL / _BRANCH); an empty URL disables it.
CONVERTERS_LIBRARY_REPO_URL = env_str("CONVERTERS_LIBRARY_REPO_URL", "https://github.com/thingsboard/data-converters.git")
CONVERTERS_LIBRARY_REPO_BRANCH = env_str("CONVERTERS_LIBRARY_REPO_BRANCH", "main")
# Hours between checks of the library's branch for new commits (0: load once, never refresh).
CONVERTERS_LIBRARY_REFRESH_HOURS = env_int("CONVERTERS_LIBRARY_REFRESH_HOURS", 24, minimum=0)
# Where the library's checkouts are kept.
CONVERTERS_LIBRARY_DIR = env_str("CONVERTERS_LIBRARY_DIR", str(DATA_DIR / "converters-library"))
