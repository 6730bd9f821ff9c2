"""A field's results saved as time series or attributes, through devices/ like any other write.

Time series: a SIMPLE result at the server time, or with ``useLatestTs`` at the newest timestamp
among its telemetry arguments (ThingsBoard's "Use latest timestamp"); a SCRIPT result
``{"k": v}`` at the server time, ``{"ts": ms, "values": {...}}`` at that time, or an array of
those. Attributes: the keys in ``output.scope``, stamped with the server time.
``decimalsByDefault`` rounds numbers (0: to an integer).
"""

import math

from calculated.choices import FieldKind, OutputType
from devices.attributes import save_attributes_many
from devices.telemetry import write_points
from devices.telemetry.writer import MAX_TS
from devices.values import check_text

__all__ = ["OutputError", "Writes", "MAX_KEY"]

MAX_KEY = 255


class OutputError(ValueError):
    """A result that cannot be saved; the message says why."""


def _rounded(value, decimals):
    if decimals is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    if isinstance(value, float) and not math.isfinite(value):
        raise OutputError(f"the result is not a finite number ({value})")
    return int(round(value)) if decimals == 0 else round(float(value), decimals)


def _values(raw, decimals) -> dict:
    if not isinstance(raw, dict) or not raw:
        raise OutputError("the script must return a non-empty object of key/value pairs")
    values = {}
    for key, value in raw.items():
        if not key or len(key) > MAX_KEY:
            raise OutputError(f"output key '{key[:40]}' must have 1 to {MAX_KEY} characters")
        try:
            check_text(key)
            if isinstance(value, str):
                check_text(value)
        except ValueError as e:
            raise OutputError(f"output key '{key[:40]}': {e}") from None
        if value is None:
            continue  # nothing to store, as a null telemetry value is never stored
        values[key] = _rounded(value, decimals)
    return values


def _entry_ts(raw) -> int:
    ts = raw.get("ts")
    if isinstance(ts, float) and ts.is_integer():
        ts = int(ts)
    if isinstance(ts, bool) or not isinstance(ts, int) or not 0 <= ts <= MAX_TS:
        raise OutputError(f"'ts' of a result must be milliseconds since 1970, got {str(ts)[:32]}")
    return ts


def _entries(result, now: int, decimals) -> list[tuple[int, dict]]:
    """[(ts, {key: value})] of a SCRIPT's result."""
    items = result if isinstance(result, list) else [result]
    if not items:
        raise OutputError("the script returned an empty array")
    entries = []
    for item in items:
        if isinstance(item, dict) and "values" in item and isinstance(item.get("values"), dict):
            entries.append((_entry_ts(item) if "ts" in item else now, _values(item["values"], decimals)))
        else:
            entries.append((now, _values(item, decimals)))
    return entries


def _latest_ts(values: dict, now: int) -> int:
    stamps = [arg.ts for arg in values.values() if arg.telemetry and arg.ts is not None]
    return max(stamps) if stamps else now


class Writes:
    """The outputs of one field's computations, written together by :meth:`flush`."""

    def __init__(self, tenant_id, *, keep_newer: bool = False):
        self.tenant_id = tenant_id
        self.keep_newer = keep_newer  # reprocessing: an attribute saved later is not undone by an old result
        self.points: list[tuple] = []
        self.attributes: list[tuple] = []

    def add(self, spec, entity_id, result, values: dict, now: int):
        """Queue ``result`` of the field for ``entity_id``; returns what is saved (for the debug event)."""
        if spec.kind == FieldKind.SIMPLE:
            ts = _latest_ts(values, now) if spec.use_latest_ts else now
            entries = [(ts, {spec.output_name: _rounded(result, spec.decimals)})]
        else:
            entries = _entries(result, now, spec.decimals)
        if spec.output_type == OutputType.TIME_SERIES:
            self.points.extend((entity_id, key, ts, value) for ts, values_ in entries for key, value in values_.items())
            return [{"ts": ts, "values": values_} for ts, values_ in entries] if len(entries) > 1 else entries[0][1]
        merged = {key: value for _, values_ in entries for key, value in values_.items()}
        self.attributes.extend((entity_id, spec.output_scope, key, value, now) for key, value in merged.items())
        return merged

    def flush(self) -> None:
        points, attributes, self.points, self.attributes = self.points, self.attributes, [], []
        if points:
            write_points(points, tenant_id=self.tenant_id)
        if attributes:
            save_attributes_many(attributes, keep_newer=self.keep_newer, tenant_id=self.tenant_id)
