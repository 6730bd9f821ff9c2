"""Two-factor authentication at ThingsBoard's paths (TwoFactorAuthConfigController, TwoFactorAuthController);
the rules are in tenants/two_factor/:

    GET|POST /api/2fa/settings                          platform settings (system administrator)
    GET      /api/2fa/providers                         provider types the platform enables
    POST     /api/2fa/account/config/generate?providerType=
    POST     /api/2fa/account/config/submit             EMAIL: mails a code
    POST     /api/2fa/account/config?verificationCode=  verify and save
    PUT|DELETE /api/2fa/account/config?providerType=    useByDefault | remove
    GET      /api/2fa/account/settings
    POST     /api/auth/2fa/verification/send?providerType=                   PRE_VERIFICATION_TOKEN only
    POST     /api/auth/2fa/verification/check?providerType=&verificationCode=  -> the token pair
    GET      /api/auth/2fa/providers                                          PRE_VERIFICATION_TOKEN only
    POST     /api/auth/2fa/login                        MFA_CONFIGURATION_TOKEN only: the pair once 2FA is set up

A two-factor token is refused (403) by every other view (tbproject/api/authentication.py, ``token_scopes``).
"""

from django.contrib.auth.signals import user_logged_in
from django.http import HttpResponse
from rest_framework import exceptions
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from tbproject.api.exceptions import ServerError
from tbproject.api.permissions import IsSysAdmin
from tbproject.api.tokens import issue_pair
from tenants.system.store import SettingsError
from tenants.two_factor import TwoFaError, account, platform, verification
from tenants.two_factor.verification import MFA_CONFIGURATION, PRE_VERIFICATION

__all__ = ["PlatformSettingsView", "ProviderTypesView", "GenerateView", "SubmitView", "AccountConfigView",
           "AccountSettingsView", "SendCodeView", "CheckCodeView", "ProviderInfosView", "ConfiguredLoginView"]

_ERRORS = {400: exceptions.ValidationError, 401: exceptions.AuthenticationFailed, 403: exceptions.PermissionDenied,
           404: exceptions.NotFound, 500: ServerError}


class HasTokenScope(BasePermission):
    """Only a two-factor token of one of the view's ``token_scopes`` (a normal token or an API key: 403)."""

    message = "You don't have permission to perform this operation!"

    def has_permission(self, request, view) -> bool:
        scopes = request.auth.get("scopes") if isinstance(request.auth, dict) else None
        return bool(scopes) and any(scope in view.token_scopes for scope in scopes)


class _View(APIView):
    permission_classes = [IsAuthenticated]

    def run(self, call, *args):
        try:
            return call(*args)
        except TwoFaError as e:
            if e.status == 429:
                raise exceptions.Throttled(wait=e.retry_after, detail=str(e)) from None
            raise _ERRORS[e.status](str(e)) from None
        except SettingsError as e:
            raise exceptions.ValidationError(str(e)) from None


class PlatformSettingsView(_View):
    permission_classes = [IsAuthenticated, IsSysAdmin]

    def get(self, request):
        doc = platform.current()
        if doc is None:  # before 2FA is configured: JSON null (an empty body, ThingsBoard's, fails its client)
            return HttpResponse(b"null", content_type="application/json")
        return Response(doc)

    def post(self, request):
        return Response(self.run(platform.save, request.data))


class _AccountView(_View):
    """Any user, for itself; also a user logging in with a MFA_CONFIGURATION_TOKEN (enforced 2FA)."""

    token_scopes = (MFA_CONFIGURATION,)


class ProviderTypesView(_AccountView):
    def get(self, request):
        return Response(platform.available_types())


class GenerateView(_AccountView):
    def post(self, request):
        return Response(self.run(account.generate, request.user, request.query_params.get("providerType")))


class SubmitView(_AccountView):
    def post(self, request):
        self.run(account.submit, request.user, request.data)
        return Response(status=200)


class AccountConfigView(_AccountView):
    def post(self, request):
        code = request.query_params.get("verificationCode")
        return Response(self.run(account.verify_and_save, request.user, request.data, code))

    def put(self, request):
        return Response(self.run(account.update, request.user, request.query_params.get("providerType"),
                                 request.data))

    def delete(self, request):
        return Response(self.run(account.delete, request.user, request.query_params.get("providerType")))


class AccountSettingsView(_AccountView):
    def get(self, request):
        return Response(self.run(account.answer, request.user))


class _VerificationView(_View):
    permission_classes = [IsAuthenticated, HasTokenScope]
    token_scopes = (PRE_VERIFICATION,)


class SendCodeView(_VerificationView):
    def post(self, request):
        self.run(verification.send, request.user, request.query_params.get("providerType"))
        return Response(status=200)


class CheckCodeView(_VerificationView):
    def post(self, request):
        params = request.query_params
        self.run(verification.check, request.user, params.get("providerType"), params.get("verificationCode"))
        user_logged_in.send(sender=request.user.__class__, request=request, user=request.user)
        return Response(issue_pair(request.user))


class ProviderInfosView(_VerificationView):
    def get(self, request):
        return Response(verification.providers_info(request.user))


class ConfiguredLoginView(_View):
    permission_classes = [IsAuthenticated, HasTokenScope]
    token_scopes = (MFA_CONFIGURATION,)

    def post(self, request):
        if not verification.configured_for_login(request.user):
            raise exceptions.ValidationError("2FA is not configured")
        user_logged_in.send(sender=request.user.__class__, request=request, user=request.user)
        return Response(issue_pair(request.user))
