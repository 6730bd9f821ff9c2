"""What the integration admin page shows besides the form: the type schemas the guided form is
built from, the uplink URL, a status summary and the sparkline of messages processed.

Read-only helpers over existing services (integrations.stats, integrations.types); no logic of
their own beyond presentation."""

import logging

from django.utils.html import format_html, format_html_join

from integrations import expiry
from integrations.stats import stats_series
from integrations.types import TYPES
from integrations.types.base import PushIntegration
from tbproject.admin import format_ms
from tbproject.clock import now_ms

__all__ = ["type_schemas", "endpoint_path", "status_summary", "status_badge", "sparkline_svg", "credential_warnings"]
BADGES = {"failing": "bad", "receiving": "ok", "connected": "ok", "disabled": "warn", "idle": "idle"}

log = logging.getLogger(__name__)
#: a message within this long ago makes the status "receiving"
RECEIVING_MS = 10 * 60 * 1000


def type_schemas() -> dict:
    """kind -> {label, schema (the config model's JSON schema), secrets, listener, endpoint}.

    A type whose module cannot be imported is left out (logged), so one broken type never takes
    the integration pages down."""
    out = {}
    for kind in TYPES.kinds():
        try:
            type_class = TYPES.load(kind)
            schema = type_class.config_model.model_json_schema()
            properties = schema.get("properties", {})
            if "deduplication" in properties:  # our optional addition: after the type's own settings
                properties["deduplication"] = properties.pop("deduplication")
        except Exception:  # any import or schema failure hides that one type
            log.exception("integration type %s has no usable schema", kind)
            continue
        out[kind] = {"label": getattr(type_class, "label", kind) or kind, "schema": schema,
                     "secrets": list(type_class.secret_fields), "listener": bool(type_class.listener),
                     "endpoint": getattr(type_class, "endpoint", None)}
    return out


def endpoint_path(integration) -> str | None:
    """``/api/v1/integrations/{endpoint}/{routingKey}`` for push types, else None."""
    if integration.pk is None or integration.type not in TYPES:
        return None
    try:
        type_class = TYPES.load(integration.type)
    except ImportError:
        return None
    if not issubclass(type_class, PushIntegration):
        return None
    return f"/api/v1/integrations/{type_class.endpoint}/{integration.routing_key}"


def status_summary(integration, now: int | None = None) -> dict:
    """{state: failing|receiving|connected|idle|disabled, label, detail} for the status badge."""
    now = now_ms() if now is None else now
    message_ts, error_ts = integration.last_message_ts or 0, integration.last_error_ts or 0
    last = f"last message {format_ms(message_ts)}" if message_ts else "no message yet"
    if not integration.enabled:
        return {"state": "disabled", "label": "disabled", "detail": last}
    if integration.last_error and error_ts >= message_ts:
        return {"state": "failing", "label": "failing",
                "detail": f"{integration.last_error} (at {format_ms(error_ts)}); {last}"}
    if message_ts and now - message_ts <= RECEIVING_MS:
        return {"state": "receiving", "label": "receiving", "detail": last}
    if integration.connected:
        return {"state": "connected", "label": "connected", "detail": last}
    return {"state": "idle", "label": "idle" if message_ts else "waiting for messages", "detail": last}


def status_badge(integration) -> str:
    """The status as a coloured badge, the detail (last error, last message) as its tooltip."""
    summary = status_summary(integration)
    return format_html('<span class="ui-badge ui-badge-{}" title="{}" data-state="{}">{}</span>',
                       BADGES[summary["state"]], summary["detail"], summary["state"], summary["label"])


def sparkline_svg(integration, width: int = 240, height: int = 40) -> str:
    """Messages processed per hour over the last 24 hours as an inline SVG polyline."""
    counts = stats_series(integration)
    top = max(counts) or 1
    step = width / max(len(counts) - 1, 1)
    points = " ".join(f"{i * step:.1f},{height - 2 - (c / top) * (height - 4):.1f}" for i, c in enumerate(counts))
    bars = format_html_join("", '<title>{}</title>', [(f"{sum(counts)} messages in 24 h, at most {max(counts)}/h",)])
    return format_html(
        '<svg class="ui-sparkline" data-total="{}" width="{}" height="{}" viewBox="0 0 {} {}" role="img">{}'
        '<polyline fill="none" stroke="currentColor" stroke-width="1.5" points="{}"/></svg>',
        sum(counts), width, height, width, height, bars, points)


def credential_warnings(integration, now: int | None = None) -> list[dict]:
    """The credentials expired or expiring within 30 days (integrations/expiry.py), soonest first,
    each with ``css`` (bad when expired or within 7 days, warn within 30) for the page's banner."""
    return [{**c, "css": "warn" if c["level"] == expiry.MONTH else "bad"}
            for c in expiry.report(integration, now) if c["level"]]
