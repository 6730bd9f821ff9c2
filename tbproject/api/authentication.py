"""DRF authentication from ThingsBoard's `X-Authorization: Bearer <jwt>` header."""

from django.contrib.auth import get_user_model
from rest_framework import authentication, exceptions

from tbproject.api.tokens import TokenExpired, TokenInvalid, decode_access, outdated

__all__ = ["JWTAuthentication", "TokenExpiredError"]


class TokenExpiredError(exceptions.AuthenticationFailed):
    default_detail = "Token has expired"
    default_code = "token_expired"


class JWTAuthentication(authentication.BaseAuthentication):
    """Reads X-Authorization (ThingsBoard) or Authorization (Swagger UI) bearer tokens."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = request.META.get("HTTP_X_AUTHORIZATION") or request.META.get("HTTP_AUTHORIZATION")
        if not header:
            return None
        parts = header.split()
        if len(parts) != 2 or parts[0] != self.keyword:
            raise exceptions.AuthenticationFailed("Authorization header must be 'Bearer <token>'")
        try:
            claims = decode_access(parts[1])
        except TokenExpired:
            raise TokenExpiredError() from None
        except TokenInvalid as exc:
            raise exceptions.AuthenticationFailed(str(exc)) from None
        user = get_user_model().objects.filter(id=claims["userId"]).first()
        if user is None or not user.is_active:
            raise exceptions.AuthenticationFailed("User not found or disabled")
        if outdated(user, claims.get("cc")):  # the password changed since
            raise TokenExpiredError()
        return user, claims

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (not 403) to unauthenticated requests, as ThingsBoard does.
        return self.keyword
