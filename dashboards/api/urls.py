"""Dashboard endpoints at ThingsBoard's paths (under /api/); what each does is in views.py, groups.py and
visits.py beside this.

Literal segments come before ids (`dashboard/home` before `dashboard/<pk>`), and tbproject/urls.py
includes this map before devices/'s, whose `entityGroup/{groupId}/{entityId}` would otherwise take
`entityGroup/{groupId}/dashboards` for a member id.
"""

from django.urls import path

from dashboards.api import groups, library_urls, views, visits
from dashboards.api.views import DashboardResource as R
from dashboards.api.views import InfoResource as I
from tbproject.api.permissions import IsTenantAdmin, IsTenantUser
from tbproject.api.resources import ByIdsView, DetailView, ListView, SaveView, as_view

__all__ = ["urlpatterns"]

urlpatterns = [
    path("dashboard/serverTime", views.ServerTimeView.as_view(), name="dashboard-server-time"),
    path("dashboard/maxDatapointsLimit", views.MaxDatapointsView.as_view(), name="dashboard-max-datapoints"),
    path("dashboard/home", views.HomeView.as_view(), name="dashboard-home"),
    path("dashboard/home/info", views.HomeInfoView.as_view(), name="dashboard-home-info"),
    path("tenant/dashboard/home/info", views.TenantHomeInfoView.as_view(), name="dashboard-tenant-home-info"),
    path("customer/dashboard/home/info", views.CustomerHomeInfoView.as_view(), name="dashboard-customer-home-info"),
    path("dashboard/info/<str:pk>", views.InfoDetailView.as_view(), name="dashboard-info"),
    path("dashboard", as_view(R, SaveView, permission_classes=[IsTenantAdmin]), name="dashboard-save"),
    path("dashboard/<str:pk>/customers", views.CustomersView.as_view(), name="dashboard-customers"),
    path("dashboard/<str:pk>/customers/add", views.CustomersView.as_view(mode="add"), name="dashboard-customers-add"),
    path("dashboard/<str:pk>/customers/remove", views.CustomersView.as_view(mode="remove"),
         name="dashboard-customers-remove"),
    path("dashboard/<str:pk>", as_view(R, DetailView), name="dashboard-detail"),
    path("tenant/dashboards", as_view(I, ListView, permission_classes=[IsTenantAdmin]), name="dashboard-list"),
    path("tenant/<str:tenant_id>/dashboards", views.TenantListView.as_view(), name="dashboard-tenant-list"),
    path("user/dashboards", as_view(I, ListView, permission_classes=[IsTenantUser]), name="dashboard-user-list"),
    path("user/lastVisitedDashboards", visits.LastVisitedView.as_view(), name="dashboard-last-visited"),
    path("user/dashboards/<str:dashboard_id>/<str:action>", visits.ReportActionView.as_view(),
         name="dashboard-user-action"),
    path("dashboards/all", as_view(I, ListView, permission_classes=[IsTenantUser]), name="dashboard-all"),
    path("dashboards", as_view(I, ByIdsView, ids_param="dashboardIds", permission_classes=[IsTenantUser]),
         name="dashboard-by-ids"),
    path("customer/public/dashboard/<str:pk>", views.PublicView.as_view(), name="dashboard-public"),
    path("customer/<str:customer_id>/dashboards", views.CustomerListView.as_view(), name="dashboard-customer-list"),
    path("customer/<str:customer_id>/dashboard/<str:pk>", views.AssignView.as_view(), name="dashboard-assign"),
    path("entityGroup/<str:group_id>/dashboards", groups.GroupListView.as_view(), name="dashboard-group-list"),
    path("entityGroup/<str:group_id>/dashboards/export", groups.ExportView.as_view(), name="dashboard-group-export"),
    path("entityGroup/<str:group_id>/dashboards/import", groups.ImportView.as_view(), name="dashboard-group-import"),
    *library_urls.urlpatterns,  # widgets bundles, widget types, resources, images
]
