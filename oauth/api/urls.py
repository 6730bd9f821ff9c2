from django.urls import path

from oauth.api import clients, domains, mail, mobile, qr

__all__ = ["urlpatterns"]

urlpatterns = [
    path("oauth2/client", clients.ClientSaveView.as_view(), name="oauth2-client-save"),
    path("oauth2/client/infos", clients.ClientInfosView.as_view(), name="oauth2-client-infos"),
    path("oauth2/client/list", clients.ClientListView.as_view(), name="oauth2-client-list"),
    path("oauth2/client/<str:pk>", clients.ClientDetailView.as_view(), name="oauth2-client-detail"),
    path("oauth2/loginProcessingUrl", clients.LoginProcessingUrlView.as_view(), name="oauth2-login-processing-url"),
    path("oauth2/config/template", clients.TemplatesView.as_view(), name="oauth2-template-list"),
    path("oauth2/config/template/<str:pk>", clients.TemplateDetailView.as_view(), name="oauth2-template-detail"),
    path("noauth/oauth2Clients", clients.LoginClientsView.as_view(), name="noauth-oauth2-clients"),
    path("domain", domains.DomainSaveView.as_view(), name="domain-save"),
    path("domain/infos", domains.DomainInfosView.as_view(), name="domain-infos"),
    path("domain/info/<str:pk>", domains.DomainInfoView.as_view(), name="domain-info"),
    path("domain/<str:pk>/oauth2Clients", domains.DomainClientsView.as_view(), name="domain-oauth2-clients"),
    path("domain/<str:pk>", domains.DomainDetailView.as_view(), name="domain-detail"),
    path("mobile/app", mobile.AppSaveListView.as_view(), name="mobile-app-list"),
    path("mobile/app/<str:pk>", mobile.AppDetailView.as_view(), name="mobile-app-detail"),
    path("mobile/bundle", mobile.BundleSaveView.as_view(), name="mobile-bundle-save"),
    path("mobile/bundle/infos", mobile.BundleInfosView.as_view(), name="mobile-bundle-infos"),
    path("mobile/bundle/info/<str:pk>", mobile.BundleInfoView.as_view(), name="mobile-bundle-info"),
    path("mobile/bundle/<str:pk>/oauth2Clients", mobile.BundleClientsView.as_view(), name="mobile-bundle-clients"),
    path("mobile/bundle/<str:pk>", mobile.BundleDetailView.as_view(), name="mobile-bundle-detail"),
    path("mobile/qr/settings", qr.QrSettingsView.as_view(), name="mobile-qr-settings"),
    path("mobile/qr/merged", qr.MergedQrView.as_view(), name="mobile-qr-merged"),
    path("mobile/qr/deepLink", qr.DeepLinkView.as_view(), name="mobile-qr-deep-link"),
    path("mobile", mobile.UserMobileInfoView.as_view(), name="mobile-user-info"),
    path("noauth/mobile", mobile.LoginMobileInfoView.as_view(), name="noauth-mobile"),
    path("noauth/qr/<str:secret>", qr.SecretTokenView.as_view(), name="noauth-qr-secret"),
    path("noauth/qr", qr.AppRedirectView.as_view(), name="noauth-qr"),
    path("admin/mail/oauth2/authorize", mail.MailAuthorizeView.as_view(), name="admin-mail-oauth2-authorize"),
    path("admin/mail/oauth2/loginProcessingUrl", mail.MailProcessingUrlView.as_view(),
         name="admin-mail-oauth2-processing-url"),
    # the provider's redirect of the administrator's browser: no token (the state cookie proves the request)
    path("admin/mail/oauth2/code", mail.MailCodeView.as_view(), name="noauth-admin-mail-oauth2-code"),
]
