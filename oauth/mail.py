"""The outgoing mail server's OAuth 2.0 consent (ThingsBoard's mail OAuth2: Office 365, Gmail, ...).

The system administrator's ``mail`` settings document (tenants/system/admin_settings.py) holds
``enableOauth2``, ``clientId``, ``clientSecret`` (write-only), ``authUri``, ``tokenUri``, ``scope`` and
``redirectUri`` (this server's ``/api/admin/mail/oauth2/code``). ``authorization_url`` gives the consent
page's URL with a fresh ``state`` (kept in a short-lived cookie); the provider sends the browser back to
``finish`` with a code, which is exchanged for the refresh token stored as ``refreshToken`` (write-only)
with ``tokenGenerated: true``. The client side is Authlib's."""

import hmac

from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from requests import RequestException
from rest_framework.exceptions import ValidationError

from tenants.system import store

__all__ = ["PROCESSING_URL", "STATE_COOKIE", "PREV_URI_COOKIE", "authorization_url", "finish"]

PROCESSING_URL = "/api/admin/mail/oauth2/code"
STATE_COOKIE, PREV_URI_COOKIE = "mail_oauth2_state", "mail_oauth2_prev_uri"
COOKIE_TTL_S = 180
TIMEOUT_S = 10


def _settings() -> dict:
    return store.read("mail") or {}


def _required(doc: dict, key: str, what: str):
    value = doc.get(key)
    if not value:
        raise ValidationError(f"No {what} was configured")
    return value


def authorization_url() -> tuple[str, str]:
    """(the provider's consent URL, the state the browser must bring back)."""
    doc = _settings()
    client_id = _required(doc, "clientId", "clientId")
    auth_uri = _required(doc, "authUri", "authorization uri")
    redirect_uri = _required(doc, "redirectUri", "Redirect uri")
    scope = _required(doc, "scope", "scope")
    scope = " ".join(scope) if isinstance(scope, list) else str(scope)
    state = generate_token(32)
    url, _ = OAuth2Session(client_id, scope=scope, redirect_uri=redirect_uri).create_authorization_url(
        auth_uri, state=state)
    return url, state


def finish(code: str, state: str, cookie_state: str) -> None:
    """Trade the provider's code for a refresh token and keep it in the mail settings."""
    if not state or not cookie_state or not hmac.compare_digest(state, cookie_state):
        raise ValidationError("Refresh token was not generated, invalid state param")
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
    except (RequestException, ValueError) as e:
        raise ValidationError(f"Refresh token was not generated: {e}") from None
    if not token.get("refresh_token"):
        raise ValidationError("Refresh token was not generated: the provider answered no refresh_token "
                              "(ask for offline access in the scope)")
    store.write("mail", {**doc, "refreshToken": token["refresh_token"], "tokenGenerated": True})
