"""The browser's OAuth 2.0 login pages, outside /api/ as ThingsBoard serves them (oauth/flow.py)."""

from django.http import HttpResponseRedirect
from django.views.decorators.http import require_GET

from oauth import flow
from tbproject.api.ids import parse_uuid

__all__ = ["authorization", "login_code"]


@require_GET
def authorization(request, client_id):
    """GET /oauth2/authorization/{clientId}: off to the provider's login page."""
    try:
        pk = parse_uuid(client_id)
    except Exception:
        return HttpResponseRedirect(flow.error_url(request, "Invalid OAuth2 client id"))
    url, cookie = flow.start(request, pk)
    response = HttpResponseRedirect(url)
    if cookie:
        response.set_cookie(flow.COOKIE, cookie, max_age=flow.COOKIE_TTL_S, httponly=True, samesite="Lax",
                            secure=request.is_secure(), path="/")
    return response


@require_GET
def login_code(request):
    """GET /login/oauth2/code/?code&state: back from the provider; the login request's cookie is spent."""
    response = HttpResponseRedirect(flow.finish(request))
    response.delete_cookie(flow.COOKIE, path="/")
    return response
