"""Small platform facts ThingsBoard's UI and clients read:

    GET  /api/uiSettings/helpBaseUrl     where the UI fetches its help pages: UI_HELP_BASE_URL (ThingsBoard's
                                         default https://thingsboard.io), as text/plain as Spring sends a String
    GET  /api/mail/config/template       the SMTP presets of the mail settings page's provider select
                                         (ThingsBoard's MailConfigTemplateController); both administrators
    GET  /api/edqs/state                 the entity data query service's state: this server has no EDQS (its
                                         entity queries run on the database), so ThingsBoard's answer with
                                         EDQS disabled: not ready, no sync, API mode DISABLED
    POST /api/edqs/system/request        ToCoreEdqsRequest {syncRequest, apiEnabled}: checked, then refused
                                         with a 400 as there is no EDQS to sync or switch on
Both EDQS routes are the system administrator's.
"""

from django.conf import settings
from django.http import HttpResponse
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from tbproject.api.permissions import IsAdministrator, IsSysAdmin

__all__ = ["HelpBaseUrlView", "MailConfigTemplatesView", "EdqsStateView", "EdqsRequestView", "MAIL_CONFIG_TEMPLATES"]

DEFAULT_HELP_BASE_URL = "https://thingsboard.io"


class HelpBaseUrlView(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request):
        url = getattr(settings, "UI_HELP_BASE_URL", "") or DEFAULT_HELP_BASE_URL
        return HttpResponse(url, content_type="text/plain; charset=utf-8")


def _preset(provider: str, name: str, host: str, port: int, *, tls: bool, auth: str = "", token: str = "",
            scope: tuple = (), help_link: str = "") -> dict:
    return {"providerId": provider, "name": name, "smtpProtocol": "smtp", "smtpHost": host, "smtpPort": port,
            "timeout": 10000, "enableTls": tls, "tlsVersion": "TLSv1.2" if tls else None,
            "authorizationUri": auth or None, "accessTokenUri": token or None, "scope": list(scope),
            "helpLink": help_link or None}


#: the providers ThingsBoard's mail settings page offers (MailOauth2Provider), with their public SMTP settings
MAIL_CONFIG_TEMPLATES = (
    _preset("OFFICE_365", "Office 365", "smtp.office365.com", 587, tls=True,
            auth="https://login.microsoftonline.com/%s/oauth2/v2.0/authorize",
            token="https://login.microsoftonline.com/%s/oauth2/v2.0/token",
            scope=("https://outlook.office.com/SMTP.Send", "offline_access"),
            help_link="https://learn.microsoft.com/en-us/exchange/client-developer/legacy-protocols/"
                      "how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth"),
    _preset("GOOGLE", "Google", "smtp.gmail.com", 587, tls=True,
            auth="https://accounts.google.com/o/oauth2/v2/auth", token="https://oauth2.googleapis.com/token",
            scope=("https://mail.google.com/",), help_link="https://developers.google.com/gmail/imap/xoauth2-protocol"),
    _preset("SENDGRID", "SendGrid", "smtp.sendgrid.net", 587, tls=True,
            help_link="https://docs.sendgrid.com/for-developers/sending-email/integrating-with-the-smtp-api"),
)


class MailConfigTemplatesView(APIView):
    permission_classes = [IsAuthenticated, IsAdministrator]

    def get(self, request):
        return Response([dict(t) for t in MAIL_CONFIG_TEMPLATES])


class _EdqsView(APIView):
    permission_classes = [IsAuthenticated, IsSysAdmin]


class EdqsStateView(_EdqsView):
    def get(self, request):
        return Response({"edqsReady": False, "syncStatus": None, "apiMode": "DISABLED"})


class EdqsRequestView(_EdqsView):
    def post(self, request):
        body = request.data
        if not isinstance(body, dict):
            raise ValidationError("Request body must be a JSON object {syncRequest, apiEnabled}")
        api = body.get("apiEnabled")
        if api is not None and not isinstance(api, bool):
            raise ValidationError("apiEnabled must be true, false or null")
        sync = body.get("syncRequest")
        if sync is not None and not isinstance(sync, dict):
            raise ValidationError("syncRequest must be an object")
        if sync is None and api is None:
            raise ValidationError("Nothing requested: give syncRequest or apiEnabled")
        raise ValidationError("EDQS is not enabled on this server: entity data queries run on the database, "
                              "there is nothing to sync and no EDQS API to enable")
