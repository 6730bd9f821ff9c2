"""Scheduler event endpoints at ThingsBoard's paths (under /api/); views.py says what each does.

Literal segments come before ids (`schedulerEvent/info/{id}` before `schedulerEvent/{id}`). The
edge routes of ThingsBoard's controller (`/api/edge/{edgeId}/...`) are not served;
`/api/scheduledReports` is reporting's (reports/api/scheduled.py).
"""

from django.urls import path

from scheduler.api import views
from scheduler.api.views import EventResource
from tbproject.api.permissions import IsTenantAdmin
from tbproject.api.resources import DetailView, SaveView, as_view

__all__ = ["urlpatterns"]

urlpatterns = [
    path("schedulerEvent", as_view(EventResource, SaveView, permission_classes=[IsTenantAdmin]),
         name="scheduler-event-save"),
    path("schedulerEvent/info/<str:pk>", views.InfoDetailView.as_view(),
         name="scheduler-event-info"),
    path("schedulerEvent/<str:pk>/enabled/<str:enabled_value>", views.EnableView.as_view(),
         name="scheduler-event-enable"),
    path("schedulerEvent/<str:pk>", as_view(EventResource, DetailView), name="scheduler-event-detail"),
    path("schedulerEvents", views.PageView.as_view(), name="scheduler-event-list"),
    path("schedulerEvents/all", views.AllView.as_view(), name="scheduler-event-all"),
    path("schedulerEvents/list", views.ByIdsView.as_view(), name="scheduler-event-by-ids"),
    path("schedulerEvents/startTime/<str:start_time>/endTime/<str:end_time>", views.RangeView.as_view(),
         name="scheduler-event-range"),
]
