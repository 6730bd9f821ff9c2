"""Routes of white labeling, custom translations and custom menus (views beside this file). URL names start
``whiteLabel-``, ``translation-``, ``customMenu-`` (roles/enforcement.py: WHITE_LABELING, CUSTOM_MENU);
``noauth-`` ones need no login. Literal paths come before ``{id}`` ones."""

from django.urls import path

from branding.api import menus as m
from branding.api import translations as t
from branding.api import white_labeling as w

urlpatterns = [
    path("whiteLabel/whiteLabelParams", w.ParamsView.as_view(), name="whiteLabel-params"),
    path("whiteLabel/currentWhiteLabelParams", w.CurrentView.as_view(), name="whiteLabel-current"),
    path("whiteLabel/loginWhiteLabelParams", w.LoginSaveView.as_view(), name="whiteLabel-login-save"),
    path("whiteLabel/currentLoginWhiteLabelParams", w.CurrentLoginView.as_view(), name="whiteLabel-login-current"),
    path("whiteLabel/previewWhiteLabelParams", w.PreviewView.as_view(), name="whiteLabel-preview"),
    path("whiteLabel/isWhiteLabelingAllowed", w.AllowedView.as_view(), name="whiteLabel-allowed"),
    path("whiteLabel/isCustomerWhiteLabelingAllowed", w.CustomerAllowedView.as_view(),
         name="whiteLabel-customer-allowed"),
    path("whiteLabel/mailTemplates", w.MailTemplatesView.as_view(), name="whiteLabel-mail-templates"),
    path("noauth/whiteLabel/loginWhiteLabelParams", w.LoginByHostView.as_view(), name="noauth-white-label-login"),
    path("noauth/whiteLabel/loginLogo/<str:image_type>/<str:key>", w.LoginImageView.as_view(),
         name="noauth-white-label-logo"),
    path("noauth/whiteLabel/loginFavicon/<str:image_type>/<str:key>", w.LoginImageView.as_view(field="favicon"),
         name="noauth-white-label-favicon"),
    path("noauth/whiteLabel/customCss", w.CustomCssView.as_view(), name="noauth-white-label-css"),
    # custom translations
    path("translation/custom/merged/<str:locale_code>", t.MergedView.as_view(), name="translation-custom-merged"),
    path("translation/custom/<str:locale_code>/upload", t.UploadView.as_view(), name="translation-custom-upload"),
    path("translation/custom/<str:locale_code>", t.CustomView.as_view(), name="translation-custom"),
    path("translation/custom/<str:locale_code>/<str:key_path>", t.CustomKeyView.as_view(),
         name="translation-custom-key"),
    path("translation/full/<str:locale_code>/download", t.DownloadView.as_view(), name="translation-full-download"),
    path("translation/full/<str:locale_code>", t.FullView.as_view(), name="translation-full"),
    path("translation/availableLocales", t.AvailableView.as_view(), name="translation-available-locales"),
    path("translation/availableJavaLocales", t.JavaLocalesView.as_view(), name="translation-java-locales"),
    path("translation/info", t.InfoView.as_view(), name="translation-info"),
    path("translation/edit/basic/<str:locale_code>", t.BasicEditView.as_view(), name="translation-edit-basic"),
    path("noauth/translation/login/<str:locale_code>", t.LoginView.as_view(), name="noauth-translation-login"),
    # custom menus
    path("customMenu", m.EndUserView.as_view(), name="customMenu-end-user"),
    path("customMenu/currentCustomMenu", m.EndUserView.as_view(), name="customMenu-current"),
    path("customMenu/infos", m.InfosView.as_view(), name="customMenu-infos"),
    path("customMenu/<str:pk>", m.MenuView.as_view(), name="customMenu-detail"),
    path("customMenu/<str:pk>/info", m.InfoView.as_view(), name="customMenu-info"),
    path("customMenu/<str:pk>/config", m.ConfigView.as_view(), name="customMenu-config"),
    path("customMenu/<str:pk>/name", m.NameView.as_view(), name="customMenu-name"),
    path("customMenu/<str:pk>/assigneeList", m.AssigneesView.as_view(), name="customMenu-assignees"),
    path("customMenu/<str:pk>/assign/<str:assignee_type>", m.AssignView.as_view(), name="customMenu-assign"),
]
