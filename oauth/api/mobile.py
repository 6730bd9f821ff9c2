"""Mobile apps and bundles (ThingsBoard's MobileAppController, MobileAppBundleController), the system
administrator's; and what a mobile app asks before and after its user logs in:

    POST /api/mobile/app                          save (appSecret write-only, at least 16 characters)
    GET  /api/mobile/app/{id}   DELETE the same   MobileApp
    GET  /api/mobile/app?pageSize&page&platformType...  PageData of MobileApp
    POST /api/mobile/bundle?oauth2ClientIds=a,b   save;  DELETE /api/mobile/bundle/{id}
    GET  /api/mobile/bundle/info/{id}             MobileAppBundleInfo;  /api/mobile/bundle/infos: PageData
    PUT  /api/mobile/bundle/{id}/oauth2Clients    [client ids]
    GET  /api/noauth/mobile?pkgName&platform      LoginMobileInfo (no login)
    GET  /api/mobile?pkgName&platform             UserMobileInfo (any user)
"""

from django.http import Http404
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from oauth import mobile, rendering, selfreg, services
from oauth.api.base import PublicView, SysAdminByIdView, SysAdminView
from oauth.choices import MOBILE_PLATFORMS
from oauth.models import MobileApp, MobileAppBundle
from tbproject.api.ids import parse_id_list
from tenants.api.serializers import UserSerializer

__all__ = ["AppSaveListView", "AppDetailView", "BundleSaveView", "BundleDetailView", "BundleInfoView",
           "BundleInfosView", "BundleClientsView", "LoginMobileInfoView", "UserMobileInfoView"]


class AppSaveListView(SysAdminView):
    def post(self, request):
        return Response(rendering.app_json(mobile.save_app(request.data)))

    def get(self, request):
        qs = MobileApp.objects.all()
        platform = request.query_params.get("platformType")
        if platform:
            if platform not in MOBILE_PLATFORMS:
                raise ValidationError("platformType must be ANDROID or IOS")
            qs = qs.filter(platform_type=platform)
        return self.page(qs, search_field="pkg_name", render=rendering.app_json,
                         sort_fields={"createdTime": "created_time", "pkgName": "pkg_name", "title": "title"})


class AppDetailView(SysAdminByIdView):
    model = MobileApp

    def get(self, request, pk):
        return Response(rendering.app_json(self.get_object(pk)))

    def delete(self, request, pk):
        self.get_object(pk).delete()
        return Response(status=200)


def _client_ids(request):
    if "oauth2ClientIds" not in request.query_params:
        return None
    return parse_id_list(request.query_params, "oauth2ClientIds", required=False)


class BundleSaveView(SysAdminView):
    def post(self, request):
        return Response(rendering.bundle_json(mobile.save_bundle(request.data, _client_ids(request))))


class BundleDetailView(SysAdminByIdView):
    model = MobileAppBundle

    def delete(self, request, pk):
        self.get_object(pk).delete()
        return Response(status=200)


class BundleInfoView(SysAdminByIdView):
    model = MobileAppBundle

    def get(self, request, pk):
        return Response(rendering.bundle_info_json(self.get_object(pk)))


class BundleInfosView(SysAdminView):
    def get(self, request):
        qs = MobileAppBundle.objects.select_related("android_app", "ios_app").prefetch_related("oauth2_clients")
        return self.page(qs, search_field="title", render=rendering.bundle_info_json,
                         sort_fields={"createdTime": "created_time", "title": "title"})


class BundleClientsView(SysAdminByIdView):
    model = MobileAppBundle

    def put(self, request, pk):
        mobile.set_bundle_clients(self.get_object(pk), request.data)
        return Response(status=200)


def _app(params) -> MobileApp:
    pkg, platform = params.get("pkgName"), params.get("platform")
    if not pkg or platform not in MOBILE_PLATFORMS:
        raise ValidationError("pkgName and platform (ANDROID or IOS) are required")
    app = MobileApp.objects.filter(pkg_name=pkg, platform_type=platform).first()
    if app is None:
        raise Http404("Mobile app is not found")
    return app


class LoginMobileInfoView(PublicView):
    def get(self, request):
        app = _app(request.query_params)
        clients = services.login_clients(request.get_host(), app.pkg_name, app.platform_type)
        bundle = MobileAppBundle.objects.filter(**{f"{app.platform_type.lower()}_app": app}).first()
        return Response({"oAuth2ClientLoginInfos": [{"name": c.login_button_label, "icon": c.login_button_icon or None,
                                                     "url": services.login_url(c, app.pkg_name)} for c in clients],
                         "selfRegistrationParams": selfreg.public(bundle.self_registration_params,
                                                                  app.platform_type) if bundle else None,
                         "storeInfo": app.store_info, "versionInfo": app.version_info})


class UserMobileInfoView(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request):
        app = _app(request.query_params)
        bundle = MobileAppBundle.objects.filter(**{f"{app.platform_type.lower()}_app": app}).first()
        layout = bundle.layout_config if bundle and isinstance(bundle.layout_config, dict) else {}
        return Response({"user": UserSerializer(request.user).data, "storeInfo": app.store_info,
                         "versionInfo": app.version_info, "homeDashboardInfo": None, "pages": layout.get("pages")})
