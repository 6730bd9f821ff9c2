"""Edges and their event queues in the admin, tenant-scoped. The secret is never shown: the change page
leaves it out (the API rotates it: POST /api/edge with a new ``secret``); events are read-only."""

from django.contrib import admin

from edges.models import Edge, EdgeEvent
from tbproject.admin import TenantScopedAdmin


@admin.register(Edge)
class EdgeAdmin(TenantScopedAdmin):
    list_display = ("name", "type", "label", "customer", "routing_key", "root_rule_chain")
    search_fields = ("name", "type", "label")
    list_filter = ("type",)
    exclude = ("secret",)
    readonly_fields = ("routing_key",)


@admin.register(EdgeEvent)
class EdgeEventAdmin(TenantScopedAdmin):
    read_only = True
    list_display = ("edge", "seq_id", "type", "action", "entity_id", "created_time")
    list_filter = ("type", "action")
