"""Calculated-field routes; literal segments before ids at the same position."""

from django.urls import path

from calculated.api import jobs, views

__all__ = ["urlpatterns"]

urlpatterns = [
    path("calculatedField", views.SaveView.as_view(), name="calculatedfield-save"),
    path("calculatedField/testScript", views.TestScriptView.as_view(), name="calculatedfield-test-script"),
    path("calculatedFields", views.ListView.as_view(), name="calculatedfield-list"),
    path("calculatedFields/names", views.NamesView.as_view(), name="calculatedfield-names"),
    path("calculatedField/<str:pk>", views.DetailView.as_view(), name="calculatedfield-detail"),
    path("calculatedField/<str:pk>/debug", views.DebugView.as_view(), name="calculatedfield-debug"),
    path("calculatedField/<str:pk>/reprocess", jobs.ReprocessView.as_view(), name="calculatedfield-reprocess"),
    path("calculatedField/<str:pk>/reprocessAndWait", jobs.ReprocessAndWaitView.as_view(),
         name="calculatedfield-reprocess-wait"),
    path("calculatedField/<str:pk>/reprocess/validate", jobs.ValidateView.as_view(),
         name="calculatedfield-reprocess-validate"),
    path("calculatedField/<str:pk>/reprocess/job", jobs.LastJobView.as_view(), name="calculatedfield-reprocess-job"),
    path("calculatedField/<str:entity_type>/<str:entity_id>", views.ByEntityView.as_view(),
         name="calculatedfield-by-entity"),
    path("jobs", jobs.JobListView.as_view(), name="job-list"),
    path("job/<str:pk>", jobs.JobView.as_view(), name="job-detail"),
    path("job/<str:pk>/cancel", jobs.JobCancelView.as_view(), name="job-cancel"),
    path("job/<str:pk>/reprocess", jobs.JobRetryView.as_view(), name="job-reprocess"),
]
