"""Device, asset, profile and entity group endpoints, at ThingsBoard's paths.

Order matters where a literal segment shares a position with an id (`device/types` before
`device/<pk>`, `entityGroups/list` before `entityGroups/<groupType>`).
"""

from django.urls import path

from devices.api import (
    connectivity,
    credentials,
    entities,
    group_extras,
    groups,
    ota_groups,
    ota_packages,
    owner_lists,
    owners,
    profile_keys,
    profiles,
    queries,
    tenant_assign,
)
from devices.api.entity_views import entity_view_patterns
from devices.api.relation_queries import ByIdsOrQueryView
from devices.api.relations import relation_patterns
from devices.api.views import AssetResource, DeviceResource
from tbproject.api.permissions import IsTenantAdmin, IsTenantUser
from tbproject.api.resources import DetailView, ListView, SaveView, as_view

__all__ = ["urlpatterns"]


def entity_family(resource, single: str, plural: str) -> list:
    """The device (or asset) family; ``single``="device", ``plural``="devices"."""
    return [
        path(f"{single}/types", as_view(resource, entities.TypesView), name=f"{single}-types"),
        path(f"{single}/info/<str:pk>", as_view(resource, entities.InfoDetailView), name=f"{single}-info"),
        path(f"{single}", as_view(resource, SaveView), name=f"{single}-save"),
        path(f"{single}/<str:pk>", as_view(resource, DetailView), name=f"{single}-detail"),
        path(f"tenant/{plural}", as_view(resource, ListView, permission_classes=[IsTenantAdmin]),
             name=f"{single}-list"),
        path(f"tenant/{single}", as_view(resource, entities.ByNameView), name=f"{single}-by-name"),
        path(f"{plural}", as_view(resource, ByIdsOrQueryView, ids_param=f"{single}Ids",
                                  permission_classes=[IsTenantUser]), name=f"{single}-by-ids"),
        path(f"user/{plural}", as_view(resource, ListView, permission_classes=[IsTenantUser]),
             name=f"{single}-user-list"),
        path(f"customer/<str:customer_id>/{plural}", as_view(resource, entities.CustomerListView),
             name=f"{single}-customer-list"),
        path(f"{single}Infos/all", as_view(resource, entities.InfoListView), name=f"{single}-infos-all"),
        path(f"tenant/{single}Infos", as_view(resource, entities.InfoListView, scope="tenant",
                                               permission_classes=[IsTenantAdmin]), name=f"{single}-infos-tenant"),
        path(f"customer/<str:customer_id>/{single}Infos", as_view(resource, entities.InfoListView, scope="customer"),
             name=f"{single}-infos-customer"),
        path(f"customer/{single}/<str:pk>", as_view(resource, entities.UnassignView), name=f"{single}-unassign"),
        path(f"customer/<str:customer_id>/{single}/<str:pk>", as_view(resource, entities.AssignView),
             name=f"{single}-assign"),
        path(f"entityGroup/<str:group_id>/{plural}", as_view(resource, entities.GroupListView),
             name=f"{single}-group-list"),
    ]


def profile_family(resource, single: str) -> list:
    """`deviceProfile...` (or `assetProfile...`) endpoints; ``single``="deviceProfile"."""
    return [
        path(f"{single}/names", as_view(resource, profiles.NamesView), name=f"{single}-names"),
        path(f"{single}", as_view(resource, SaveView), name=f"{single}-save"),
        path(f"{single}/<str:pk>", as_view(resource, DetailView), name=f"{single}-detail"),
        path(f"{single}/<str:pk>/default", as_view(resource, profiles.SetDefaultView), name=f"{single}-set-default"),
        path(f"{single}s", as_view(resource, ListView), name=f"{single}-list"),
        path(f"{single}Infos", as_view(resource, profiles.InfoListView), name=f"{single}-infos"),
        path(f"{single}Infos/list", as_view(resource, profiles.InfoByIdsView), name=f"{single}-infos-by-ids"),
        path(f"{single}Info/default", as_view(resource, profiles.DefaultInfoView), name=f"{single}-info-default"),
        path(f"{single}Info/<str:pk>", as_view(resource, profiles.InfoDetailView), name=f"{single}-info"),
    ]


