"""Admin of the read-only bookkeeping rows that belong to a tenant through their integration:
hourly counters, leases, stream and Event Hub checkpoints, dedup keys, downlinks in flight,
device routes and remote runners. One base gives them their shape: scoped by the integration's
tenant, nobody adds, changes or deletes, every field shown read-only; ``ms_column`` shows a
millisecond timestamp as a date."""

from django.contrib import admin

from integrations.models import (
    DeviceRoute,
    EventHubCheckpoint,
    IntegrationLease,
    IntegrationStats,
    OutgoingDownlink,
    RemoteStatus,
    StreamCheckpoint,
    UplinkSeen,
)
from tbproject.admin import TenantScopedAdmin, format_ms, is_sysadmin

__all__ = ["IntegrationRowAdmin", "ms_column"]


def with_integration(model_admin, request, tenant_field: str):
    """``model_admin``'s rows with their integration, scoped by ``tenant_field`` to the user's tenant
    (rows whose model has no ``for_user()``): all for a sysadmin, none for a non-staff user."""
    queryset = admin.ModelAdmin.get_queryset(model_admin, request).select_related("integration")
    if is_sysadmin(request.user):
        return queryset
    if not request.user.is_staff:
        return queryset.none()
    return queryset.filter(**{tenant_field: request.user.tenant_id})


def ms_column(attr: str, description: str, *, empty: str = "", sortable: bool = True):
    """An admin column (a method) that shows the millisecond timestamp ``attr`` as a date."""

    @admin.display(description=description, ordering=attr if sortable else None)
    def column(self, obj) -> str:
        return format_ms(getattr(obj, attr)) or empty

    return column


class IntegrationRowAdmin(TenantScopedAdmin):
    """Read-only rows that belong to a tenant through their integration (system bookkeeping).
    Subclasses list ``fields``; they are all read-only."""

    read_only = True

    def get_readonly_fields(self, request, obj=None):
        return (*super().get_readonly_fields(request, obj), *self.fields)

    def get_queryset(self, request):
        return with_integration(self, request, "integration__tenant_id")

    def _owns(self, request, obj) -> bool:
        return obj is None or is_sysadmin(request.user) or obj.integration.tenant_id == request.user.tenant_id


@admin.register(IntegrationStats)
class IntegrationStatsAdmin(IntegrationRowAdmin):
    """Hourly counters written by the pipeline."""

    list_display = ("integration", "period", "messages_processed", "errors_occurred", "debug_events", "persisted")
    list_filter = ("persisted",)
    fields = list_display
    period = ms_column("period_ts", "Hour")


@admin.register(IntegrationLease)
class IntegrationLeaseAdmin(IntegrationRowAdmin):
    """Which runintegrations host runs each listener integration, until when."""

    list_display = fields = ("integration", "holder", "expires_at")


@admin.register(StreamCheckpoint)
class StreamCheckpointAdmin(IntegrationRowAdmin):
    """How far each stream integration (AWS Kinesis) has read, per shard (integrations/checkpoints.py)."""

    list_display = fields = ("integration", "stream", "shard", "position", "updated")
    updated = ms_column("updated_ts", "Updated")


@admin.register(UplinkSeen)
class UplinkSeenAdmin(IntegrationRowAdmin):
    """Deduplication keys an integration has seen, until their window ends (integrations/dedup.py;
    with REDIS_URL they live in Redis instead)."""

    list_display = fields = ("integration", "key_hash", "expires")
    expires = ms_column("expires_ts", "Window ends")


@admin.register(EventHubCheckpoint)
class EventHubCheckpointAdmin(IntegrationRowAdmin):
    """Where each AZURE_EVENT_HUB integration stands per partition (integrations/listeners/azure_sdk.py)."""

    list_display = ("integration", "eventhub", "consumer_group", "partition_id", "sequence_number", "updated")
    fields = ("integration", "namespace", "eventhub", "consumer_group", "partition_id", "offset", "sequence_number",
              "updated")
    updated = ms_column("updated_ts", "Updated")


@admin.register(OutgoingDownlink)
class OutgoingDownlinkAdmin(IntegrationRowAdmin):
    """Downlinks on their way to devices (integrations.downlinks): queued, encoded, delivered or failed."""

    list_display = ("created", "integration", "device_name", "msg_type", "status", "attempts", "short_error")
    list_filter = ("status",)
    search_fields = ("device_name", "msg_type")
    fields = ("id", "integration", "device_name", "msg_type", "status", "attempts", "error", "content_type",
              "msg", "msg_metadata", "metadata", "route", "created", "delivered")
    created = ms_column("created_ts", "Created")
    delivered = ms_column("delivered_ts", "Delivered", empty="-", sortable=False)

    @admin.display(description="Error")
    def short_error(self, obj) -> str:
        return obj.error[:100]


@admin.register(DeviceRoute)
class DeviceRouteAdmin(IntegrationRowAdmin):
    """Where each device was last heard from, per integration (how replies find their connection)."""

    list_display = ("device_name", "integration", "route", "updated_ts")
    search_fields = ("device_name",)
    fields = ("integration", "device_name", "route", "updated_ts")


@admin.register(RemoteStatus)
class RemoteStatusAdmin(IntegrationRowAdmin):
    """The remote runner of each remote integration, as its connection reports it (integrations/remote/)."""

    list_display = ("integration", "connected", "host", "version", "last_seen", "outbox_depth", "dropped")
    list_filter = ("connected",)
    fields = ("integration", "connected", "host", "address", "version", "connected_since", "last_seen",
              "outbox_depth", "dropped", "outbox_id", "last_seq")
    connected_since = ms_column("connected_ts", "Connected since", empty="-", sortable=False)
    last_seen = ms_column("last_seen_ts", "Last seen", empty="never")
