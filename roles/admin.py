from django.contrib import admin

from roles.models import GroupPermission, Role, TenantDefaults
from tbproject.admin import TenantScopedAdmin


@admin.register(Role)
class RoleAdmin(TenantScopedAdmin):
    list_display = ("name", "type")
    list_filter = ("type",)
    search_fields = ("name",)
    readonly_fields = ("id", "created_time")
    fields = ("name", "type", "permissions", "excluded_permissions", "additional_info", "id", "created_time")


@admin.register(GroupPermission)
class GroupPermissionAdmin(TenantScopedAdmin):
    list_display = ("__str__", "role", "user_group", "entity_group", "is_public")
    list_select_related = ("role", "user_group", "entity_group")
    readonly_fields = ("id", "created_time")
    fields = ("role", "user_group", "entity_group", "is_public", "id", "created_time")


@admin.register(TenantDefaults)
class TenantDefaultsAdmin(TenantScopedAdmin):
    """The ids of each tenant's protected defaults (roles/protection.py): the system administrator reads them;
    ``manage.py restore_default_roles`` remakes them."""

    sysadmin_only = True
    read_only = True
    list_display = ("tenant", "all_group", "admins_group", "admin_role", "admin_permission")
    list_select_related = ("tenant", "all_group", "admins_group", "admin_role")
