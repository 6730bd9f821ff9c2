"""Edge endpoints at ThingsBoard's paths; literal segments before ids at the same position. Included in
tbproject/urls.py before devices' and rulechains' urls: ``entityGroups/edge/{edgeId}/{groupType}`` and
``ruleChain/autoAssignToEdgeRuleChains`` are answered here, not by their broader or placeholder routes."""

from django.urls import path

from edges.api import assignments as a
from edges.api import operations as o
from edges.api import views as v
from tbproject.api.permissions import IsTenantAdmin, IsTenantUser
from tbproject.api.resources import ByIdsView, DetailView, ListView, SaveView, as_view

__all__ = ["urlpatterns"]

E = v.EdgeResource
EDGE = "edge/<str:edge_id>"

urlpatterns = [
    path("edge", as_view(E, SaveView), name="edge-save"),
    path("edge/types", v.TypesView.as_view(), name="edge-types"),
    path("edge/bulk_import", v.BulkImportView.as_view(), name="edge-bulk-import"),
    path("edge/info/<str:pk>", v.InfoDetailView.as_view(), name="edge-info"),
    path("edge/sync/<str:edge_id>", o.SyncView.as_view(), name="edge-sync"),
    path("edge/missingToRelatedRuleChains/<str:edge_id>", o.MissingRuleChainsView.as_view(),
         name="edge-missing-related-rule-chains"),
    path("edge/instructions/install/<str:edge_id>/<str:method>", o.InstallInstructionsView.as_view(),
         name="edge-install-instructions"),
    path("edge/instructions/upgrade/<str:edge_version>/<str:method>", o.UpgradeInstructionsView.as_view(),
         name="edge-upgrade-instructions"),
    path("edge/integration/<str:pk>/allMissingAttributes", o.AllMissingAttributesView.as_view(),
         name="edge-integration-all-missing-attributes"),
    path("edge/integration/<str:edge_id>/missingAttributes", o.MissingAttributesView.as_view(),
         name="edge-integration-missing-attributes"),
    path("edge/<str:pk>", as_view(E, DetailView), name="edge-detail"),
    path(f"{EDGE}/events", o.EventsView.as_view(), name="edge-events"),
    path(f"{EDGE}/upgrade/available", o.UpgradeAvailableView.as_view(), name="edge-upgrade-available"),
    path(f"{EDGE}/ruleChains", a.RuleChainsView.as_view(), name="edge-rule-chains"),
    path(f"{EDGE}/ruleChain/<str:pk>", a.RuleChainAssignView.as_view(), name="edge-rule-chain"),
    path(f"{EDGE}/<str:pk>/root", a.RootView.as_view(), name="edge-root-rule-chain"),
    path(f"{EDGE}/entityGroup/<str:pk>/<str:group_type>", a.GroupAssignView.as_view(), name="edge-entity-group"),
    path(f"{EDGE}/integrations", a.IntegrationsView.as_view(), name="edge-integrations"),
    path(f"{EDGE}/integrationInfos", a.IntegrationsView.as_view(infos=True), name="edge-integration-infos"),
    path(f"{EDGE}/integration/<str:pk>", a.IntegrationAssignView.as_view(), name="edge-integration"),
    path(f"{EDGE}/schedulerEvents", a.SchedulerEventsView.as_view(), name="edge-scheduler-events"),
    path(f"{EDGE}/allSchedulerEvents", a.SchedulerEventsView.as_view(paged=False), name="edge-scheduler-events-all"),
    path(f"{EDGE}/schedulerEvent/<str:pk>", a.SchedulerAssignView.as_view(), name="edge-scheduler-event"),
    path("allEntityGroups/edge/<str:edge_id>/<str:group_type>", a.GroupsView.as_view(paged=False),
         name="edge-entity-groups-all"),
    path("entityGroups/edge/<str:edge_id>/<str:group_type>", a.GroupsView.as_view(), name="edge-entity-groups"),
    path("tenant/edges", as_view(E, ListView, permission_classes=[IsTenantAdmin]), name="edge-tenant-list"),
    path("tenant/edge", v.ByNameView.as_view(), name="edge-tenant-by-name"),
    path("tenant/edgeInfos", v.InfoListView.as_view(scope="tenant", permission_classes=[IsTenantAdmin]),
         name="edge-tenant-infos"),
    path("edgeInfos/all", v.InfoListView.as_view(), name="edge-infos-all"),
    path("customer/<str:customer_id>/edges", v.CustomerListView.as_view(), name="edge-customer-list"),
    path("customer/<str:customer_id>/edgeInfos", v.InfoListView.as_view(scope="customer"),
         name="edge-customer-infos"),
    path("user/edges", as_view(E, ListView, permission_classes=[IsTenantUser]), name="edge-user-list"),
    path("edges/enabled", o.EnabledView.as_view(), name="edge-enabled"),
    path("edges/list", as_view(E, ByIdsView, ids_param="edgeIds", permission_classes=[IsTenantUser]),
         name="edge-by-ids"),
    path("edges", v.EdgesView.as_view(), name="edge-list"),
    path("ruleChain/autoAssignToEdgeRuleChains", o.AutoAssignListView.as_view(), name="rulechain-edge-auto-assigned"),
    path("ruleChain/<str:pk>/edgeTemplateRoot", o.TemplateRootView.as_view(), name="rulechain-edge-template-root"),
    path("ruleChain/<str:pk>/autoAssignToEdge", o.AutoAssignView.as_view(), name="rulechain-edge-auto-assign"),
]
