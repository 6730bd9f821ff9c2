"""Images at ThingsBoard's paths (tb-rest-client's ImageControllerApi; routes in dashboards/api/urls.py).
``{type}`` is the image's scope: ``tenant`` (the caller's) or ``system``.

    POST   /api/image                           multipart ``file``, ``title``, ``imageSubType`` -> TbResourceInfo
    GET    /api/images?pageSize&page&imageSubType&includeSystemImages&textSearch...   page of TbResourceInfo
    GET    /api/images/{type}/{key}            the bytes (media type from the bytes, ETag, 304)
    PUT    /api/images/{type}/{key}            multipart ``file``: new bytes
    DELETE /api/images/{type}/{key}?force      TbImageDeleteResult; refused (400) while a dashboard or widget
                                                links it (``tb-image;/api/images/...``) unless ``force=true``
    GET    /api/images/{type}/{key}/preview    the preview (the image itself: no thumbnailer installed)
    GET|PUT /api/images/{type}/{key}/info      TbResourceInfo | its title
    GET    /api/images/{type}/{key}/export     ResourceExportData (``data`` base64); PUT /api/image/import back
    PUT    /api/images/{type}/{key}/public/{isPublic}
    GET    /api/images/public/{publicResourceKey}   a public image, without authentication
"""

from django.shortcuts import get_object_or_404
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from dashboards import resources
from dashboards.api.resources import download, refusal, uploaded
from dashboards.api.widgets import paged
from dashboards.library import IsAdministrator, check_writable, text_field
from dashboards.models import Resource
from tbproject.api.params import bool_param, choice_param
from tbproject.api.permissions import RoleChecked

__all__ = ["UploadView", "ImportView", "PageView", "ImageView", "PreviewView", "InfoView", "ExportView",
           "PublicStatusView", "PublicView", "export_json"]

SORT = {"title": "title", "createdTime": "created_time", "resourceKey": "resource_key", "name": "title"}


def _image(request, scope: str, key: str) -> Resource:
    return resources.find_by_key(request.user, "IMAGE", scope, key)


class _Base(APIView):
    permission_classes = [IsAuthenticated, RoleChecked]


class _Admin(APIView):
    permission_classes = [IsAdministrator]


class UploadView(_Admin):
    parser_classes = [MultiPartParser, FormParser]

    def post(self, request):
        file_name, data = uploaded(request)
        sub_type = choice_param(request.data, "imageSubType", ("IMAGE", "SCADA_SYMBOL"), "IMAGE")
        image = resources.create(request.user, "IMAGE", file_name, data, title=request.data.get("title") or None,
                                 sub_type=sub_type)
        if sub_type == "SCADA_SYMBOL" and image.media_type != "image/svg+xml":
            image.delete()
            raise ValidationError("A SCADA symbol must be an SVG image")
        return Response(resources.info_json(image))


class PageView(_Base):
    def get(self, request):
        params = request.query_params
        queryset = Resource.objects.for_user(request.user).filter(resource_type="IMAGE").defer("data")
        if request.user.tenant_id is not None and not bool_param(params, "includeSystemImages", False):
            queryset = queryset.filter(tenant_id=request.user.tenant_id)
        sub_type = choice_param(params, "imageSubType", ("IMAGE", "SCADA_SYMBOL"))
        if sub_type:
            queryset = queryset.filter(resource_sub_type=sub_type)
        return Response(paged(request, queryset, search_field="title", sort_fields=SORT, default=("title",),
                              render=lambda rows: [resources.info_json(r) for r in rows]))


class ImageView(_Base):
    parser_classes = [MultiPartParser, FormParser]

    def get(self, request, image_type, key):
        return download(request, _image(request, image_type, key))

    def put(self, request, image_type, key):
        image = _image(request, image_type, key)
        check_writable(request.user, image)
        file_name, data = uploaded(request)
        return Response(resources.info_json(resources.replace_data(image, file_name, data)))

    def delete(self, request, image_type, key):
        force = bool_param(request.query_params, "force", False)
        result = resources.delete(request.user, _image(request, image_type, key), force)
        return refusal(result) if not result["success"] else Response(result)


class PreviewView(_Base):
    def get(self, request, image_type, key):
        return download(request, _image(request, image_type, key))


class InfoView(_Base):
    def get(self, request, image_type, key):
        return Response(resources.info_json(_image(request, image_type, key)))

    def put(self, request, image_type, key):
        image = _image(request, image_type, key)
        check_writable(request.user, image)
        data = request.data if isinstance(request.data, dict) else {}
        image.title = text_field(data, "title", required=True, message="Image title should be specified!")
        image.save()
        return Response(resources.info_json(image))


def export_json(image: Resource) -> dict:
    data = resources.resource_json(image)
    return {"link": data["link"], "title": image.title, "type": "IMAGE", "subType": image.resource_sub_type,
            "resourceKey": image.resource_key, "fileName": image.file_name,
            "publicResourceKey": image.public_resource_key, "mediaType": image.media_type, "data": data["data"],
            "isPublic": image.is_public, "public": image.is_public}


class ExportView(_Admin):
    def get(self, request, image_type, key):
        return Response(export_json(_image(request, image_type, key)))


class ImportView(_Admin):
    """``PUT /api/image/import``: an exported image back, as a new image of the caller's scope (the same
    key when free); importing what is already there (same key, same bytes) answers the existing one."""

    parser_classes = [JSONParser]

    def put(self, request):
        data = request.data
        if not isinstance(data, dict):
            raise ValidationError("Request body must be a JSON object")
        raw = resources.decode_data(data.get("data"))
        key = text_field(data, "resourceKey") or text_field(data, "fileName")
        file_name = text_field(data, "fileName") or key
        if not file_name:
            raise ValidationError("'fileName' or 'resourceKey' should be specified!")
        key = resources.safe_key(key or file_name)
        tenant_id = request.user.tenant_id
        same = Resource.objects.filter(tenant_id=tenant_id, resource_type="IMAGE", resource_key=key).first()
        if same is not None and bytes(same.data) == raw:
            return Response(resources.info_json(same))
        is_public = data.get("public", data.get("isPublic"))
        image = resources.create(request.user, "IMAGE", file_name, raw, title=text_field(data, "title"), key=key,
                                 sub_type=choice_param(data, "subType", ("IMAGE", "SCADA_SYMBOL"), "IMAGE"),
                                 is_public=is_public if isinstance(is_public, bool) else False)
        return Response(resources.info_json(image))


class PublicStatusView(_Admin):
    def put(self, request, image_type, key, is_public):
        image = _image(request, image_type, key)
        check_writable(request.user, image)
        flag = bool_param({"isPublic": is_public}, "isPublic")
        return Response(resources.info_json(resources.set_public(image, flag)))


class PublicView(APIView):
    """A public image by its public key, for anyone (the link of an image shown on a public page)."""

    permission_classes = [AllowAny]

    def get(self, request, public_key):
        image = get_object_or_404(Resource.objects.filter(resource_type="IMAGE", is_public=True),
                                  public_resource_key=public_key)
        return download(request, image, public=True)
