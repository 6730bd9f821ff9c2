"""Resources at ThingsBoard's paths (tb-rest-client's TbResourceControllerApi; routes in dashboards/api/urls.py):

    POST   /api/resource                       save TbResource (``data`` base64; id in body = update) -> TbResourceInfo
    POST   /api/resource/upload                multipart: resourceType, file, title, descriptor, resourceSubType
    GET    /api/resource?pageSize&page&resourceType&resourceSubType&textSearch...   page (the system's too)
    GET    /api/resource/tenant?...            page of the tenant's own;  GET /api/resource/list?resourceIds=
    GET    /api/resource/{id}                  TbResource with data;  DELETE the same (?force) -> TbResourceDeleteResult
    GET    /api/resource/info/{id}             TbResourceInfo;  PUT /api/resource/{id}/info  title, descriptor
    PUT    /api/resource/{id}/data             multipart ``file``: new bytes (new etag)
    GET    /api/resource/{id}/download, /api/resource/{js|jks|pkcs12|lwm2m}/{id}/download,
           /api/resource/{resourceType}/{scope}/{key}[/info]    the bytes (ETag; If-None-Match -> 304)

``/api/resource/lwm2m[/page]`` (LwM2M object models parsed from the stored XML) answer 501: models are
stored and served, not parsed.
"""

import json

from django.conf import settings
from django.http import HttpResponse
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from dashboards import resources
from dashboards.api.widgets import paged
from dashboards.library import CUSTOMER_TYPES, IsAdministrator, check_writable, get_visible, json_field, text_field
from dashboards.models import Resource
from tbproject.api.exceptions import ErrorCode, NotSupported, tb_error
from tbproject.api.ids import parse_id_list, parse_uuid
from tbproject.api.params import bool_param, choice_param
from tbproject.api.parsers import PlainTextJSONParser
from tbproject.api.permissions import RoleChecked
from tenants.choices import Authority

__all__ = ["download", "uploaded", "ResourceView", "ResourceDetailView", "ResourceInfoView", "ResourceDataView",
           "ResourceInfoUpdateView", "DownloadView", "KeyDownloadView", "KeyInfoView", "TenantPageView",
           "ListView", "UploadView", "Lwm2mView"]

SORT = {"title": "title", "createdTime": "created_time", "resourceType": "resource_type",
        "resourceKey": "resource_key", "name": "title"}
_TYPED = {"js": "JS_MODULE", "jks": "JKS", "pkcs12": "PKCS_12", "lwm2m": "LWM2M_MODEL"}


def _matches(header: str, etag: str) -> bool:
    tags = [t.strip().removeprefix("W/").strip('"') for t in header.split(",")]
    return "*" in tags or etag in tags


def download(request, resource: Resource, *, public: bool = False, attachment: bool = False) -> HttpResponse:
    """The bytes with their media type and ETag; 304 without a body when ``If-None-Match`` holds the etag.
    Only an image (``image/*``, what check_image let in) is shown inline, an SVG under a sandboxing CSP;
    anything else (a JS module, an LwM2M model's XML...) is an attachment under ``sandbox``, so that bytes a
    user uploaded never run as a page of this server."""
    media_type = resource.media_type or "application/octet-stream"
    image = media_type.startswith("image/")
    if _matches(request.headers.get("If-None-Match", ""), resource.etag):
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(bytes(resource.data), content_type=media_type)
        if attachment or not image:
            response["Content-Disposition"] = f'attachment; filename="{resources.safe_file_name(resource.file_name)}"'
    response["ETag"] = f'"{resource.etag}"'
    response["Cache-Control"] = f"{'public' if public else 'private'}, no-cache"
    response["X-Content-Type-Options"] = "nosniff"
    if media_type == "image/svg+xml":
        response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    elif not image:
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def uploaded(request, name: str = "file") -> tuple[str, bytes]:
    """(file name, bytes) of a multipart upload; 413 past RESOURCE_MAX_BYTES, decided before reading it."""
    declared = request.META.get("CONTENT_LENGTH") or ""
    if declared.isdigit() and int(declared) > settings.RESOURCE_MAX_BYTES + 64 * 1024:
        resources.check_size(int(declared))
    upload = request.FILES.get(name)
    if upload is None:
        raise ValidationError(f"Required request part '{name}' is not present")
    resources.check_size(upload.size)
    file_name = text_field({"fileName": upload.name or "file"}, "fileName")
    return file_name, upload.read()


def _visible(request):
    rows = Resource.objects.all()
    if request.user.authority == Authority.CUSTOMER_USER:
        rows = rows.filter(resource_type__in=CUSTOMER_TYPES)
    return rows


def _resource(request, pk) -> Resource:
    return get_visible(_visible(request), request.user, pk=parse_uuid(pk))


