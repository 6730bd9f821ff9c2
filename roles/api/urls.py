from django.urls import path

from roles import user_groups
from roles.api import permission_views, share_views, views
from tbproject.api.resources import DetailView, SaveView, as_view

__all__ = ["urlpatterns"]

Role = views.RoleResource
Permission = views.PermissionResource

# included before devices' urls: "entityGroup/{id}/users" is no member id
urlpatterns = [
    path("entityGroup/<str:group_id>/users", user_groups.GroupUsersView.as_view(), name="group-users"),
    path("entityGroup/<str:group_id>/share", share_views.ShareView.as_view(), name="group-share"),
    path("v2/entityGroup/<str:group_id>/share", share_views.ShareView.as_view(), name="group-share-v2"),
    path("entityGroup/<str:group_id>/<str:user_group_id>/<str:role_id>/share", share_views.ShareRoleView.as_view(),
         name="group-share-role"),
    path("role", as_view(Role, SaveView), name="role-save"),
    path("role/<str:pk>", as_view(Role, DetailView), name="role-detail"),
    path("roles", views.RoleListView.as_view(), name="role-list"),
    path("roles/list", views.RoleListView.as_view(by_ids=True), name="role-by-ids"),
    path("groupPermission", as_view(Permission, SaveView), name="group-permission-save"),
    path("groupPermission/info/<str:pk>", views.PermissionInfoView.as_view(), name="group-permission-info"),
    path("groupPermission/<str:pk>", as_view(Permission, DetailView), name="group-permission-detail"),
    path("userGroup/groupPermissions/info", views.LoadInfosView.as_view(), name="group-permission-load-infos"),
    path("userGroup/<str:group_id>/groupPermissions", views.UserGroupPermissionsView.as_view(),
         name="group-permission-user-group"),
    path("permissions/allowedPermissions", permission_views.AllowedPermissionsView.as_view(),
         name="allowed-permissions"),
    path("permission/<str:entity_type>/<str:entity_id>/<str:operation>",
         permission_views.EntityPermissionView.as_view(), name="entity-permission"),
]
