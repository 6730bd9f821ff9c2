"""This server's own pages under white labeling: django-unfold calls these (tbproject/ui/navigation.py names
them as dotted paths) for the admin and its login page. A signed-in user gets its merged params, anyone else
the system's login page params (the admin's login page is the system administrator's door: a tenant's login
white labeling never applies to it). The title is text (templates escape it); images are links only in
the safe forms branding/params.py lets in; customCss is never inlined, only linked as a text/css file
(sanitised: branding/css.py), after unfold's styles (templates/unfold/layouts/skeleton.html).
:class:`AdminCspMiddleware` gives every admin page a Content-Security-Policy that lets images, fonts, styles
and requests come from this server only.
"""

from django.urls import reverse

from branding import levels, params, whitelabel
from branding.choices import WhiteLabelingKind as Kind

__all__ = ["PRODUCT_NAME", "current_params", "site_title", "site_header", "site_logo", "site_favicons",
           "AdminCspMiddleware", "ADMIN_CSP"]

PRODUCT_NAME = "Open Integration Center"


def _signed_in(request) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


def current_params(request) -> dict:
    """The params that brand this request's page (computed once per request; {} when they cannot be read)."""
    cached = getattr(request, "_branding_params", None)
    if cached is not None:
        return cached
    try:
        if _signed_in(request):
            found = whitelabel.merged(levels.user_owner(request.user), Kind.GENERAL)
        else:  # the admin's login page is the system administrator's door: never a tenant's login page
            found = whitelabel.merged(levels.SYSTEM, Kind.LOGIN)
    except Exception:  # a page must render whatever the branding rows hold
        found = {}
    request._branding_params = found
    return found


def site_title(request) -> str:
    return current_params(request).get("appTitle") or PRODUCT_NAME


def site_header(request) -> str:
    return site_title(request)


def _image_url(request, value, login_kind: str) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    link = params.image_link(value)
    if link is None:
        return value if value.lower().startswith(("http://", "https://", "data:image/")) else None
    scope, key = link
    if _signed_in(request):
        return f"/api/images/{scope}/{key}"
    return reverse(f"noauth-white-label-{login_kind}", kwargs={"image_type": scope, "key": key})


def site_logo(request) -> str | None:
    return _image_url(request, current_params(request).get("logoImageUrl"), "logo")


def site_favicons(request) -> list[dict]:
    favicon = current_params(request).get("favicon") or {}
    url = _image_url(request, favicon.get("url") if isinstance(favicon, dict) else None, "favicon")
    # href as a callable: unfold imports any dotted string it is given, and this one is user data
    return [{"rel": "icon", "href": lambda _request: url}] if url else []


#: what the admin's pages may load: nothing from elsewhere (a custom CSS rule cannot send a page's input values
#: out through url()); scripts are left as unfold needs them (inline Alpine.js)
ADMIN_CSP = "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; style-src 'self' 'unsafe-inline'"


class AdminCspMiddleware:
    """Adds :data:`ADMIN_CSP` to the answers under /admin/ that set no policy of their own."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith("/admin/") and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = ADMIN_CSP
        return response
