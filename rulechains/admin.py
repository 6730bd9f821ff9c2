"""Admin for rule chains, their nodes and connections (tenant-scoped like every other model).

A chain is drawn and edited as a graph on its own page (rulechains/admin_pages/editor.py, "Open
in the editor" on the list and the chain's page); here a chain also shows its metadata as
ThingsBoard JSON, and nodes and connections can be edited one by one.
"""

import json

from django import forms
from django.contrib import admin
from django.urls import path
from django.utils.html import format_html
from unfold.widgets import UnfoldAdminSelectWidget

from rulechains import services
from rulechains.admin_pages.editor import editor_link, editor_view
from rulechains.metadata import MetadataError, export_metadata, keep_secrets, masked, short_type
from rulechains.models import Alarm, AlarmComment, EntityAlarm, Rpc, RuleChain, RuleNode, RuleNodeConnection
from rulechains.node_state_models import RuleNodeState
from rulechains.nodes import NODES
from rulechains.nodes.base import ConfigError
from rulechains.queue_stats_models import QueueStats
from tbproject.admin import TenantScopedAdmin, TenantScopedForm


class RuleNodeForm(TenantScopedForm):
    type = forms.ChoiceField(choices=[(kind, short_type(kind)) for kind in NODES.kinds()],
                             widget=UnfoldAdminSelectWidget)

    class Meta:
        model = RuleNode
        fields = "__all__"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:  # secrets show as the mask; left so, they are kept
            self.initial["configuration"] = masked(self.instance.type, self.instance.configuration)

    def clean(self):
        cleaned = super().clean()
        chain, kind = cleaned.get("rule_chain"), cleaned.get("type")
        if kind in NODES and isinstance(cleaned.get("configuration"), dict):
            posted = {"type": kind, "name": cleaned.get("name") or "", "configuration": cleaned["configuration"]}
            try:
                keep_secrets(posted, self.instance if self.instance.pk is not None else None)
            except MetadataError as e:
                self.add_error("configuration", str(e))
            cleaned["configuration"] = posted["configuration"]
        tenant_id = getattr(self.instance, "tenant_id", None)
        if chain is not None and tenant_id and chain.tenant_id != tenant_id:
            self.add_error("rule_chain", "Choose a rule chain of the same tenant.")
        if kind in NODES:
            try:
                NODES.load(kind).clean_config(cleaned.get("configuration") or {})
            except ConfigError as e:
                self.add_error("configuration", str(e))
        return cleaned


@admin.register(RuleChain)
class RuleChainAdmin(TenantScopedAdmin):
    list_display = ("name", "root", "type", "debug_mode", "node_count", "editor")
    search_fields = ("name",)
    fields = ("editor", "name", "type", "root", "debug_mode", "first_node_index", "configuration", "additional_info",
              "metadata_json")
    readonly_fields = ("editor", "root", "metadata_json")
    actions = ("make_root",)

    @admin.display(description="graph")
    def editor(self, obj) -> str:
        return editor_link(obj)

    def get_urls(self):
        view = self.admin_site.admin_view(lambda request, pk: editor_view(self, request, pk))
        return [path("<uuid:pk>/editor/", view, name="rulechains_rulechain_editor"), *super().get_urls()]

    @admin.display(description="nodes")
    def node_count(self, obj) -> int:
        return obj.nodes.count()

    @admin.display(description="metadata (ThingsBoard JSON)")
    def metadata_json(self, obj) -> str:
        if obj is None or obj.pk is None:
            return ""
        return format_html("<pre style='max-height:30em;overflow:auto'>{}</pre>",
                           json.dumps(export_metadata(obj), indent=2))

    @admin.action(description="Make the selected chain its tenant's root chain")
    def make_root(self, request, queryset):
        for chain in queryset:
            services.set_root(chain)


@admin.register(RuleNode)
class RuleNodeAdmin(TenantScopedAdmin):
    form = RuleNodeForm
    list_display = ("name", "short_type", "rule_chain", "index", "debug_mode")
    list_filter = ("debug_mode",)
    search_fields = ("name", "type")

    @admin.display(description="type")
    def short_type(self, obj) -> str:
        return short_type(obj.type)


@admin.register(RuleNodeConnection)
class RuleNodeConnectionAdmin(TenantScopedAdmin):
    list_display = ("rule_chain", "from_node", "type", "to_node")
    search_fields = ("type",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("rule_chain", "from_node", "to_node")


@admin.register(Alarm)
class AlarmAdmin(TenantScopedAdmin):
    list_display = ("type", "originator_type", "originator_id", "severity", "status", "assignee", "created_time")
    list_filter = ("severity", "cleared", "acknowledged")
    list_select_related = ("assignee",)
    search_fields = ("type",)
    # who may take an alarm is checked by /api/alarm/{id}/assign (rulechains/api/alarm_assign.py)
    readonly_fields = ("assignee", "assign_ts")


@admin.register(EntityAlarm)
class EntityAlarmAdmin(TenantScopedAdmin):
    """Where alarms propagate: written by the create-alarm node, read here."""

    read_only = True
    list_display = ("alarm", "entity_type", "entity_id")
    list_filter = ("entity_type",)
    list_select_related = ("alarm",)


@admin.register(AlarmComment)
class AlarmCommentAdmin(TenantScopedAdmin):
    """Comments on alarms: written through /api/alarm/{id}/comment and by the platform, read here."""

    read_only = True
    list_display = ("alarm", "type", "user", "__str__", "created_time")
    list_filter = ("type",)
    list_select_related = ("alarm", "user")


@admin.register(Rpc)
class RpcAdmin(TenantScopedAdmin):
    """Server-side RPC to devices: made by the RPC API and the rpc call request node, read here."""

    read_only = True
    list_display = ("request_id", "device", "status", "oneway", "persistent", "expiration_time", "created_time")
    list_filter = ("status", "persistent", "oneway")
    list_select_related = ("device",)


@admin.register(RuleNodeState)
class RuleNodeStateAdmin(TenantScopedAdmin):
    """What rule nodes keep per entity (the aggregate stream node's intervals): written by the nodes, read here."""

    read_only = True
    list_display = ("rule_node", "entity_type", "entity_id")
    list_filter = ("entity_type",)
    list_select_related = ("rule_node",)


@admin.register(QueueStats)
class QueueStatsAdmin(TenantScopedAdmin):
    """The queue statistics entities (GET /api/queueStats): made by the rule engine's workers, read here."""

    read_only = True
    list_display = ("queue_name", "service_id", "created_time")
    list_filter = ("queue_name", "service_id")
