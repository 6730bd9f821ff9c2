"""DRF authentication from ThingsBoard's `X-Authorization: Bearer <jwt>` header, or a user's API key
(`X-Authorization: ApiKey <value>`, tenants/system/api_keys.py)."""

from django.contrib.auth import get_user_model
from rest_framework import authentication, exceptions

from tbproject.api.tokens import TokenExpired, TokenInvalid, TokenLimited, decode_access, outdated
from tenants.system import api_keys

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
        if len(parts) == 2 and parts[0] == "ApiKey":
            found = api_keys.authenticate(parts[1])
            if isinstance(found, str):
                raise exceptions.AuthenticationFailed(found)
            return found[0], {"apiKeyId": str(found[1].pk)}
        if len(parts) != 2 or parts[0] != self.keyword:
            raise exceptions.AuthenticationFailed("Authorization header must be 'Bearer <token>'")
        try:
            claims = decode_access(parts[1])
        except TokenExpired:
            raise TokenExpiredError() from None
        except TokenLimited as exc:  # a 2FA token (tenants/two_factor/): only views listing its scope take it
            view = (getattr(request, "parser_context", None) or {}).get("view")
            if exc.scope not in getattr(view, "token_scopes", ()):
                raise exceptions.PermissionDenied("You don't have permission to perform this operation!") from None
            claims = exc.claims
        except TokenInvalid as exc:
            raise exceptions.AuthenticationFailed(str(exc)) from None
        user = get_user_model().objects.filter(id=claims["userId"]).defer("password_history").first()
        if user is None or not user.is_active:
            raise exceptions.AuthenticationFailed("User not found or disabled")
        if outdated(user, claims.get("cc")):  # the password changed since
            raise TokenExpiredError()
        return user, claims

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (not 403) to unauthenticated requests, as ThingsBoard does.
        return self.keyword
