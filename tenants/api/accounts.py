"""Users' accounts at ThingsBoard's paths (UserController writes, AuthController's password
endpoints); the rules are in tenants/accounts.py:

    POST   /api/user?sendActivationMail=true|false        save (no id: a new user, waiting for activation)
    DELETE /api/user/{userId}
    GET    /api/user/{userId}/activationLink              text/plain: the activation URL
    GET    /api/user/{userId}/activationLinkInfo          {"value": url, "ttlMs": ...}
    POST   /api/user/sendActivationMail?email=
    POST   /api/user/{userId}/userCredentialsEnabled?userCredentialsEnabled=true|false
    POST   /api/auth/changePassword                       {currentPassword, newPassword} -> new tokens
    GET    /api/noauth/activate?activateToken=            303 to the set-password page; 409 if unknown
    POST   /api/noauth/activate                           {activateToken, password} -> tokens
    POST   /api/noauth/resetPasswordByEmail               {email}
    GET    /api/noauth/resetPassword?resetToken=          303 to the set-password page; 409 if unknown
    POST   /api/noauth/resetPassword                      {resetToken, password} -> tokens
    GET    /api/noauth/userPasswordPolicy
"""

from django.conf import settings
from django.db import transaction
from django.dispatch import Signal
from django.http import HttpResponse
from rest_framework import exceptions
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from tbproject.api.exceptions import account_refusal
from tbproject.api.ids import parse_uuid
from tbproject.api.params import bool_param
from tbproject.api.permissions import RoleChecked
from tbproject.api.tokens import issue_pair
from tenants import accounts
from tenants.api.auth import _body, _PublicView
from tenants.api.serializers import UserSerializer
from tenants.limits import mail as mail_limits
from tenants.system import admin_settings, mail, security
from tenants.two_factor import verification

__all__ = ["UserSaveView", "ActivationLinkView", "ActivationLinkInfoView", "SendActivationMailView",
           "CredentialsEnabledView", "ChangePasswordView", "ActivateView", "ResetByEmailView", "ResetView",
           "PasswordPolicyView", "refused", "link_base", "user_saved"]

#: ``POST /api/user`` saved ``user`` (sender = User) for ``actor``, ``created`` or not, with the request's
#: ``params`` (query parameters: ``entityGroupId``/``entityGroupIds`` name user groups, roles/ joins them).
#: Sent inside the save's transaction: a receiver that raises refuses the whole save.
user_saved = Signal()


def refused(error: accounts.AccountError) -> exceptions.APIException:
    """The API's answer to a refused account operation (the exception handler gives the same to an
    AccountError raised in a view)."""
    return account_refusal(error)


def link_base(request, *, mailed: bool = True) -> str:
    """Where the links users get start: the general settings' ``baseUrl`` when ``prohibitDifferentUrl`` is on,
    else ``PUBLIC_BASE_URL`` when set, else the request's own address (its Host header, which Django checked
    against ALLOWED_HOSTS). A mailed link never trusts a Host that ``ALLOWED_HOSTS = *`` lets through while
    mail really goes out (``EMAIL_HOST`` or stored mail settings): anyone could ask for a reset mail whose
    link points at their own server. Without mail (the embedded default) the mail only reaches this server's log."""
    base = admin_settings.base_url()
    if base:
        return base
    if mailed and mail.configured() and "*" in settings.ALLOWED_HOSTS:
        raise exceptions.ValidationError("Mailed links need PUBLIC_BASE_URL (the address users reach this server "
                                         "at) while ALLOWED_HOSTS accepts any host")
    return request.build_absolute_uri("/").rstrip("/")


class UserSaveView(APIView):
    permission_classes = [IsAuthenticated, RoleChecked]

    def post(self, request):
        send = bool_param(request.query_params, "sendActivationMail", default=True)
        body = _body(request)
        try:
            with transaction.atomic():
                user = accounts.save_user(request.user, body, send_mail=send, base_url=link_base(request, mailed=send))
                user_saved.send(sender=type(user), user=user, actor=request.user, created=not body.get("id"),
                                params=request.query_params)
        except accounts.AccountError as e:
            raise refused(e) from None
        return Response(UserSerializer(user).data)


