"""Audit log endpoints at ThingsBoard's paths."""

from django.urls import path

from audit.api import views

__all__ = ["urlpatterns"]

urlpatterns = [
    path("audit/logs/entity/<str:entity_type>/<str:entity_id>", views.EntityAuditLogsView.as_view(),
         name="audit-logs-entity"),
    path("audit/logs/user/<str:user_id>", views.UserAuditLogsView.as_view(), name="audit-logs-user"),
    path("audit/logs/customer/<str:customer_id>", views.CustomerAuditLogsView.as_view(), name="audit-logs-customer"),
    path("audit/logs", views.AuditLogsView.as_view(), name="audit-logs"),
]
