"""White labeling at ThingsBoard PE's paths (tb-pe-client 4.4's WhiteLabelingControllerApi; routes in urls.py).

    GET|POST   /api/whiteLabel/whiteLabelParams[?customerId]     merged params of the caller | save (GENERAL)
    GET|DELETE /api/whiteLabel/currentWhiteLabelParams[?customerId]     the level's own params (not merged)
    POST       /api/whiteLabel/loginWhiteLabelParams[?customerId]       save the login page's params
    GET|DELETE /api/whiteLabel/currentLoginWhiteLabelParams[?customerId]
    GET        /api/noauth/whiteLabel/loginWhiteLabelParams              by the request's host name
    POST       /api/whiteLabel/previewWhiteLabelParams                   merged with the parents, not saved
    GET        /api/whiteLabel/isWhiteLabelingAllowed | isCustomerWhiteLabelingAllowed   true/false
    GET|POST   /api/whiteLabel/mailTemplates[?systemByDefault]
    GET        /api/noauth/whiteLabel/loginLogo|loginFavicon/{type}/{key}   an image a login page shows
    GET        /api/noauth/whiteLabel/customCss      (this server's) the caller's customCss as text/css
"""

import hashlib

from django.core.exceptions import DisallowedHost
from django.http import Http404, HttpResponse
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from branding import levels, whitelabel
from branding.choices import WhiteLabelingKind as Kind
from branding.css import sanitize
from branding.models import WhiteLabeling
from dashboards.api.resources import download
from dashboards.models import Resource
from tbproject.api.params import bool_param
from tbproject.api.permissions import RoleChecked
from tenants.choices import Authority

__all__ = ["ParamsView", "CurrentView", "LoginSaveView", "CurrentLoginView", "LoginByHostView", "PreviewView",
           "AllowedView", "CustomerAllowedView", "MailTemplatesView", "LoginImageView", "CustomCssView",
           "request_host"]


class _Base(APIView):
    permission_classes = [IsAuthenticated, RoleChecked]


def _body(request):
    data = request.data
    if not isinstance(data, dict):
        raise ValidationError("Request body must be a JSON object")
    return data


def request_host(request) -> str:
    try:
        return request.get_host()
    except DisallowedHost:
        return ""


class ParamsView(_Base):
    def get(self, request):
        return Response(whitelabel.merged(levels.user_owner(request.user), Kind.GENERAL))

    def post(self, request):
        owner = levels.owner_of(request)
        levels.check_write(request, owner)
        return Response(whitelabel.save(owner, Kind.GENERAL, _body(request)))


class CurrentView(_Base):
    kind = Kind.GENERAL

    def get(self, request):
        levels.check_read(request)
        return Response(whitelabel.current(levels.owner_of(request), self.kind))

    def delete(self, request):
        owner = levels.owner_of(request)
        levels.check_write(request, owner, allowed_check=False)
        whitelabel.delete(owner, self.kind)
        return Response(status=200)


class CurrentLoginView(CurrentView):
    kind = Kind.LOGIN


class LoginSaveView(_Base):
    def post(self, request):
        owner = levels.owner_of(request)
        levels.check_write(request, owner)
        return Response(whitelabel.save(owner, Kind.LOGIN, _body(request), request_host(request)))


class LoginByHostView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    def get(self, request):
        return Response(whitelabel.for_host(request_host(request)))


class PreviewView(_Base):
    def post(self, request):
        owner = levels.owner_of(request)
        levels.check_write(request, owner)
        return Response(whitelabel.preview(owner, _body(request)))


class AllowedView(_Base):
    """Whether the caller's own level may be white labeled by it (tenant administrators, customer users)."""

    def get(self, request):
        if request.user.authority == Authority.SYS_ADMIN:
            raise PermissionDenied(levels.NO_PERMISSION)
        owner = levels.user_owner(request.user)
        try:
            levels.check_write(request, owner)
        except PermissionDenied:
            return Response(False)
        return Response(True)


class CustomerAllowedView(_Base):
    def get(self, request):
        if request.user.authority != Authority.TENANT_ADMIN:
            raise PermissionDenied(levels.NO_PERMISSION)
        return Response(levels.customer_white_labeling_allowed(request.user.tenant_id))


class MailTemplatesView(_Base):
    def _owner(self, request):
        if request.user.authority == Authority.CUSTOMER_USER:
            raise PermissionDenied(levels.NO_PERMISSION)
        return levels.user_owner(request.user)

    def get(self, request):
        owner = self._owner(request)
        levels.check_read(request)
        return Response(whitelabel.mail_templates(owner, bool_param(request.query_params, "systemByDefault", False)))

    def post(self, request):
        owner = self._owner(request)
        levels.check_write(request, owner)
        return Response(whitelabel.save_mail_templates(owner, request.data))


class LoginImageView(APIView):
    """An image without a login, only while a reachable login page (the system's, or one with a domain name
    whose owner may still white label) links it as its logo (``field`` logoImageUrl) or favicon: nothing else
    of the images leaks. The rows are found in SQL by the exact link forms, never by reading every page."""

    permission_classes = [AllowAny]
    authentication_classes = []
    field = "logoImageUrl"

    def get(self, request, image_type, key):
        if image_type not in ("system", "tenant"):
            raise Http404("Requested item wasn't found!")
        links = [f"tb-image;/api/images/{image_type}/{key}", f"/api/images/{image_type}/{key}"]
        lookup = "settings__logoImageUrl__in" if self.field == "logoImageUrl" else "settings__favicon__url__in"
        rows = WhiteLabeling.objects.filter(kind=Kind.LOGIN, **{lookup: links}).exclude(
            tenant_id__isnull=False, domain_name="")
        if image_type == "tenant":
            rows = rows.filter(tenant_id__isnull=False)
        for row in rows.only("tenant_id", "customer_id", "domain_name")[:20]:
            if not levels.white_labeling_allowed(whitelabel.owner_of_row(row)):
                continue
            tenant_id = row.tenant_id if image_type == "tenant" else None
            image = Resource.objects.filter(resource_type="IMAGE", resource_key=key, tenant_id=tenant_id).first()
            if image is not None:
                return download(request, image, public=True)
        raise Http404("Requested item wasn't found!")


class CustomCssView(APIView):
    """The customCss the caller's pages apply (a signed-in user's merged params, else the system's login page's:
    the only page without a login here is the system administrator's door), sanitised (branding/css.py: nothing
    fetched from elsewhere) and served as ``text/css`` only, so that it never runs as a page or a script."""

    permission_classes = [AllowAny]

    def get(self, request):
        user = request.user
        if user is not None and user.is_authenticated:
            css = whitelabel.merged(levels.user_owner(user), Kind.GENERAL).get("customCss")
        else:
            css = whitelabel.merged(levels.SYSTEM, Kind.LOGIN).get("customCss")
        body = sanitize(css).encode()
        etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
        if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
            response = HttpResponse(status=304)
        else:
            response = HttpResponse(body, content_type="text/css; charset=utf-8")
        response["ETag"] = etag
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        response["Cache-Control"] = "private, no-cache"
        response["Vary"] = "Cookie"
        return response
