"""Who may call what: ThingsBoard authorities mapped onto DRF permission classes."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from tenants.choices import Authority

__all__ = ["IsTenantUser", "IsTenantAdminOrReadOnly", "IsTenantAdmin", "IsSysAdmin"]


class IsTenantUser(BasePermission):
    """Tenant admins and customer users: people who own tenant data."""

    message = "You don't have permission to perform this operation!"

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.authority != Authority.SYS_ADMIN)


class IsTenantAdmin(IsTenantUser):
    def has_permission(self, request, view) -> bool:
        return super().has_permission(request, view) and request.user.authority == Authority.TENANT_ADMIN


class IsTenantAdminOrReadOnly(IsTenantUser):
    """Customer users may read what is assigned to their customer; only tenant admins write."""

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        return request.method in SAFE_METHODS or request.user.authority == Authority.TENANT_ADMIN


class IsSysAdmin(BasePermission):
    message = "You don't have permission to perform this operation!"

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.authority == Authority.SYS_ADMIN)
