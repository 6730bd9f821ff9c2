"""The browser's authorization-code login (ThingsBoard's /oauth2/authorization/{id} and /login/oauth2/code/).

``start``: the client must be offered at the request's host (a domain naming it, oauth/services.py); the
browser goes to the provider's authorizationUri with a fresh ``state`` and a PKCE S256 challenge (sent for
every client, public or not: providers ignore or check it, and it binds the code to this browser), and the
request is remembered in a signed, short-lived, HttpOnly cookie, as ThingsBoard keeps it in a cookie.
``finish``: the provider's ``state`` must be the remembered one; the code is exchanged at accessTokenUri
(client_secret_basic, client_secret_post or none, as ``clientAuthenticationMethod`` says), the user is read
from userInfoUri and mapped (oauth/mapper.py); the browser goes to ``{base}/?accessToken=..&refreshToken=..``,
or on any failure to ``{base}/login?loginError=<text>``. The OAuth 2.0 client side is Authlib's."""

import hmac
import logging
from urllib.parse import quote

from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from django.contrib.auth.signals import user_logged_in
from django.core import signing
from requests import RequestException

from oauth import mapper, services
from oauth.models import OAuth2Client
from tbproject.api.tokens import issue_pair
from tenants.system import admin_settings

__all__ = ["LOGIN_PROCESSING_URL", "COOKIE", "start", "finish", "base_url", "error_url"]

log = logging.getLogger(__name__)

LOGIN_PROCESSING_URL = "/login/oauth2/code/"
COOKIE = "oauth2_auth_request"
COOKIE_TTL_S = 180
_SALT = "oauth.flow"
_AUTH_METHODS = {"BASIC": "client_secret_basic", "POST": "client_secret_post", "NONE": "none"}
TIMEOUT_S = 10


def base_url(request) -> str:
    """The configured base URL (general settings / PUBLIC_BASE_URL), else the request's own scheme and host."""
    return admin_settings.base_url() or f"{request.scheme}://{request.get_host()}"


def error_url(request, message: str) -> str:
    return f"{base_url(request)}/login?loginError={quote(message, safe='')}"


def _session(client: OAuth2Client, redirect_uri: str) -> OAuth2Session:
    return OAuth2Session(client.client_id, client.client_secret, scope=" ".join(client.scope),
                         redirect_uri=redirect_uri, code_challenge_method="S256",
                         token_endpoint_auth_method=_AUTH_METHODS.get(client.client_authentication_method,
                                                                      "client_secret_post"))


def start(request, client_pk) -> tuple[str, str | None]:
    """(where the browser goes, the cookie to set or None)."""
    client = OAuth2Client.objects.filter(pk=client_pk).first()
    host = request.get_host()
    if client is None or client not in services.login_clients(host):
        return error_url(request, f"OAuth2 client is not available at {host}"), None
    redirect_uri = base_url(request) + LOGIN_PROCESSING_URL
    state, verifier = generate_token(32), generate_token(48)
    url, _ = _session(client, redirect_uri).create_authorization_url(client.authorization_uri, state=state,
                                                                      code_verifier=verifier)
    cookie = signing.dumps({"s": state, "v": verifier, "c": str(client.pk), "r": redirect_uri}, salt=_SALT)
    return url, cookie


def _remembered(request) -> dict:
    try:
        data = signing.loads(request.COOKIES.get(COOKIE, ""), salt=_SALT, max_age=COOKIE_TTL_S)
    except signing.BadSignature:
        data = None
    state = request.GET.get("state") or ""
    if not isinstance(data, dict) or not hmac.compare_digest(str(data.get("s", "")), state):
        raise mapper.LoginError("[authorization_request_not_found] The login request is unknown or expired, or "
                                "its state does not match: start the login again")
    return data


def _provider_user(client: OAuth2Client, remembered: dict, code: str) -> tuple[dict, str]:
    session = _session(client, remembered["r"])
    try:
        token = session.fetch_token(client.access_token_uri, code=code, code_verifier=remembered["v"],
                                    timeout=TIMEOUT_S)
    except OAuthError as e:
        raise mapper.LoginError(f"[{e.error}] {e.description or 'the provider refused the authorization code'}"
                                ) from None
    except (RequestException, ValueError) as e:  # the detail (internal addresses) goes to the log only
        log.warning("OAuth2 client %s: the access token request failed: %s", client.pk, e)
        raise mapper.LoginError("[invalid_token_response] Could not get the access token") from None
    if not client.user_info_uri:
        return {}, token.get("access_token", "")
    try:
        answer = session.get(client.user_info_uri, timeout=TIMEOUT_S)
        answer.raise_for_status()
        attributes = answer.json()
    except (RequestException, ValueError) as e:
        log.warning("OAuth2 client %s: the user info request failed: %s", client.pk, e)
        raise mapper.LoginError("[invalid_user_info_response] Could not read the user info") from None
    if not isinstance(attributes, dict):
        raise mapper.LoginError("[invalid_user_info_response] The user info is not a JSON object")
    return attributes, token.get("access_token", "")


def finish(request) -> str:
    """Where the browser goes after the provider sent it back: the tokens, or the login error."""
    try:
        remembered = _remembered(request)
        if request.GET.get("error"):
            raise mapper.LoginError(f"[{request.GET['error'][:64]}] {request.GET.get('error_description', '')[:256]}")
        client = OAuth2Client.objects.filter(pk=remembered["c"]).first()
        if client is None:
            raise mapper.LoginError("[authorization_request_not_found] The OAuth2 client no longer exists")
        attributes, access_token = _provider_user(client, remembered, request.GET.get("code") or "")
        user = mapper.user_for(client, mapper.map_attributes(client, attributes, access_token))
    except mapper.LoginError as e:
        log.info("OAuth2 login refused: %s", e)
        return error_url(request, str(e))
    user_logged_in.send(sender=user.__class__, request=request, user=user)  # as the password login does
    pair = issue_pair(user)
    return f"{base_url(request)}/?accessToken={pair['token']}&refreshToken={pair['refreshToken']}"
