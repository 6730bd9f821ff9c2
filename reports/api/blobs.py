"""Blob entities at ThingsBoard's paths (blob_entity_controller_api.py of tb-pe-client): where the
dashboard report of the rule node is stored.

    GET    /api/blobEntities?pageSize&page[&type&textSearch&sortProperty&sortOrder&startTime&endTime]
    GET    /api/blobEntities/list?blobEntityIds=a,b      List[BlobEntityInfo]
    GET    /api/blobEntity/info/{id}                     BlobEntityWithCustomerInfo
    GET    /api/blobEntity/{id}/download                 the file
    DELETE /api/blobEntity/{id}
"""

from django.shortcuts import get_object_or_404
from rest_framework.response import Response
from rest_framework.views import APIView

from reports.api import shapes
from reports.api.common import file_response
from reports.models import BlobEntity
from tbproject.api.ids import parse_id_list, parse_uuid
from tbproject.api.pagination import page_data, page_request
from tbproject.api.params import ms_param
from tbproject.api.permissions import IsTenantUser

__all__ = ["PageView", "ByIdsView", "InfoView", "DownloadView", "DetailView"]

SORT = {"createdTime": "created_time", "name": "name", "type": "type", "customerTitle": "customer__title"}


def _blobs(request):
    return BlobEntity.objects.for_user(request.user).select_related("customer").defer("data")


class PageView(APIView):
    permission_classes = [IsTenantUser]

    def get(self, request):
        params = request.query_params
        queryset = _blobs(request)
        if params.get("type"):
            queryset = queryset.filter(type=params["type"])
        start, end = ms_param(params, "startTime"), ms_param(params, "endTime")
        if start is not None:
            queryset = queryset.filter(created_time__gte=start)
        if end is not None:
            queryset = queryset.filter(created_time__lte=end)
        return Response(page_data(queryset, page_request(params), search_field="name", sort_fields=SORT,
                                  render=lambda rows: [shapes.blob_with_customer(b) for b in rows]))


class ByIdsView(APIView):
    permission_classes = [IsTenantUser]

    def get(self, request):
        ids = parse_id_list(request.query_params, "blobEntityIds")
        found = {b.pk: b for b in _blobs(request).filter(pk__in=ids)}
        return Response([shapes.blob_info(found[i]) for i in dict.fromkeys(ids) if i in found])


class InfoView(APIView):
    permission_classes = [IsTenantUser]

    def get(self, request, pk):
        return Response(shapes.blob_with_customer(get_object_or_404(_blobs(request), pk=parse_uuid(pk))))


class DownloadView(APIView):
    permission_classes = [IsTenantUser]

    def get(self, request, pk):
        blob = get_object_or_404(BlobEntity.objects.for_user(request.user), pk=parse_uuid(pk))
        return file_response(blob.name, blob.content_type, blob.data)


class DetailView(APIView):
    permission_classes = [IsTenantUser]

    def delete(self, request, pk):
        get_object_or_404(_blobs(request), pk=parse_uuid(pk)).delete()
        return Response(status=200)
