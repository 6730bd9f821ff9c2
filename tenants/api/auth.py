"""ThingsBoard's auth endpoints: /api/auth/login, /api/auth/token, /api/auth/user, /api/auth/logout."""

from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed, Throttled, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from tbproject.api.authentication import TokenExpiredError
from tbproject.api.exceptions import tb_error
from tbproject.api.tokens import TokenExpired, TokenInvalid, decode_refresh, issue_pair, outdated
from tenants import accounts, lockout
from tenants.api.serializers import UserSerializer
from tenants.system import security
from tenants.two_factor import verification

#: ThingsBoard's error codes of a login refused for its password: expired (with a reset token), or breaking the policy
CREDENTIALS_EXPIRED, PASSWORD_VIOLATION = 15, 45

__all__ = ["LoginView", "RefreshView", "CurrentUserView", "LogoutView"]


def _body(request) -> dict:
    if not isinstance(request.data, dict):
        raise ValidationError("Request body must be a JSON object")
    return request.data


class LoginRequest(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(trim_whitespace=False)


class _PublicView(APIView):
    """No authentication needed; failures still answer 401 (DRF would send 403 without a header)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get_authenticate_header(self, request) -> str:
        return "Bearer"


class LoginView(_PublicView):

    def post(self, request):
        body = LoginRequest(data=_body(request))
        body.is_valid(raise_exception=True)
        user = authenticate(request, username=body.validated_data["username"].lower(),
                            password=body.validated_data["password"])
        if user is None:  # authenticate() signalled it; ThingsBoard's texts for a lockout and a disabled user
            wait = lockout.retry_after(request)
            if wait:  # the client's failed logins are past their limit: 429, errorCode 33, Retry-After
                raise Throttled(wait=wait, detail=lockout.TOO_MANY)
            raise AuthenticationFailed(lockout.refusal(request) or "Invalid username or password")
        problem = security.login_problem(user, body.validated_data["password"])
        if problem == security.PASSWORD_EXPIRED:  # the client sets a new password with the reset token
            return Response({**tb_error(401, problem, CREDENTIALS_EXPIRED), "resetToken": accounts.reset_token(user)},
                            status=401)
        if problem:
            return Response(tb_error(401, problem, PASSWORD_VIOLATION), status=401)
        limited = verification.login_answer(user)
        if limited is not None:  # 2FA: a token that reaches only the 2FA endpoints (tenants/two_factor/)
            return Response(limited)
        user_logged_in.send(sender=user.__class__, request=request, user=user)  # as Django's login() does
        return Response(issue_pair(user))


class RefreshView(_PublicView):

    def post(self, request):
        token = _body(request).get("refreshToken")
        if not isinstance(token, str) or not token:
            raise ValidationError("refreshToken is required")
        try:
            claims = decode_refresh(token)
        except TokenExpired:
            raise TokenExpiredError() from None
        except TokenInvalid as exc:
            raise AuthenticationFailed(str(exc)) from None
        user = get_user_model().objects.filter(id=claims["userId"], is_active=True).first()
        if user is None:
            raise AuthenticationFailed("User not found or disabled")
        if outdated(user, claims.get("cc")):  # the password changed since: log in again
            raise TokenExpiredError()
        return Response(issue_pair(user))


class CurrentUserView(APIView):
    def get(self, request):
        return Response(UserSerializer(request.user).data)


class LogoutView(APIView):
    def post(self, request):
        # Tokens are stateless; the client drops them. ThingsBoard answers 200 with no body.
        user_logged_out.send(sender=request.user.__class__, request=request, user=request.user)
        return Response(status=200)
