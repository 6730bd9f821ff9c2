"""Telemetry storage: retention, partitions, storage kind."""

from tbproject.env import env_bool, env_int, env_str

# Days to keep telemetry; 0 keeps it forever.
TELEMETRY_TTL_DAYS = env_int("TELEMETRY_TTL_DAYS", 365, minimum=0)
# Width of one PostgreSQL partition / TimescaleDB chunk, in days.
TELEMETRY_PARTITION_DAYS = env_int("TELEMETRY_PARTITION_DAYS", 7, minimum=1)
# How many partitions ahead of "now" the beat job keeps created.
TELEMETRY_PARTITIONS_AHEAD = env_int("TELEMETRY_PARTITIONS_AHEAD", 2, minimum=0)
# Storage kind: "auto" picks timescale > partitioned > plain at migrate time.
TELEMETRY_STORAGE = env_str("TELEMETRY_STORAGE", "auto")
# Rows per DELETE statement when SQLite enforces the TTL.
TELEMETRY_DELETE_BATCH = env_int("TELEMETRY_DELETE_BATCH", 5000, minimum=1)
# PostgreSQL: store history and advance latest values on two connections at once (writer.py).
TELEMETRY_LATEST_IN_PARALLEL = env_bool("TELEMETRY_LATEST_IN_PARALLEL", True)
