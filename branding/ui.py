"""This server's own pages under white labeling: django-unfold calls these (tbproject/ui/navigation.py names
them as dotted paths) for the admin and its login page. A signed-in user gets its merged params, anyone else
the login page's for the request's host. The title is text (templates escape it); images are links only in
the safe forms branding/params.py lets in; customCss is never inlined, only linked as a text/css file.
"""

from django.urls import reverse

from branding import levels, params, whitelabel
from branding.api.white_labeling import request_host
from branding.choices import WhiteLabelingKind as Kind

__all__ = ["PRODUCT_NAME", "current_params", "site_title", "site_header", "site_logo", "site_favicons",
           "custom_css_url"]

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
        else:
            found = whitelabel.for_host(request_host(request))
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


def custom_css_url(request) -> str:
    return reverse("noauth-white-label-css")
