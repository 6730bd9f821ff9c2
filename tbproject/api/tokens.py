"""JWT access and refresh tokens shaped like ThingsBoard's (claims, lifetimes, header)."""

import time
import uuid

import jwt
from django.conf import settings

from tenants.choices import NULL_UUID

__all__ = ["issue_pair", "decode_access", "decode_refresh", "outdated", "TokenExpired", "TokenInvalid"]

_ALGORITHM = "HS512"
_REFRESH_SCOPE = "REFRESH_TOKEN"


class TokenInvalid(Exception):
    pass


class TokenExpired(TokenInvalid):
    pass


def _encode(claims: dict, lifetime: int) -> str:
    now = int(time.time())
    claims = {**claims, "iss": settings.JWT_ISSUER, "iat": now, "exp": now + lifetime}
    return jwt.encode(claims, settings.JWT_SIGNING_KEY, algorithm=_ALGORITHM)


def issue_pair(user) -> dict:
    """Return {"token", "refreshToken", "scope"} for a user, as /api/auth/login answers."""
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
        settings.JWT_TOKEN_EXPIRATION_TIME,
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
        settings.JWT_REFRESH_TOKEN_EXPIRATION_TIME,
    )
    return {"token": access, "refreshToken": refresh, "scope": None}


def _decode(token: str) -> dict:
    try:
        return jwt.decode(
            token,
            settings.JWT_SIGNING_KEY,
            algorithms=[_ALGORITHM],
            issuer=settings.JWT_ISSUER,
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
