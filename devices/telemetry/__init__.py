"""Telemetry: a narrow time series keyed by (entity, key, ts ms) plus latest values.

Write with :func:`write_points` (batched, idempotent); read with :func:`latest`,
:func:`history` and :func:`timeseries_keys`. The table layout depends on the database
(see storage.py); retention is in retention.py.
"""

from devices.telemetry.reads import (
    AGGREGATIONS,
    history,
    history_many,
    latest,
    latest_many,
    timeseries_keys,
    timeseries_keys_many,
)
from devices.telemetry.writer import Point, delete_entity, write_points

__all__ = ["Point", "write_points", "delete_entity", "latest", "latest_many", "history", "history_many",
           "timeseries_keys", "timeseries_keys_many", "AGGREGATIONS"]
