"""JWT access and refresh tokens shaped like ThingsBoard's (claims, lifetimes, header).

Lifetimes, issuer and signing key are the system administrator's JWT settings (tenants/system/jwt_settings.py:
the stored ones, else the JWT_* settings); a new signing key outdates every token signed before it."""

import time
import uuid

import jwt

from tenants.choices import NULL_UUID
from tenants.system import jwt_settings

__all__ = ["issue_pair", "issue_limited", "decode_access", "decode_refresh", "outdated", "signing_key", "TokenExpired",
           "TokenInvalid", "TokenLimited", "LIMITED_SCOPES"]

_ALGORITHM = "HS512"
_REFRESH_SCOPE = "REFRESH_TOKEN"
#: the scopes of two-factor authentication's tokens (tenants/two_factor/): they reach only the views naming them
LIMITED_SCOPES = ("PRE_VERIFICATION_TOKEN", "MFA_CONFIGURATION_TOKEN")


class TokenInvalid(Exception):
    pass


class TokenExpired(TokenInvalid):
    pass


class TokenLimited(TokenInvalid):
    """A valid two-factor token (its ``claims`` and ``scope``): refused wherever its scope is not asked for."""

    def __init__(self, claims: dict):
        super().__init__("Invalid JWT token: a two-factor authentication token reaches only the 2FA endpoints")
        self.claims, self.scope = claims, claims["scopes"][0]


def _encode(claims: dict, lifetime: int, config: jwt_settings.Jwt) -> str:
    now = int(time.time())
    claims = {**claims, "iss": config.issuer, "iat": now, "exp": now + lifetime}
    return jwt.encode(claims, config.signing_key, algorithm=_ALGORITHM)


def issue_pair(user) -> dict:
    """Return {"token", "refreshToken", "scope"} for a user, as /api/auth/login answers."""
    config = jwt_settings.current()
    access = _encode(
        {
            "sub": user.email,
            "userId": str(user.id),
            "scopes": [user.authority],
            "firstName": user.first_name,
            "lastName": user.last_name,
            "enabled": user.is_active,
            "cc": user.credentials_changed,
            "isPublic": False,
            "tenantId": str(user.tenant_id or NULL_UUID),
            "customerId": str(user.customer_id or NULL_UUID),
        },
        config.access_lifetime,
        config,
    )
    refresh = _encode(
        {
            "sub": user.email,
            "userId": str(user.id),
            "scopes": [_REFRESH_SCOPE],
            "cc": user.credentials_changed,
            "isPublic": False,
            "jti": str(uuid.uuid4()),
        },
        config.refresh_lifetime,
        config,
    )
    return {"token": access, "refreshToken": refresh, "scope": None}


def issue_limited(user, scope: str, lifetime: int) -> dict:
    """ThingsBoard's answer to a login that needs a second factor: a token of ``scope`` (one of LIMITED_SCOPES)
    valid ``lifetime`` seconds, no refresh token: ``refreshToken`` is "" where ThingsBoard sends null, which its
    generated client's LoginResponse refuses (a login through that client would fail before the second step)."""
    config = jwt_settings.current()
    token = _encode({"sub": user.email, "userId": str(user.id), "scopes": [scope], "enabled": user.is_active,
                     "cc": user.credentials_changed, "isPublic": False, "tenantId": str(user.tenant_id or NULL_UUID),
                     "customerId": str(user.customer_id or NULL_UUID)}, lifetime, config)
    return {"token": token, "refreshToken": "", "scope": scope}


def signing_key() -> bytes:
    """The key tokens are signed and checked with now (a cache of checked tokens keys on it)."""
    return jwt_settings.current().signing_key


def _decode(token: str) -> dict:
    config = jwt_settings.current()
    try:
        return jwt.decode(
            token,
            config.signing_key,
            algorithms=[_ALGORITHM],  # the issuer is set on issue, not required here: a new one logs no one out
            options={"require": ["exp", "iat", "sub", "scopes", "userId"]},
        )
    except jwt.ExpiredSignatureError:
        raise TokenExpired("Token has expired") from None
    except jwt.PyJWTError as exc:
        raise TokenInvalid(f"Invalid JWT token: {exc}") from None


def decode_access(token: str) -> dict:
    claims = _decode(token)
    if _REFRESH_SCOPE in claims["scopes"]:
        raise TokenInvalid("Invalid JWT token: a refresh token cannot authorize requests")
    if any(scope in LIMITED_SCOPES for scope in claims["scopes"]):
        raise TokenLimited(claims)
    return claims


def decode_refresh(token: str) -> dict:
    claims = _decode(token)
    if claims["scopes"] != [_REFRESH_SCOPE]:
        raise TokenInvalid("Invalid refresh token")
    return claims


def outdated(user, credentials) -> bool:
    """Whether a token's ``cc`` claim (the user's ``credentials_changed`` when it was issued) predates
    the user's last password change or disable: such a token is refused as expired, as ThingsBoard
    refuses outdated tokens. A token without the claim counts as issued before any change."""
    try:
        issued = int(credentials or 0)
    except (TypeError, ValueError):
        issued = 0
    return (getattr(user, "credentials_changed", 0) or 0) > issued
