"""/api/secret... routes (ThingsBoard's secret controller); every name starts "secret-" (roles: SECRET)."""

from django.urls import path

from vault.api import views

urlpatterns = [
    path("secret", views.SecretView.as_view(), name="secret-save"),
    path("secrets", views.SecretListView.as_view(), name="secret-list"),
    path("secret/names", views.SecretNamesView.as_view(), name="secret-names"),
    path("secret/<str:pk>/info", views.SecretInfoView.as_view(), name="secret-info"),
    path("secret/<str:pk>/value", views.SecretValueView.as_view(), name="secret-value"),
    path("secret/<str:pk>/description", views.SecretDescriptionView.as_view(), name="secret-description"),
    path("secret/<str:pk>", views.SecretDetailView.as_view(), name="secret-detail"),
]
