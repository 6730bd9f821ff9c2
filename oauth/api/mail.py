"""The mail server's OAuth 2.0 consent at ThingsBoard's paths (oauth/mail.py):

    GET /api/admin/mail/oauth2/authorize?prevUri=     "<consent URL>" (system administrator)
    GET /api/admin/mail/oauth2/loginProcessingUrl     "/api/admin/mail/oauth2/code" (system administrator)
    GET /api/admin/mail/oauth2/code?code&state        the provider's redirect (a browser, no token): stores the
                                                      refresh token, then back to prevUri or the mail settings page
"""

from django.http import HttpResponseRedirect
from rest_framework.response import Response

from oauth import flow, mail
from oauth.api.base import PublicView, SysAdminView

__all__ = ["MailAuthorizeView", "MailProcessingUrlView", "MailCodeView"]


class MailAuthorizeView(SysAdminView):
    def get(self, request):
        url, state = mail.authorization_url(request.user)
        response = Response(url)
        response.set_cookie(mail.STATE_COOKIE, state, max_age=mail.COOKIE_TTL_S, httponly=True, samesite="Lax",
                            secure=request.is_secure())
        prev = request.query_params.get("prevUri")
        if prev and prev.startswith("/") and not prev.startswith("//"):
            response.set_cookie(mail.PREV_URI_COOKIE, prev, max_age=mail.COOKIE_TTL_S, httponly=True,
                                samesite="Lax", secure=request.is_secure())
        return response


class MailProcessingUrlView(SysAdminView):
    def get(self, request):
        return Response(mail.PROCESSING_URL)


class MailCodeView(PublicView):
    def get(self, request):
        mail.finish(request.query_params.get("code") or "", request.query_params.get("state") or "",
                    request.COOKIES.get(mail.STATE_COOKIE) or "")
        prev = request.COOKIES.get(mail.PREV_URI_COOKIE) or "/settings/outgoing-mail"
        response = HttpResponseRedirect(flow.base_url(request) + (prev if prev.startswith("/") else "/"))
        response.delete_cookie(mail.STATE_COOKIE)
        response.delete_cookie(mail.PREV_URI_COOKIE)
        return response