G = groups.EntityGroupResource
group_patterns = [
    path("entityGroup", as_view(G, SaveView), name="group-save"),
    path("entityGroup/<str:pk>", as_view(G, DetailView), name="group-detail"),
    path("entityGroup/<str:pk>/entities", groups.EntitiesView.as_view(), name="group-entities"),
    path("entityGroup/<str:pk>/addEntities", groups.AddEntitiesView.as_view(), name="group-add"),
    path("entityGroup/<str:pk>/deleteEntities", groups.DeleteEntitiesView.as_view(), name="group-remove"),
    *[path(f"entityGroup/<str:group_id>/{segment}", group_extras.OtherMembersView.as_view(entity_type_asked=kind),
           name=f"group-{segment}") for segment, kind in group_extras.OTHER_MEMBERS.items()],
    path("entityGroup/<str:group_id>/groupPermissions", group_extras.GroupPermissionsView.as_view(),
         name="group-permissions"),
    path("entityGroup/<str:pk>/<str:member_id>", groups.MemberView.as_view(), name="group-member"),
    path("entityGroup/all/<str:owner_type>/<str:owner_id>/<str:group_type>", group_extras.AllGroupView.as_view(),
         name="group-all"),
    path("entityGroup/<str:owner_type>/<str:owner_id>/<str:group_type>/<str:group_name>",
         groups.ByOwnerAndNameView.as_view(), name="group-by-owner-and-name"),
    path("entityGroupInfo/<str:pk>", groups.InfoView.as_view(), name="group-info"),
    path("entityGroupInfos", groups.ByIdsView.as_view(infos=True), name="group-infos-by-ids"),
    path("entityGroupInfos/<str:group_type>", groups.TypeListView.as_view(infos=True), name="group-infos"),
    path("entityGroupInfos/<str:owner_type>/<str:owner_id>/<str:group_type>", groups.OwnerListView.as_view(infos=True),
         name="group-owner-infos"),
    # an owner's groups and its sub-owners' (the tenant's: its customers' too)
    path("entityGroupsHierarchy/<str:owner_type>/<str:owner_id>/<str:group_type>",
         groups.OwnerListView.as_view(hierarchy=True), name="group-owner-hierarchy"),
    path("entityGroupInfosHierarchy/<str:owner_type>/<str:owner_id>/<str:group_type>",
         groups.OwnerListView.as_view(infos=True, hierarchy=True), name="group-owner-infos-hierarchy"),
    path("entityGroups/list", groups.ByIdsView.as_view(), name="group-by-ids"),
    path("entityGroups/<str:group_type>", groups.TypeListView.as_view(), name="group-list"),
    path("entityGroups/<str:group_type>/all", groups.TypeListView.as_view(paged=False), name="group-list-all"),
    path("entityGroups/<str:group_type>/shared", group_extras.SharedGroupsView.as_view(), name="group-shared"),
    path("entityGroupInfos/<str:group_type>/shared", group_extras.SharedGroupsView.as_view(infos=True),
         name="group-infos-shared"),
    path("entityGroups/<str:group_type>/shared/all", group_extras.SharedGroupsView.as_view(paged=False),
         name="group-shared-all"),
    path("entityGroups/<str:entity_type>/<str:entity_id_>", groups.ForEntityView.as_view(), name="group-for-entity"),
    path("entityGroups/<str:owner_type>/<str:owner_id>/<str:group_type>", groups.OwnerListView.as_view(),
         name="group-owner-list"),
    path("entityGroups/<str:owner_type>/<str:owner_id>/<str:group_type>/all",
         groups.OwnerListView.as_view(paged=False), name="group-owner-list-all"),
]

