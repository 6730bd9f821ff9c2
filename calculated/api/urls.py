"""Calculated-field routes; literal segments before ids at the same position."""

from django.urls import path

from calculated.api import views

__all__ = ["urlpatterns"]

urlpatterns = [
    path("calculatedField", views.SaveView.as_view(), name="calculatedfield-save"),
    path("calculatedField/testScript", views.TestScriptView.as_view(), name="calculatedfield-test-script"),
    path("calculatedFields", views.ListView.as_view(), name="calculatedfield-list"),
    path("calculatedFields/names", views.NamesView.as_view(), name="calculatedfield-names"),
    path("calculatedField/<str:pk>", views.DetailView.as_view(), name="calculatedfield-detail"),
    path("calculatedField/<str:pk>/debug", views.DebugView.as_view(), name="calculatedfield-debug"),
    path("calculatedField/<str:entity_type>/<str:entity_id>", views.ByEntityView.as_view(),
         name="calculatedfield-by-entity"),
]
