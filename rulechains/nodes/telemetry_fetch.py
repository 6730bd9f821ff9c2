"""The originator telemetry node (ThingsBoard's TbGetTelemetryNode): history into the metadata."""

import json

from devices.telemetry import history
from rulechains.messages import SUCCESS, changed
from rulechains.nodes.base import BaseNode, ConfigError, NodeError, Out, field, int_option, substitute

__all__ = ["OriginatorTelemetryNode"]

UNITS_MS = {"MILLISECONDS": 1, "SECONDS": 1000, "MINUTES": 60_000, "HOURS": 3_600_000, "DAYS": 86_400_000}
FETCH_MODES = ("FIRST", "LAST", "ALL")
AGGREGATIONS = ("NONE", "MIN", "MAX", "AVG", "SUM", "COUNT")
MAX_FETCH_SIZE = 1000


class OriginatorTelemetryNode(BaseNode):
    """Adds the originator's telemetry of ``latestTsKeyNames`` between now - ``startInterval``
    and now - ``endInterval`` (``startIntervalTimeUnit``/``endIntervalTimeUnit``; or the
    metadata's ``startIntervalPattern``/``endIntervalPattern`` ms with
    ``useMetadataIntervalPatterns``) to the metadata: with ``fetchMode`` FIRST or LAST the oldest
    or newest value as text, with ALL a JSON array of ``{ts, value}`` (``orderBy``, at most
    ``limit`` up to 1000; ``aggregation`` over the whole interval when not NONE). Keys without
    data are left out. Failure when no key is configured or a pattern is not a number."""

    label = "originator telemetry"
    group = "ENRICHMENT"
    defaults = {"latestTsKeyNames": [], "aggregation": "NONE", "fetchMode": "FIRST", "orderBy": "ASC", "limit": 1000,
                "useMetadataIntervalPatterns": False, "startInterval": 2, "startIntervalTimeUnit": "MINUTES",
                "endInterval": 1, "endIntervalTimeUnit": "MINUTES", "startIntervalPattern": "",
                "endIntervalPattern": ""}
    fields = (field("latestTsKeyNames", "list", "Time series keys"),
              field("fetchMode", "select", "Fetch mode", choices=FETCH_MODES),
              field("aggregation", "select", "Aggregation", choices=AGGREGATIONS),
              field("orderBy", "select", "Order", choices=("ASC", "DESC")), field("limit", "number", "Limit"),
              field("startInterval", "number", "Start interval"),
              field("startIntervalTimeUnit", "select", "Start unit", choices=tuple(UNITS_MS)),
              field("endInterval", "number", "End interval"),
              field("endIntervalTimeUnit", "select", "End unit", choices=tuple(UNITS_MS)))

    @classmethod
    def clean_config(cls, configuration):
        keys = configuration.get("latestTsKeyNames") or []
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise ConfigError("latestTsKeyNames must be a list of key names")
        mode = str(configuration.get("fetchMode") or "FIRST").upper()
        agg = str(configuration.get("aggregation") or "NONE").upper()
        order = str(configuration.get("orderBy") or "ASC").upper()
        if mode not in FETCH_MODES or agg not in AGGREGATIONS or order not in ("ASC", "DESC"):
            raise ConfigError(f"fetchMode must be one of {FETCH_MODES}, aggregation one of {AGGREGATIONS}, "
                              "orderBy ASC or DESC")
        units = [str(configuration.get(n) or "MINUTES").upper() for n in ("startIntervalTimeUnit",
                                                                          "endIntervalTimeUnit")]
        if any(u not in UNITS_MS for u in units):
            raise ConfigError(f"interval time units must be one of {', '.join(UNITS_MS)}")
        return {"keys": [k for k in keys if k.strip()], "mode": mode, "agg": agg, "order": order,
                "start": int_option(configuration, "startInterval", 2, low=0) * UNITS_MS[units[0]],
                "end": int_option(configuration, "endInterval", 1, low=0) * UNITS_MS[units[1]],
                "patterns": bool(configuration.get("useMetadataIntervalPatterns")),
                "startPattern": str(configuration.get("startIntervalPattern") or ""),
                "endPattern": str(configuration.get("endIntervalPattern") or ""),
                "limit": min(int_option(configuration, "limit", MAX_FETCH_SIZE, low=0) or MAX_FETCH_SIZE,
                             MAX_FETCH_SIZE)}

    def interval(self, ctx, msg) -> tuple[int, int]:
        config = self.config
        if not config["patterns"]:
            return ctx.now - config["start"], ctx.now - config["end"]
        bounds = []
        for pattern in (config["startPattern"], config["endPattern"]):
            text = substitute(pattern, msg)
            try:
                bounds.append(int(text))
            except ValueError:
                raise NodeError(f"Message value: '{pattern.strip('${}')}' is undefined or not a number") from None
        return bounds[0], bounds[1]

    def process(self, ctx, msg):
        config = self.config
        if not config["keys"]:
            raise NodeError("Telemetry is not selected!")
        keys = [substitute(k, msg) for k in config["keys"]]
        start, end = self.interval(ctx, msg)
        values = {}
        if config["agg"] != "NONE":
            found = history(msg.originator_id, keys, start, end, agg=config["agg"], interval=max(end - start, 1),
                            limit=1)
            values = {k: _text(points[0][1]) for k, points in found.items()}
        elif config["mode"] == "ALL":
            found = history(msg.originator_id, keys, start, end, limit=config["limit"], order=config["order"])
            values = {k: json.dumps([{"ts": ts, "value": v} for ts, v in points], separators=(",", ":"))
                      for k, points in found.items()}
        else:
            order = "ASC" if config["mode"] == "FIRST" else "DESC"
            found = history(msg.originator_id, keys, start, end, limit=1, order=order)
            values = {k: _text(points[0][1]) for k, points in found.items()}
        return [Out(SUCCESS, changed(msg, metadata={**msg.metadata, **values}))]


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)