ota_patterns = [
    path("otaPackage", as_view(ota_packages.OtaPackageResource, SaveView), name="ota-package-save"),
    path("otaPackage/info/<str:pk>", ota_packages.InfoView.as_view(), name="ota-package-info"),
    path("otaPackage/<str:pk>/download", ota_packages.DownloadView.as_view(), name="ota-package-download"),
    path("otaPackage/<str:pk>", ota_packages.PackageView.as_view(), name="ota-package-detail"),
    path("otaPackages", ota_packages.ListView.as_view(), name="ota-package-list"),
    path("otaPackages/group/<str:group_id>/<str:ota_type>", ota_packages.GroupListView.as_view(),
         name="ota-package-group-list"),
    path("otaPackages/<str:device_profile_id>/<str:ota_type>", ota_packages.ProfileListView.as_view(),
         name="ota-package-profile-list"),
    path("deviceGroupOtaPackage", ota_groups.SaveView.as_view(), name="group-ota-package-save"),
    path("deviceGroupOtaPackage/<str:group_id>/<str:ota_type>", ota_groups.ByGroupView.as_view(),
         name="group-ota-package"),
    path("deviceGroupOtaPackage/<str:pk>", ota_groups.DeleteView.as_view(), name="group-ota-package-delete"),
    path("devices/count/<str:ota_type>/<str:device_profile_id>", ota_groups.ProfileCountView.as_view(),
         name="device-count-ota-profile"),
    path("devices/count/<str:ota_type>/<str:ota_package_id>/<str:group_id>", ota_groups.GroupCountView.as_view(),
         name="device-count-ota-group"),
]

urlpatterns = [
    *ota_patterns,
    path("device/credentials", credentials.UpdateCredentialsView.as_view(), name="device-credentials-save"),
    path("device-with-credentials", credentials.DeviceWithCredentialsView.as_view(), name="device-with-credentials"),
    path("device/<str:device_id>/credentials", credentials.CredentialsByDeviceView.as_view(),
         name="device-credentials"),
    *entity_family(DeviceResource, "device", "devices"),
    *entity_family(AssetResource, "asset", "assets"),
    *entity_view_patterns(),
    *profile_family(profiles.DeviceProfileResource, "deviceProfile"),
    path("deviceProfile/devices/keys/attributes", profile_keys.DeviceProfileKeysView.as_view(kind="attributes"),
         name="deviceProfile-keys-attributes"),
    path("deviceProfile/devices/keys/timeseries", profile_keys.DeviceProfileKeysView.as_view(kind="timeseries"),
         name="deviceProfile-keys-timeseries"),
    *profile_family(profiles.AssetProfileResource, "assetProfile"),
    *group_patterns,
    path("owner/CUSTOMER/<str:owner_id>/<str:entity_type>/<str:entity_id>",
         owners.ChangeOwnerView.as_view(owner_type="CUSTOMER"), name="owner-customer"),
    path("owner/TENANT/<str:owner_id>/<str:entity_type>/<str:entity_id>",
         owners.ChangeOwnerView.as_view(owner_type="TENANT"), name="owner-tenant"),
    *relation_patterns(),
    path("owners", owner_lists.OwnersView.as_view(), name="owners"),
    path("ownerInfos", owner_lists.OwnersView.as_view(infos=True), name="owner-infos"),
    path("ownerInfo/<str:owner_type>/<str:owner_id>", owner_lists.OwnerInfoView.as_view(), name="owner-info"),
    path("entitiesQuery/find", queries.EntitiesFindView.as_view(), name="query-entitiesQuery-find"),
    path("entitiesQuery/count", queries.EntitiesCountView.as_view(), name="query-entitiesQuery-count"),
    path("entitiesQuery/find/keys", queries.EntitiesKeysView.as_view(), name="query-entitiesQuery-find-keys"),
    path("v2/entitiesQuery/find/keys", queries.EntitiesKeysV2View.as_view(), name="query-entitiesQuery-find-keys-v2"),
    *connectivity.urlpatterns,  # device-connectivity, lwm2m
    *tenant_assign.urlpatterns,
]
