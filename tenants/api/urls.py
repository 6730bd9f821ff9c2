from django.urls import path

from tbproject.api.permissions import IsTenantAdmin, IsTenantUser
from tbproject.api.resources import ByIdsView, DetailView, ListView, SaveView, as_view
from tenants.api import auth, customers

__all__ = ["urlpatterns"]

Customer = customers.CustomerResource

urlpatterns = [
    path("auth/login", auth.LoginView.as_view(), name="auth-login"),
    path("auth/token", auth.RefreshView.as_view(), name="auth-token"),
    path("auth/user", auth.CurrentUserView.as_view(), name="auth-user"),
    path("auth/logout", auth.LogoutView.as_view(), name="auth-logout"),
    # customers
    path("customer", as_view(Customer, SaveView), name="customer-save"),
    path("customer/<str:pk>", as_view(Customer, DetailView), name="customer-detail"),
    path("customers", as_view(Customer, ListView, permission_classes=[IsTenantAdmin]), name="customer-list"),
    path("customers/list", as_view(Customer, ByIdsView, ids_param="customerIds", permission_classes=[IsTenantUser]),
         name="customer-by-ids"),
    path("tenant/customers", customers.ByTitleView.as_view(), name="customer-by-title"),
]
