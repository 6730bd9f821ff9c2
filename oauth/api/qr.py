"""The mobile app's QR code (ThingsBoard's QrCodeSettingsController):

    GET|POST /api/mobile/qr/settings     QrCodeSettings: the system's (system administrator) or the tenant's
                                         own (tenant administrator; useSystemSettings: take the system's)
    GET  /api/mobile/qr/merged           what the caller's home page shows (any user)
    GET  /api/mobile/qr/deepLink         "<base>/api/noauth/qr?secret=..&ttl=..": a one-time secret (any user)
    GET  /api/noauth/qr/{secret}         JwtPair of the user the secret was made for, once (no login)
    GET  /api/noauth/qr                  302 to the store of the scanning phone (User-Agent), else to "/"
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in
from django.http import HttpResponseRedirect
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from oauth import flow, mobile, rendering
from oauth.api.base import PublicView
from tbproject.api.permissions import IsAdministrator
from tbproject.api.tokens import issue_pair

__all__ = ["QrSettingsView", "MergedQrView", "DeepLinkView", "SecretTokenView", "AppRedirectView"]


def _render(row):
    play, store = mobile.store_links(row)
    return rendering.qr_json(row, google_play_link=play, app_store_link=store)


class QrSettingsView(APIView):
    permission_classes = [IsAuthenticated, IsAdministrator]

    def get(self, request):
        return Response(_render(mobile.qr_settings(request.user.tenant_id)))

    def post(self, request):
        return Response(_render(mobile.save_qr_settings(request.user.tenant_id, request.data)))


class MergedQrView(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response(_render(mobile.merged_qr(request.user.tenant_id)))


class DeepLinkView(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request):
        secret = mobile.new_secret(request.user)
        return Response(f"{flow.base_url(request)}/api/noauth/qr?secret={secret}&ttl={mobile.SECRET_TTL_S}")


class SecretTokenView(PublicView):
    def get(self, request, secret):
        user_id = mobile.take_secret(secret)
        user = get_user_model().objects.filter(pk=user_id, is_active=True).first() if user_id else None
        if user is None:
            raise NotFound("Mobile secret is not found or expired")
        user_logged_in.send(sender=user.__class__, request=request, user=user)  # as the password login does
        return Response(issue_pair(user))


class AppRedirectView(PublicView):
    def get(self, request):
        agent = request.headers.get("User-Agent", "")
        play, store = mobile.store_links(mobile.qr_settings(None))
        target = play if "Android" in agent else store if any(k in agent for k in ("iPhone", "iPad", "iPod")) else None
        return HttpResponseRedirect(target or "/")
