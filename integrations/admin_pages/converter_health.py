"""The integration page's converter-health panel (issue 21, item 4): per converter of the
integration, executions, errors, error rate and p50/p99 execution time per hour over the last
24 hours (converters.health, the same numbers as ``GET /api/converter/{id}/health``)."""

from django.urls import reverse

from converters import health
from tbproject.admin import format_ms

__all__ = ["health_panel"]


def _ms(value) -> str:
    return "—" if value is None else f"≤ {value:g} ms"


def _row(data: dict) -> dict:
    return {"when": format_ms(data["ts"]), "executions": data["executions"], "errors": data["errors"],
            "error_rate": f"{data['errorRate'] * 100:.1f} %", "p50": _ms(data["p50Ms"]), "p99": _ms(data["p99Ms"]),
            "failing": bool(data["errors"])}


def health_panel(integration) -> list[dict]:
    """One entry per converter (uplink, then downlink): its 24-hour totals and the busy hours, newest first."""
    out = []
    for role, converter in (("Uplink", integration.default_converter), ("Downlink", integration.downlink_converter)):
        if converter is None:
            continue
        data = health.series(converter, hours=24)
        hours = [_row(h) for h in reversed(data["hours"]) if h["executions"]]
        out.append({"role": role, "name": converter.name, "id": str(converter.pk),
                    "url": reverse("admin:converters_converter_change", args=[converter.pk]),
                    "pinned": integration.pinned_converter_version if role == "Uplink" else None,
                    "version": converter.version_number, "total": _row(data["total"]), "hours": hours})
    return out