def _page(request, queryset):
    params = request.query_params
    kinds = {k.strip() for raw in params.getlist("resourceType") for k in raw.split(",") if k.strip()}
    if kinds - set(resources.RESOURCE_TYPES):
        raise ValidationError(f"Parameter 'resourceType' must be among: {', '.join(resources.RESOURCE_TYPES)}")
    sub_type = choice_param(params, "resourceSubType", resources.SUB_TYPES)
    # images have their own pages (/api/images): listed here only when asked for by type
    queryset = queryset.filter(resource_type__in=kinds) if kinds else queryset.exclude(resource_type="IMAGE")
    if sub_type:
        queryset = queryset.filter(resource_sub_type=sub_type)
    return Response(paged(request, queryset, search_field="title", sort_fields=SORT, default=("title",),
                          render=lambda rows: [resources.info_json(r) for r in rows]))


class _Base(APIView):
    permission_classes = [IsAuthenticated, RoleChecked]


class _Admin(APIView):
    permission_classes = [IsAdministrator]


class ResourceView(_Admin):
    def get(self, request):
        return _page(request, Resource.objects.for_user(request.user).defer("data"))

    def post(self, request):
        return Response(resources.info_json(resources.save_resource(request.user, request.data)))


class TenantPageView(_Admin):
    def get(self, request):
        return _page(request, Resource.objects.filter(tenant_id=request.user.tenant_id).defer("data"))


class ListView(_Admin):
    def get(self, request):
        ids = parse_id_list(request.query_params, "resourceIds")
        found = {r.pk: r for r in Resource.objects.for_user(request.user).filter(pk__in=ids).defer("data")}
        return Response([resources.info_json(found[i]) for i in dict.fromkeys(ids) if i in found])


class UploadView(_Admin):
    parser_classes = [MultiPartParser, FormParser]

    def post(self, request):
        file_name, data = uploaded(request)
        form = request.data
        kind = choice_param(form, "resourceType", resources.RESOURCE_TYPES)
        if kind is None:
            raise ValidationError("Required request parameter 'resourceType' is not present")
        descriptor = None
        if form.get("descriptor"):
            try:
                descriptor = json_field({"descriptor": json.loads(form["descriptor"])}, "descriptor")
            except ValueError:
                raise ValidationError("'descriptor' must be JSON text") from None
        resource = resources.create(request.user, kind, file_name, data, title=form.get("title") or None,
                                    sub_type=choice_param(form, "resourceSubType", resources.SUB_TYPES),
                                    descriptor=descriptor)
        return Response(resources.info_json(resource))


class ResourceDetailView(_Admin):
    def get(self, request, pk):
        return Response(resources.resource_json(_resource(request, pk)))

    def delete(self, request, pk):
        force = bool_param(request.query_params, "force", False)
        result = resources.delete(request.user, _resource(request, pk), force)
        return refusal(result) if not result["success"] else Response(result)


def refusal(result: dict) -> Response:
    """A delete refused for references: 400, ThingsBoard's delete result beside the error fields."""
    names = ", ".join(f"{kind.lower()} '{row['name']}'" for kind, rows in result["references"].items() for row in rows)
    body = {**tb_error(400, f"The resource is used by {names}: delete with force=true to delete it anyway",
                       ErrorCode.BAD_REQUEST_PARAMS), **result}
    return Response(body, status=400)


class ResourceInfoView(_Admin):
    def get(self, request, pk):
        return Response(resources.info_json(_resource(request, pk)))


class ResourceInfoUpdateView(_Admin):
    parser_classes = [JSONParser, PlainTextJSONParser]

    def put(self, request, pk):
        resource = _resource(request, pk)
        check_writable(request.user, resource)
        data = request.data if isinstance(request.data, dict) else {}
        resource.title = text_field(data, "title") or resource.title
        if "descriptor" in data:
            resource.descriptor = json_field(data, "descriptor")
        resource.save()
        return Response(resources.info_json(resource))


class ResourceDataView(_Admin):
    parser_classes = [MultiPartParser, FormParser]

    def put(self, request, pk):
        resource = _resource(request, pk)
        check_writable(request.user, resource)
        file_name, data = uploaded(request)
        return Response(resources.info_json(resources.replace_data(resource, file_name, data)))


class DownloadView(_Base):
    """``/api/resource/{id}/download`` and the typed ``/api/resource/js/{id}/download``..."""

    kind = None

    def get(self, request, pk):
        resource = _resource(request, pk)
        if self.kind and resource.resource_type != _TYPED[self.kind]:
            raise NotFound("Requested item wasn't found!")
        return download(request, resource, attachment=True)


def _by_key(request, resource_type: str, scope: str, key: str) -> Resource:
    kind = resource_type.upper()
    if kind not in resources.RESOURCE_TYPES:
        raise ValidationError(f"Unknown resource type '{resource_type:.32}'")
    if request.user.authority == Authority.CUSTOMER_USER and kind not in CUSTOMER_TYPES:
        raise NotFound("Requested item wasn't found!")
    return resources.find_by_key(request.user, kind, scope, key)


class KeyDownloadView(_Base):
    def get(self, request, resource_type, resource_scope, key):
        return download(request, _by_key(request, resource_type, resource_scope, key))


class KeyInfoView(_Base):
    def get(self, request, resource_type, resource_scope, key):
        return Response(resources.info_json(_by_key(request, resource_type, resource_scope, key)))


class Lwm2mView(_Base):
    def get(self, request):
        raise NotSupported("LwM2M object models are stored and served as resources (LWM2M_MODEL) but not parsed "
                           "into objects by this server")
