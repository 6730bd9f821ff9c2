"""Who may call what: ThingsBoard authorities mapped onto DRF permission classes."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from tbproject.api import role_hook
from tenants.choices import Authority

__all__ = ["IsTenantUser", "IsTenantAdminOrReadOnly", "IsTenantAdmin", "IsSysAdmin", "IsAdministrator", "RoleChecked"]


class IsTenantUser(BasePermission):
    """Tenant admins and customer users: people who own tenant data.

    The authority check comes first (:meth:`authority_allows`, what the subclasses narrow), then the
    roles of the user's groups (tbproject/api/role_hook.py), so no role lifts an authority's limits.
    """

    message = "You don't have permission to perform this operation!"
    consults_roles = True

    def has_permission(self, request, view) -> bool:
        return self.authority_allows(request) and role_hook.allows(request, view)

    def authority_allows(self, request) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.authority != Authority.SYS_ADMIN)


class IsTenantAdmin(IsTenantUser):
    def authority_allows(self, request) -> bool:
        return super().authority_allows(request) and request.user.authority == Authority.TENANT_ADMIN


class IsTenantAdminOrReadOnly(IsTenantUser):
    """Customer users may read what is assigned to their customer; only tenant admins write."""

    def authority_allows(self, request) -> bool:
        if not super().authority_allows(request):
            return False
        return request.method in SAFE_METHODS or request.user.authority == Authority.TENANT_ADMIN


class IsSysAdmin(BasePermission):
    message = "You don't have permission to perform this operation!"

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.authority == Authority.SYS_ADMIN)


class IsAdministrator(BasePermission):
    """The system administrator, and tenant administrators as their roles allow (ThingsBoard's pages that both
    administrators have: resources, the notification center, usage)."""

    consults_roles = True
    message = "You don't have permission to perform this operation!"

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.authority in (Authority.SYS_ADMIN, Authority.TENANT_ADMIN)):
            return False
        return user.authority == Authority.SYS_ADMIN or role_hook.allows(request, view)


class RoleChecked(BasePermission):
    """Added after another class (``[IsAuthenticated, RoleChecked]``): a tenant user's request meets the role
    check as :class:`IsTenantUser`'s do; the system administrator and anonymous requests pass unchanged."""

    message = "You don't have permission to perform this operation!"
    consults_roles = True

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated) or user.authority == Authority.SYS_ADMIN:
            return True
        return role_hook.allows(request, view)
