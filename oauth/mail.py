"""The outgoing mail server's OAuth 2.0 consent (ThingsBoard's mail OAuth2: Office 365, Gmail, ...).

The system administrator's ``mail`` settings document (tenants/system/admin_settings.py) holds
``enableOauth2``, ``clientId``, ``clientSecret`` (write-only), ``authUri``, ``tokenUri``, ``scope`` and
``redirectUri`` (this server's ``/api/admin/mail/oauth2/code``). ``authorization_url`` gives the consent
page's URL with a fresh ``state``, kept server-side (the cache) for three minutes bound to the system
administrator who asked, and in a short-lived cookie of the browser; the provider sends the browser back to
``finish`` with a code and that state, which is spent (once) and must name a system administrator still
active; its code is then which is exchanged for the refresh token stored as ``refreshToken`` (write-only)
with ``tokenGenerated: true``. The client side is Authlib's."""

import hmac
import logging

from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from django.contrib.auth import get_user_model
from django.core.cache import cache
from requests import RequestException
from rest_framework.exceptions import ValidationError

from tenants.choices import Authority
from tenants.system import store

__all__ = ["PROCESSING_URL", "STATE_COOKIE", "PREV_URI_COOKIE", "authorization_url", "finish"]

PROCESSING_URL = "/api/admin/mail/oauth2/code"
STATE_COOKIE, PREV_URI_COOKIE = "mail_oauth2_state", "mail_oauth2_prev_uri"
COOKIE_TTL_S = 180
TIMEOUT_S = 10
_STATE_KEY = "oauth:mail-state:"
INVALID_STATE = "Refresh token was not generated, invalid state param"

log = logging.getLogger(__name__)


def _settings() -> dict:
    return store.read("mail") or {}


def _required(doc: dict, key: str, what: str):
    value = doc.get(key)
    if not value:
        raise ValidationError(f"No {what} was configured")
    return value


def authorization_url(user) -> tuple[str, str]:
    """(the provider's consent URL, the state the browser must bring back); ``user`` the system administrator
    the state is bound to."""
    doc = _settings()
    client_id = _required(doc, "clientId", "clientId")
    auth_uri = _required(doc, "authUri", "authorization uri")
    redirect_uri = _required(doc, "redirectUri", "Redirect uri")
    scope = _required(doc, "scope", "scope")
    scope = " ".join(scope) if isinstance(scope, list) else str(scope)
    state = generate_token(32)
    url, _ = OAuth2Session(client_id, scope=scope, redirect_uri=redirect_uri).create_authorization_url(
        auth_uri, state=state)
    cache.set(_STATE_KEY + state, str(user.pk), COOKIE_TTL_S)
    return url, state


def _spend_state(state: str) -> bool:
    """Whether ``state`` was issued to a still active system administrator; it can be spent only once."""
    key = _STATE_KEY + state[:128]
    user_id = cache.get(key)
    if user_id is None or not cache.delete(key):
        return False
    return get_user_model().objects.filter(pk=user_id, authority=Authority.SYS_ADMIN, is_active=True).exists()


def finish(code: str, state: str, cookie_state: str) -> None:
    """Trade the provider's code for a refresh token and keep it in the mail settings."""
    if not state or not cookie_state or not hmac.compare_digest(state, cookie_state) or not _spend_state(state):
        raise ValidationError(INVALID_STATE)
    if not code:
        raise ValidationError("Required request parameter 'code' is not present")
    doc = _settings()
    session = OAuth2Session(_required(doc, "clientId", "clientId"), doc.get("clientSecret") or "",
                            redirect_uri=_required(doc, "redirectUri", "Redirect uri"),
                            token_endpoint_auth_method="client_secret_post")
    try:
        token = session.fetch_token(_required(doc, "tokenUri", "token uri"), code=code, timeout=TIMEOUT_S)
    except OAuthError as e:
        raise ValidationError(f"Refresh token was not generated: [{e.error}] {e.description or ''}".strip()) from None
    except (RequestException, ValueError) as e:  # the detail (internal addresses) goes to the log only
        log.warning("Mail OAuth2 token request failed: %s", e)
        raise ValidationError("Refresh token was not generated: the token request failed") from None
    if not token.get("refresh_token"):
        raise ValidationError("Refresh token was not generated: the provider answered no refresh_token "
                              "(ask for offline access in the scope)")
    store.write("mail", {**doc, "refreshToken": token["refresh_token"], "tokenGenerated": True})
