"""Domains (ThingsBoard's DomainController): the host names whose login page offers OAuth2 clients.

    POST /api/domain?oauth2ClientIds=a,b         save (name unique for the platform)
    GET  /api/domain/info/{id}                   DomainInfo (with oauth2ClientInfos)
    GET  /api/domain/infos?pageSize&page...      PageData of DomainInfo
    PUT  /api/domain/{id}/oauth2Clients          [client ids]: the domain's clients
    DELETE /api/domain/{id}
"""

from rest_framework.response import Response

from oauth import rendering, services
from oauth.api.base import SysAdminByIdView, SysAdminView
from oauth.models import Domain
from tbproject.api.ids import parse_id_list

__all__ = ["DomainSaveView", "DomainDetailView", "DomainInfoView", "DomainInfosView", "DomainClientsView"]


class DomainSaveView(SysAdminView):
    def post(self, request):
        ids = parse_id_list(request.query_params, "oauth2ClientIds", required=False) \
            if "oauth2ClientIds" in request.query_params else None
        return Response(rendering.domain_json(services.save_domain(request.data, ids)))


class DomainDetailView(SysAdminByIdView):
    model = Domain

    def delete(self, request, pk):
        self.get_object(pk).delete()
        return Response(status=200)


class DomainInfoView(SysAdminByIdView):
    model = Domain

    def get(self, request, pk):
        return Response(rendering.domain_info_json(self.get_object(pk)))


class DomainInfosView(SysAdminView):
    def get(self, request):
        return self.page(Domain.objects.prefetch_related("oauth2_clients"), search_field="name",
                         sort_fields={"createdTime": "created_time", "name": "name"},
                         render=rendering.domain_info_json)


class DomainClientsView(SysAdminByIdView):
    model = Domain

    def put(self, request, pk):
        services.set_domain_clients(self.get_object(pk), request.data)
        return Response(status=200)
