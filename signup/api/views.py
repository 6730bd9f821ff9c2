"""ThingsBoard PE's self-registration and sign-up endpoints; the rules are in signup/params.py and
signup/services.py:

    GET|POST|DELETE /api/selfRegistration/selfRegistrationParams        tenant administrator (WHITE_LABELING)
    GET  /api/noauth/selfRegistration/signUpSelfRegistrationParams      the sign-up form of the request's domain
    GET  /api/noauth/selfRegistration/privacyPolicy | termsOfUse        JSON strings
    POST /api/noauth/signup                                  SignUpRequest -> "SUCCESS" | "INACTIVE_USER_EXISTS"
    GET  /api/noauth/activateEmail?emailCode=                           303 to /signup/emailVerified; 409 if unknown
    POST /api/noauth/activateByEmailCode?emailCode=                     JwtPair
    POST /api/noauth/resendEmailActivation?email=
    GET  /api/noauth/login?pkgName=&platform=                           mobile apps: none here (404)
    POST /api/signup/acceptPrivacyPolicy | acceptTermsOfUse             a user JWT: a new JwtPair when newly accepted
    GET  /api/signup/privacyPolicyAccepted | termsOfUseAccepted         bool
"""

import json

from django.http import HttpResponse
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from signup import params, policies, services
from tbproject.api import role_hook
from tbproject.api.permissions import IsTenantAdmin
from tbproject.api.tokens import issue_pair
from tenants.accounts import NO_PERMISSION, NOT_FOUND, AccountError
from tenants.choices import Authority
from tenants.limits import mail as mail_limits
from tenants.two_factor import verification

__all__ = ["SelfRegistrationParamsView", "SignUpParamsView", "PrivacyPolicyView", "TermsOfUseView", "SignUpView",
           "ActivateEmailView", "ActivateByCodeView", "ResendView", "MobileLoginView", "AcceptView", "AcceptedView"]


def _json(value) -> HttpResponse:
    """A JSON document exactly (``null``, a string), where DRF would answer an empty body for None."""
    return HttpResponse(json.dumps(value), content_type="application/json")


def _body(request) -> dict:
    if not isinstance(request.data, dict):
        raise AccountError("Request body must be a JSON object")
    return request.data


class _PublicView(APIView):
    """No authentication; failures still answer ThingsBoard's error JSON."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get_authenticate_header(self, request) -> str:
        return "Bearer"

    def registration(self, request):
        return services.registration_for_host(request.get_host())


class SelfRegistrationParamsView(APIView):
    permission_classes = [IsTenantAdmin]

    def get(self, request):
        row = params.of_tenant(request.user.tenant_id)
        return _json(params.answer(row) if row else None)

    def post(self, request):
        data = request.data
        if params.grants_roles(params.of_tenant(request.user.tenant_id), data.get("permissions")
                               if isinstance(data, dict) else None):
            for right in params.GRANT_RIGHTS:
                role_hook.require(request, *right)
        return Response(params.answer(params.save(request.user.tenant_id, data)))

    def delete(self, request):
        params.delete(request.user.tenant_id)
        return Response(status=200)


class SignUpParamsView(_PublicView):
    def get(self, request):
        row = self.registration(request)
        return _json(policies.sign_up_form(row) if row else None)


class PrivacyPolicyView(_PublicView):
    def get(self, request):
        row = self.registration(request)
        return _json(row.privacy_policy if row else "")


class TermsOfUseView(_PublicView):
    def get(self, request):
        row = self.registration(request)
        return _json(row.terms_of_use if row else "")


class SignUpView(_PublicView):
    def post(self, request):
        client = mail_limits.client_of(request)
        services.take_sign_up(client)
        row = self.registration(request)
        if row is None:
            raise AccountError("Self-registration is not enabled for this domain", 404)
        result = services.sign_up(row, _body(request), remote_ip=str(request.META.get("REMOTE_ADDR") or ""),
                                  client=client)
        return _json(str(result))


class ActivateEmailView(_PublicView):
    def get(self, request):
        code = request.query_params.get("emailCode")
        if not services.is_pending(code):  # a browser shows the text
            return HttpResponse("This link is not valid: it was used already or has expired.", status=409,
                                content_type="text/plain; charset=utf-8")
        response = HttpResponse(status=303)
        response["Location"] = f"/signup/emailVerified?emailCode={code}"
        return response


class ActivateByCodeView(_PublicView):
    def post(self, request):
        user = services.activate(request.query_params.get("emailCode"))
        return Response(verification.login_answer(user) or issue_pair(user))


class ResendView(_PublicView):
    def post(self, request):
        services.resend(request.query_params.get("email"), client=mail_limits.client_of(request),
                        registration=self.registration(request))
        return Response(status=200)


class MobileLoginView(_PublicView):
    def get(self, request):
        raise AccountError(NOT_FOUND, 404)  # no mobile application is configured on this server


class AcceptView(APIView):
    """The current user accepts a policy. The answer (the client's ``object``, a JwtPair to ThingsBoard's UI) is a
    new pair only for a JWT of a tenant administrator or customer user, and only when the acceptance is new:
    never for an API key (a pair would outlive the key) nor a session, and no token refresh on repeated calls."""

    permission_classes = [IsAuthenticated]
    document = ""

    def post(self, request):
        claims = request.auth
        if (not isinstance(claims, dict) or "apiKeyId" in claims or "userId" not in claims or claims.get("isPublic")
                or request.user.authority not in (Authority.TENANT_ADMIN, Authority.CUSTOMER_USER)):
            raise PermissionDenied(NO_PERMISSION)
        changed = policies.accept(request.user, self.document)
        return Response(issue_pair(request.user) if changed else {})


class AcceptedView(APIView):
    permission_classes = [IsAuthenticated]
    document = ""

    def get(self, request):
        return _json(policies.accepted(request.user, self.document))
