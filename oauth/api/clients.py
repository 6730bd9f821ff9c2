"""OAuth2 clients and their provider templates (ThingsBoard's OAuth2Controller, OAuth2ConfigTemplateController):

    POST   /api/oauth2/client                        save (clientSecret write-only: "******" keeps it)
    GET    /api/oauth2/client/{id}                   OAuth2Client;  DELETE: delete
    GET    /api/oauth2/client/infos?pageSize&page..  PageData of OAuth2ClientInfo
    GET    /api/oauth2/client/list?clientIds=a,b     [OAuth2ClientInfo]
    GET    /api/oauth2/loginProcessingUrl            "/login/oauth2/code/"
    POST   /api/noauth/oauth2Clients?pkgName&platform  [OAuth2ClientLoginInfo] of the request's host (no login)
    GET|POST /api/oauth2/config/template             templates;  DELETE /api/oauth2/config/template/{id}
"""

from rest_framework.response import Response

from oauth import flow, rendering, services
from oauth.api.base import PublicView, SysAdminByIdView, SysAdminView
from oauth.models import OAuth2Client, OAuth2ClientTemplate
from tbproject.api.ids import parse_id_list

__all__ = ["ClientSaveView", "ClientDetailView", "ClientInfosView", "ClientListView", "LoginProcessingUrlView",
           "LoginClientsView", "TemplatesView", "TemplateDetailView"]


class ClientSaveView(SysAdminView):
    def post(self, request):
        return Response(rendering.client_json(services.save_client(request.data)))


class ClientDetailView(SysAdminByIdView):
    model = OAuth2Client

    def get(self, request, pk):
        return Response(rendering.client_json(self.get_object(pk)))

    def delete(self, request, pk):
        self.get_object(pk).delete()
        return Response(status=200)


class ClientInfosView(SysAdminView):
    def get(self, request):
        return self.page(OAuth2Client.objects.all(), search_field="title", render=rendering.client_info_json,
                         sort_fields={"createdTime": "created_time", "title": "title", "name": "title"})


class ClientListView(SysAdminView):
    def get(self, request):
        ids = parse_id_list(request.query_params, "clientIds")
        found = {c.pk: c for c in OAuth2Client.objects.filter(pk__in=ids)}
        return Response([rendering.client_info_json(found[i]) for i in dict.fromkeys(ids) if i in found])


class LoginProcessingUrlView(SysAdminView):
    def get(self, request):
        return Response(flow.LOGIN_PROCESSING_URL)  # a JSON string: the URL in double quotes, as ThingsBoard


class LoginClientsView(PublicView):
    """The login page's buttons (OAuth2ClientLoginInfo: name, icon, url)."""

    def post(self, request):
        params = request.query_params
        pkg = params.get("pkgName") or None
        clients = services.login_clients(request.get_host(), pkg, params.get("platform"))
        return Response([{"name": c.login_button_label, "icon": c.login_button_icon or None,
                          "url": services.login_url(c, pkg)} for c in clients])

    get = post  # the login page of older UIs asks with GET


class TemplatesView(SysAdminView):
    def get(self, request):
        return Response([rendering.template_json(t) for t in OAuth2ClientTemplate.objects.all()])

    def post(self, request):
        return Response(rendering.template_json(services.save_template(request.data)))


class TemplateDetailView(SysAdminByIdView):
    model = OAuth2ClientTemplate

    def get(self, request, pk):
        return Response(rendering.template_json(self.get_object(pk)))

    def delete(self, request, pk):
        self.get_object(pk).delete()
        return Response(status=200)
