"""ThingsBoard's JWT settings (``GET/POST /api/admin/jwtSettings``): the access and refresh tokens' lifetimes
(seconds), their issuer and the HMAC key (base64, at least 512 bits) they are signed with
(tbproject/api/tokens.py). Without a stored document the ``JWT_*`` settings are used; a stored value wins.

A new signing key outdates every token signed with the old one (they answer 401), as in ThingsBoard;
the save answers a fresh token pair for the administrator who made it. The key is write-only here: the
answer leaves ``tokenSigningKey`` null (ThingsBoard shows it to the system administrator), and a save
that leaves it out (or null) keeps the current one.
"""

import base64
import binascii
import secrets

from django.conf import settings

from tenants.system import store
from tenants.system.store import SettingsError

__all__ = ["KEY", "Jwt", "current", "answer", "save", "new_signing_key"]

KEY = "jwt"
MIN_KEY_BITS = 512
MAX_LIFETIME = 10 * 365 * 86_400  # ten years, in seconds


class Jwt:
    """The effective JWT settings."""

    __slots__ = ("access_lifetime", "refresh_lifetime", "issuer", "signing_key")

    def __init__(self, access_lifetime: int, refresh_lifetime: int, issuer: str, signing_key: bytes):
        self.access_lifetime, self.refresh_lifetime = access_lifetime, refresh_lifetime
        self.issuer, self.signing_key = issuer, signing_key


def _decode_key(text) -> bytes:
    if not isinstance(text, str) or not text.strip():
        raise SettingsError("JWT token signing key should be specified!")
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise SettingsError("JWT token signing key should be a valid Base64 encoded string!") from None
    if len(key) * 8 < MIN_KEY_BITS:
        raise SettingsError("JWT token signing key should be a Base64 encoded string representing at least "
                            f"{MIN_KEY_BITS} bits of data!")
    return key


def current() -> Jwt:
    stored = store.read(KEY, copy=False) or {}
    key = stored.get("tokenSigningKey")
    return Jwt(stored.get("tokenExpirationTime") or settings.JWT_TOKEN_EXPIRATION_TIME,
               stored.get("refreshTokenExpTime") or settings.JWT_REFRESH_TOKEN_EXPIRATION_TIME,
               stored.get("tokenIssuer") or settings.JWT_ISSUER,
               base64.b64decode(key) if key else settings.JWT_SIGNING_KEY.encode())


def answer() -> dict:
    jwt = current()
    return {"tokenExpirationTime": jwt.access_lifetime, "refreshTokenExpTime": jwt.refresh_lifetime,
            "tokenIssuer": jwt.issuer, "tokenSigningKey": None}


def save(data) -> dict:
    """Check and store the posted JWT settings; the answer as :func:`answer`'s."""
    data = store.checked_document(data, "JWT settings")
    issuer = data.get("tokenIssuer")
    if not isinstance(issuer, str) or not issuer.strip():
        raise SettingsError("JWT token issuer should be specified!")
    if len(issuer) > 255:
        raise SettingsError("JWT token issuer is longer than 255 characters")
    access = store.integer(data, "tokenExpirationTime", default=None, minimum=0, maximum=MAX_LIFETIME)
    refresh = store.integer(data, "refreshTokenExpTime", default=None, minimum=0, maximum=MAX_LIFETIME)
    if access is None or access < 60:
        raise SettingsError("JWT token expiration time should be at least 1 minute!")
    if refresh is None or refresh < 900:
        raise SettingsError("JWT refresh token expiration time should be at least 15 minutes!")
    if access >= refresh:
        raise SettingsError("JWT token expiration time should be less than JWT refresh token expiration time!")
    key = data.get("tokenSigningKey")
    if key is None:
        key = (store.read(KEY) or {}).get("tokenSigningKey")
    else:
        _decode_key(key)
        key = key.strip()
    doc = {"tokenExpirationTime": access, "refreshTokenExpTime": refresh, "tokenIssuer": issuer.strip()}
    if key:
        doc["tokenSigningKey"] = key
    store.write(KEY, doc)
    return answer()


def new_signing_key() -> str:
    """A fresh base64 signing key of 512 bits (what ThingsBoard's UI generates)."""
    return base64.b64encode(secrets.token_bytes(64)).decode()
