from django.urls import path

from tenants.api import auth

__all__ = ["urlpatterns"]

urlpatterns = [
    path("auth/login", auth.LoginView.as_view(), name="auth-login"),
    path("auth/token", auth.RefreshView.as_view(), name="auth-token"),
    path("auth/user", auth.CurrentUserView.as_view(), name="auth-user"),
    path("auth/logout", auth.LogoutView.as_view(), name="auth-logout"),
]