class _ActivationLinkBase(APIView):
    """A user's activation link for an administrator to hand over; the subclasses differ only in the answer."""

    permission_classes = [IsAuthenticated, RoleChecked]

    def get(self, request, pk):
        try:
            link, ttl_ms = accounts.activation_link(request.user, parse_uuid(pk), link_base(request, mailed=False))
        except accounts.AccountError as e:
            raise refused(e) from None
        return self.answer(link, ttl_ms)

    def answer(self, link: str, ttl_ms: int):
        raise NotImplementedError


class ActivationLinkView(_ActivationLinkBase):
    def answer(self, link, ttl_ms):
        return HttpResponse(link, content_type="text/plain; charset=utf-8")


class ActivationLinkInfoView(_ActivationLinkBase):
    def answer(self, link, ttl_ms):
        return Response({"value": link, "ttlMs": ttl_ms})


class SendActivationMailView(APIView):
    permission_classes = [IsAuthenticated, RoleChecked]

    def post(self, request):
        email = request.query_params.get("email")
        if not email:
            raise exceptions.ValidationError("email is required")
        try:
            accounts.send_activation_mail(request.user, email, link_base(request))
        except accounts.AccountError as e:
            raise refused(e) from None
        return Response(status=200)


class CredentialsEnabledView(APIView):
    permission_classes = [IsAuthenticated, RoleChecked]

    def post(self, request, pk):
        enabled = bool_param(request.query_params, "userCredentialsEnabled", default=True)
        try:
            accounts.set_enabled(request.user, parse_uuid(pk), enabled)
        except accounts.AccountError as e:
            raise refused(e) from None
        return Response(status=200)


class ChangePasswordView(APIView):
    permission_classes = [IsAuthenticated]

    def post(self, request):
        body = _body(request)
        try:
            accounts.change_password(request.user, body.get("currentPassword"), body.get("newPassword"))
        except accounts.AccountError as e:
            raise refused(e) from None
        return Response(issue_pair(request.user))


class _TokenLinkView(_PublicView):
    """A one-time link: GET redirects a browser to the set-password page (409 for an unknown or
    expired token, as ThingsBoard), POST sets the password and answers a token pair."""

    purpose = ""
    param = ""
    page = ""

    def get(self, request):
        token = request.query_params.get(self.param)
        if accounts.valid_token(self.purpose, token) is None:  # a browser shows the text
            return HttpResponse("This link is not valid: it was used already or has expired.", status=409,
                                content_type="text/plain; charset=utf-8")
        response = HttpResponse(status=303)
        response["Location"] = f"{self.page}?{self.param}={token}"
        return response

    def post(self, request):
        body = _body(request)
        try:
            user = self.use(body.get(self.param), body.get("password"))
        except accounts.AccountError as e:
            raise refused(e) from None
        # a reset link is no second factor: a user with 2FA gets the login's pre-verification token
        return Response(verification.login_answer(user) or issue_pair(user))

    def use(self, token, password):
        raise NotImplementedError


class ActivateView(_TokenLinkView):
    purpose, param, page = accounts.ACTIVATE, "activateToken", "/login/createPassword"

    def use(self, token, password):
        return accounts.activate(token, password)


class ResetView(_TokenLinkView):
    purpose, param, page = accounts.RESET, "resetToken", "/login/resetPassword"

    def use(self, token, password):
        return accounts.reset_password(token, password)


class ResetByEmailView(_PublicView):
    def post(self, request):
        try:
            accounts.request_password_reset(_body(request).get("email"), link_base(request),
                                            client=mail_limits.client_of(request))
        except accounts.AccountError as e:
            raise refused(e) from None
        return Response(status=200)


class PasswordPolicyView(_PublicView):
    def get(self, request):
        return Response(security.policy())
