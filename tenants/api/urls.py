from django.urls import path

from tbproject.api.permissions import IsTenantAdmin, IsTenantUser
from tbproject.api.resources import ByIdsView, DetailView, ListView, SaveView, as_view
from tenants.api import accounts, auth, customer_reads, customers, profiles, tenants, user_infos, user_settings, users

__all__ = ["urlpatterns"]

Customer = customers.CustomerResource
Profile = profiles.TenantProfileResource

urlpatterns = [
    path("auth/login", auth.LoginView.as_view(), name="auth-login"),
    path("auth/token", auth.RefreshView.as_view(), name="auth-token"),
    path("auth/user", auth.CurrentUserView.as_view(), name="auth-user"),
    path("auth/logout", auth.LogoutView.as_view(), name="auth-logout"),
    path("auth/changePassword", accounts.ChangePasswordView.as_view(), name="auth-change-password"),
    path("noauth/activate", accounts.ActivateView.as_view(), name="noauth-activate"),
    path("noauth/resetPasswordByEmail", accounts.ResetByEmailView.as_view(), name="noauth-reset-by-email"),
    path("noauth/resetPassword", accounts.ResetView.as_view(), name="noauth-reset"),
    path("noauth/userPasswordPolicy", accounts.PasswordPolicyView.as_view(), name="noauth-password-policy"),
    # customers
    path("customer", as_view(Customer, SaveView), name="customer-save"),
    path("customer/users", user_infos.AllCustomerUsersView.as_view(), name="customer-users-all"),
    path("customer/info/<str:pk>", customer_reads.CustomerInfoView.as_view(), name="customer-info"),
    path("customerInfos/all", customer_reads.CustomerInfosView.as_view(), name="customer-infos-all"),
    path("customer/<str:customer_id>/shortInfo", customer_reads.ShortInfoView.as_view(), name="customer-short-info"),
    path("customer/<str:customer_id>/title", customer_reads.TitleView.as_view(), name="customer-title"),
    path("customer/<str:customer_id>/customerInfos", customer_reads.SubCustomersView.as_view(),
         name="customer-sub-customers"),
    path("customer/<str:pk>", as_view(Customer, DetailView), name="customer-detail"),
    path("customers", as_view(Customer, ListView, permission_classes=[IsTenantAdmin]), name="customer-list"),
    path("customers/list", as_view(Customer, ByIdsView, ids_param="customerIds", permission_classes=[IsTenantUser]),
         name="customer-by-ids"),
    path("tenant/customers", customers.ByTitleView.as_view(), name="customer-by-title"),
    # users (saves, activation, passwords: tenants/accounts.py) and the tenant;
    # uuid paths leave user/devices, tenant/devices... to their views
    path("user", accounts.UserSaveView.as_view(), name="user-save"),
    path("user/sendActivationMail", accounts.SendActivationMailView.as_view(), name="user-send-activation-mail"),
    path("user/<uuid:pk>/activationLink", accounts.ActivationLinkView.as_view(), name="user-activation-link"),
    path("user/<uuid:pk>/activationLinkInfo", accounts.ActivationLinkInfoView.as_view(),
         name="user-activation-link-info"),
    path("user/<uuid:pk>/userCredentialsEnabled", accounts.CredentialsEnabledView.as_view(),
         name="user-credentials-enabled"),
    path("user/users", users.UserListView.as_view(), name="user-list"),
    path("user/info/<uuid:pk>", user_infos.UserInfoView.as_view(), name="user-info"),
    path("user/<uuid:pk>/token", user_infos.UserTokenView.as_view(), name="user-token"),
    path("user/tokenAccessEnabled", user_infos.TokenAccessEnabledView.as_view(), name="user-token-access-enabled"),
    path("users/info", user_infos.UsersByQueryView.as_view(), name="users-by-query"),
    path("users/list", user_infos.UsersByIdsView.as_view(), name="users-by-ids"),
    path("userInfos/all", user_infos.AllUserInfosView.as_view(), name="user-infos-all"),
    path("customer/<str:customer_id>/userInfos", user_infos.CustomerUserInfosView.as_view(),
         name="customer-user-infos"),
    path("tenant/<uuid:tenant_id>/users", user_infos.TenantAdminsView.as_view(), name="tenant-admins"),
    # the current user's settings
    path("user/settings", user_settings.SaveSettingsView.as_view(), name="user-settings-save"),
    path("user/settings/<str:settings>", user_settings.SettingsView.as_view(), name="user-settings"),
    path("user/settings/<str:settings>/<str:paths>", user_settings.DeleteTypedSettingsView.as_view(),
         name="user-settings-delete"),
    path("user/<uuid:pk>", users.UserDetailView.as_view(), name="user-detail"),
    path("customer/<str:customer_id>/users", users.CustomerUsersView.as_view(), name="customer-users"),
    # tenants (system administrators; a tenant administrator reads its own)
    path("tenant", tenants.TenantSaveView.as_view(), name="tenant-save"),
    path("tenant/<uuid:pk>", tenants.TenantView.as_view(), name="tenant-detail"),
    path("tenant/info/<uuid:pk>", tenants.TenantInfoView.as_view(), name="tenant-info"),
    path("tenants", tenants.TenantListView.as_view(), name="tenant-list"),
    path("tenants/list", tenants.TenantByIdsView.as_view(), name="tenant-by-ids"),
    path("tenantInfos", tenants.TenantInfoListView.as_view(), name="tenant-info-list"),
    # tenant profiles (system administrators)
    path("tenantProfile", as_view(Profile, SaveView), name="tenant-profile-save"),
    path("tenantProfile/<str:pk>", as_view(profiles.ByIdResource, DetailView), name="tenant-profile-detail"),
    path("tenantProfile/<str:pk>/default", profiles.MakeDefaultView.as_view(), name="tenant-profile-default"),
    path("tenantProfiles", as_view(Profile, ListView), name="tenant-profile-list"),
    path("tenantProfileInfo/default", profiles.DefaultInfoView.as_view(), name="tenant-profile-default-info"),
    path("tenantProfileInfo/<str:pk>", profiles.InfoByIdView.as_view(),
         name="tenant-profile-info"),
    path("tenantProfileInfos", as_view(profiles.InfoResource, ListView), name="tenant-profile-info-list"),
    path("tenantProfiles/list", as_view(Profile, ByIdsView, ids_param="ids"), name="tenant-profile-by-ids"),
]
