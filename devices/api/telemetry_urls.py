"""Routes of /api/plugins/telemetry/, ThingsBoard's time-series and attribute API.

Literal segments come before the catch-all ``{entityType}/{entityId}/{scope}`` forms.
"""

from django.urls import path

from devices.api import telemetry_reads as reads
from devices.api import telemetry_writes as writes
from devices.api.telemetry_deletes import TimeseriesDeleteView
from devices.api.telemetry_queries import TimeseriesQueriesView

__all__ = ["urlpatterns"]

_ENTITY = "plugins/telemetry/<str:entity_type>/<str:entity_id>"

urlpatterns = [
    path(f"{_ENTITY}/keys/timeseries", reads.TimeseriesKeysView.as_view(), name="telemetry-timeseries-keys"),
    path(f"{_ENTITY}/keys/attributes", reads.AttributeKeysView.as_view(), name="telemetry-attribute-keys"),
    path(f"{_ENTITY}/keys/attributes/<str:scope>", reads.AttributeKeysView.as_view(),
         name="telemetry-attribute-keys-scope"),
    path(f"{_ENTITY}/values/timeseries", TimeseriesQueriesView.as_view(), name="telemetry-timeseries-latest"),
    path(f"{_ENTITY}/values/timeseries/history", reads.TimeseriesHistoryView.as_view(),
         name="telemetry-timeseries-history"),
    path(f"{_ENTITY}/values/attributes", reads.AttributesView.as_view(), name="telemetry-attributes"),
    path(f"{_ENTITY}/values/attributes/<str:scope>", reads.AttributesView.as_view(), name="telemetry-attributes-scope"),
    path(f"{_ENTITY}/timeseries/delete", TimeseriesDeleteView.as_view(), name="telemetry-timeseries-delete"),
    path(f"{_ENTITY}/timeseries/<str:scope>", writes.TelemetrySaveView.as_view(), name="telemetry-timeseries-save"),
    path(f"{_ENTITY}/timeseries/<str:scope>/<str:ttl>", writes.TelemetrySaveView.as_view(),
         name="telemetry-timeseries-save-ttl"),
    path(f"{_ENTITY}/attributes/<str:scope>", writes.EntityAttributesView.as_view(), name="telemetry-attributes-save"),
    path(f"{_ENTITY}/<str:scope>", writes.EntityAttributesView.as_view(), name="telemetry-entity-attributes"),
    path("plugins/telemetry/<str:device_id>/<str:scope>", writes.DeviceAttributesView.as_view(),
         name="telemetry-device-attributes"),
]
