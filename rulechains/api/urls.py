"""Rule chain, alarm and server-side RPC endpoints; literal segments before ids at the same position."""

from django.urls import path

from rulechains.api import alarm_queries, alarm_rules, alarms, editor, queue_stats, rule_engine, views
from rulechains.api.alarm_assign import AssignView, UnassignView, UsersForAssignView
from rulechains.api.alarm_comments import AlarmCommentsView, AlarmCommentView
from rulechains.api.alarm_data import AlarmDataCountView, AlarmDataFindView
from rulechains.api.alarm_save import SaveAlarmView
from rulechains.api.capabilities import (
    AlarmRulesView,
    OutputLabelsUsageView,
    OutputLabelsView,
    RuleNodeDebugInView,
    TbelEnabledView,
)
from rulechains.api.rpc import OneWayRpcView, TwoWayRpcV1View, TwoWayRpcView
from rulechains.api.rpc_persistent import PersistentRpcByDeviceView, PersistentRpcView
from tbproject.api.resources import ByIdsView, DetailView, ListView, SaveView, as_view

__all__ = ["urlpatterns"]

R = views.RuleChainResource

urlpatterns = [
    path("ruleChain", as_view(R, SaveView), name="rulechain-save"),
    path("ruleChain/tbelEnabled", TbelEnabledView.as_view(), name="rulechain-tbel-enabled"),
    path("ruleChain/metadata", views.SaveMetadataView.as_view(), name="rulechain-metadata-save"),
    path("ruleChain/import", views.ImportView.as_view(), name="rulechain-import"),
    path("ruleChain/node/validate", editor.ValidateNodeView.as_view(), name="rulechain-node-validate"),
    path("ruleChain/device/default", views.DefaultDeviceChainView.as_view(), name="rulechain-device-default"),
    path("ruleChain/<str:pk>/test", editor.TestChainView.as_view(), name="rulechain-test"),
    path("components", editor.ComponentsView.as_view(), name="components"),
    path("components/<str:component_type>", editor.ComponentsByTypeView.as_view(), name="components-by-type"),
    path("component/<str:clazz>", editor.ComponentView.as_view(), name="component"),
    path("ruleChain/<str:pk>/metadata", views.MetadataView.as_view(), name="rulechain-metadata"),
    path("ruleChain/<str:pk>/output/labels", OutputLabelsView.as_view(), name="rulechain-output-labels"),
    path("ruleChain/<str:pk>/output/labels/usage", OutputLabelsUsageView.as_view(),
         name="rulechain-output-labels-usage"),
    path("ruleNode/<str:pk>/debugIn", RuleNodeDebugInView.as_view(), name="rulenode-debug-in"),
    path("ruleChain/<str:pk>/root", views.RootView.as_view(), name="rulechain-root"),
    path("ruleChain/<str:pk>/export", views.ExportView.as_view(), name="rulechain-export"),
    path("ruleChain/<str:pk>", as_view(R, DetailView), name="rulechain-detail"),
    path("ruleChains/export", views.BulkExportView.as_view(), name="rulechain-bulk-export"),
    path("ruleChains/import", views.BulkImportView.as_view(), name="rulechain-bulk-import"),
    path("ruleChains/list", as_view(R, ByIdsView, ids_param="ruleChainIds"), name="rulechain-by-ids"),
    path("ruleChains", as_view(R, ListView), name="rulechain-list"),
    path("alarm", SaveAlarmView.as_view(), name="alarm-save"),
    path("alarmsQuery/find", AlarmDataFindView.as_view(), name="query-alarmsQuery-find"),
    path("alarmsQuery/count", AlarmDataCountView.as_view(), name="query-alarmsQuery-count"),
    path("alarm/types", alarm_queries.AlarmTypesView.as_view(), name="alarm-types"),
    path("alarm/rules", AlarmRulesView.as_view(), name="alarm-rules"),
    path("alarm/rules/names", AlarmRulesView.as_view(), name="alarm-rule-names"),
    path("alarm/rule/<str:pk>", AlarmRulesView.as_view(), name="alarm-rule"),
    path("alarm/highestSeverity/<str:entity_type>/<str:entity_id>", alarm_queries.HighestSeverityView.as_view(),
         name="alarm-highest-severity"),
    path("v2/alarm/<str:entity_type>/<str:entity_id>", alarm_queries.EntityAlarmsV2View.as_view(),
         name="alarm-entity-v2"),
    path("v2/alarms", alarm_queries.AllAlarmsV2View.as_view(), name="alarm-list-v2"),
    path("alarm/info/<str:pk>", alarms.AlarmInfoView.as_view(), name="alarm-info"),
    path("alarm/<str:pk>/assign/<str:user_id>", AssignView.as_view(), name="alarm-assign"),
    path("alarm/<str:pk>/assign", UnassignView.as_view(), name="alarm-unassign"),
    path("users/assign/<str:pk>", UsersForAssignView.as_view(), name="alarm-users-for-assign"),
    path("alarm/<str:pk>/ack", alarms.AckView.as_view(), name="alarm-ack"),
    path("alarm/<str:pk>/comment", AlarmCommentsView.as_view(), name="alarm-comments"),
    path("alarm/<str:pk>/comment/<str:comment_id>", AlarmCommentView.as_view(), name="alarm-comment"),
    path("alarm/<str:pk>/clear", alarms.ClearView.as_view(), name="alarm-clear"),
    path("alarm/<str:entity_type>/<str:entity_id>", alarms.EntityAlarmsView.as_view(), name="alarm-entity"),
    path("alarm/<str:pk>", alarms.AlarmView.as_view(), name="alarm-detail"),
    path("alarms", alarms.AllAlarmsView.as_view(), name="alarm-list"),
    path("rpc/oneway/<str:device_id>", OneWayRpcView.as_view(), name="rpc-oneway"),
    path("plugins/rpc/oneway/<str:device_id>", OneWayRpcView.as_view(), name="rpc-oneway-v1"),
    path("rpc/twoway/<str:device_id>", TwoWayRpcView.as_view(), name="rpc-twoway"),
    path("plugins/rpc/twoway/<str:device_id>", TwoWayRpcV1View.as_view(), name="rpc-twoway-v1"),
    path("rpc/persistent/device/<str:device_id>", PersistentRpcByDeviceView.as_view(), name="rpc-persistent-device"),
    path("rpc/persistent/<str:pk>", PersistentRpcView.as_view(), name="rpc-persistent"),
    *rule_engine.urlpatterns,
    *alarm_rules.urlpatterns,
    *queue_stats.urlpatterns,
]
