"""Custom translations and the end-user translation (tb-pe-client 4.4's CustomTranslationControllerApi and
TranslationControllerApi; routes in urls.py). The caller's level is its authority's (system, tenant, customer).

    GET|POST|PATCH|DELETE /api/translation/custom/{localeCode}     the level's own (not merged) | replace | keys
    DELETE /api/translation/custom/{localeCode}/{keyPath}          one key (dotted path)
    POST   /api/translation/custom/{localeCode}/upload             multipart ``file``: a JSON file, replaces
    GET    /api/translation/custom/merged/{localeCode}             merged over the levels above
    GET    /api/translation/full/{localeCode}[/download]           the end-user translation (ETag, 304)
    GET    /api/noauth/translation/login/{localeCode}              the system's login-page keys
    GET    /api/translation/availableLocales | availableJavaLocales | info | edit/basic/{localeCode}
"""

import hashlib
import json

from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from branding import levels, translations
from branding.levels import SYSTEM
from branding.locales import LOCALES, display_name
from tbproject.api.parsers import PlainTextJSONParser
from tbproject.api.permissions import RoleChecked

__all__ = ["CustomView", "CustomKeyView", "UploadView", "MergedView", "FullView", "DownloadView", "LoginView",
           "AvailableView", "JavaLocalesView", "InfoView", "BasicEditView"]

MAX_UPLOAD_BYTES = 5 * 1024 * 1024


class _Base(APIView):
    permission_classes = [IsAuthenticated, RoleChecked]


def _owner(request):
    return levels.user_owner(request.user)


def _etagged(request, data) -> Response:
    raw = json.dumps(data, sort_keys=True, ensure_ascii=False).encode()
    etag = f'"{hashlib.sha256(raw).hexdigest()[:32]}"'
    if etag in request.headers.get("If-None-Match", ""):
        response = Response(status=304)
    else:
        response = Response(data)
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    return response


class CustomView(_Base):
    parser_classes = [JSONParser, PlainTextJSONParser]

    def get(self, request, locale_code):
        levels.check_read(request)
        return Response(translations.custom(_owner(request), locale_code))

    def _write(self, request):
        owner = _owner(request)
        levels.check_write(request, owner)
        return owner

    def post(self, request, locale_code):
        translations.save(self._write(request), locale_code, request.data)
        return Response(status=200)

    def patch(self, request, locale_code):
        translations.patch(self._write(request), locale_code, request.data)
        return Response(status=200)

    def delete(self, request, locale_code):
        owner = _owner(request)
        levels.check_write(request, owner, allowed_check=False)
        translations.delete(owner, locale_code)
        return Response(status=200)


class CustomKeyView(_Base):
    def delete(self, request, locale_code, key_path):
        owner = _owner(request)
        levels.check_write(request, owner, allowed_check=False)
        translations.delete_key(owner, locale_code, key_path)
        return Response(status=200)


class UploadView(_Base):
    parser_classes = [MultiPartParser, FormParser]

    def post(self, request, locale_code):
        owner = _owner(request)
        levels.check_write(request, owner)
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationError("Required request part 'file' is not present")
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(f"The file is larger than {MAX_UPLOAD_BYTES} bytes")
        try:
            data = json.loads(upload.read().decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as e:
            raise ValidationError(f"The file is not a JSON translation: {str(e)[:200]}") from None
        translations.save(owner, locale_code, data)
        return Response(status=200)


class MergedView(_Base):
    def get(self, request, locale_code):
        return Response(translations.merged_custom(_owner(request), locale_code))


class FullView(_Base):
    def get(self, request, locale_code):
        return _etagged(request, translations.full(_owner(request), locale_code))


class DownloadView(_Base):
    def get(self, request, locale_code):
        response = Response(translations.full(_owner(request), locale_code))
        response["Content-Disposition"] = f'attachment; filename="{locale_code}.json"'
        return response


class LoginView(APIView):
    """The login page's keys (``login.*``) of the system's end-user translation: no one is signed in yet."""

    permission_classes = [AllowAny]
    authentication_classes = []

    def get(self, request, locale_code):
        everything = translations.full(SYSTEM, locale_code)
        return _etagged(request, {"login": everything.get("login", {})})


class AvailableView(_Base):
    def get(self, request):
        return Response(translations.available(_owner(request)))


class JavaLocalesView(_Base):
    def get(self, request):
        return Response({code: display_name(code) for code in LOCALES})


class InfoView(_Base):
    def get(self, request):
        levels.check_read(request)
        return Response(translations.infos(_owner(request)))


class BasicEditView(_Base):
    def get(self, request, locale_code):
        levels.check_read(request)
        return Response(translations.basic_edit(_owner(request), locale_code))
