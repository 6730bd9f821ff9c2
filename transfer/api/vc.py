"""ThingsBoard's entities version control API (``/api/entities/vc/...``), tenant administrators only
(and their VERSION_CONTROL role resource). Creating and loading a version answer a request id at
once; the work runs as a task and ``.../{requestId}/status`` answers its result."""

from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from tbproject.api.ids import parse_uuid
from tbproject.api.pagination import page_request
from tbproject.api.permissions import IsTenantAdmin
from transfer.vc import layout, loading, requests, versions
from transfer.vc.calls import CallError
from transfer.vc.git import GitError

__all__ = ["VersionsView", "VersionStatusView", "EntityVersionsView", "TypeVersionsView", "EntitiesAtView",
           "AllEntitiesAtView", "LoadView", "LoadStatusView", "BranchesView", "DiffView", "InfoView"]


def entity_type(value: str) -> str:
    if value not in layout.TYPES:
        raise ValidationError(f"Entity type {value[:40]} is not versioned here; use one of: {', '.join(layout.TYPES)}")
    return value


class _View(APIView):
    permission_classes = [IsTenantAdmin]

    def answer(self, call, *args, **kwargs) -> Response:
        try:
            return Response(call(*args, **kwargs))
        except GitError as e:
            raise ValidationError(str(e)) from None
        except CallError as e:  # an endpoint the answer is read through refused (e.g. no READ_ATTRIBUTES)
            refused = APIException(e.message)
            refused.status_code = e.status
            raise refused from None

    @property
    def tenant_id(self):
        return self.request.user.tenant_id

    def branch(self) -> str | None:
        return self.request.query_params.get("branch") or None

    def page(self):
        """The paging of a list, once the tenant is known to have a repository (else 404 first)."""
        versions.get_settings(self.tenant_id)
        return page_request(self.request.query_params)


class VersionsView(_View):
    def get(self, request):
        return self.answer(versions.list_versions, self.tenant_id, self.branch(), self.page())

    def post(self, request):
        body = versions.check_create(self.tenant_id, request.data)
        return Response(str(requests.start(request.user, "CREATE", body).pk))


class VersionStatusView(_View):
    def get(self, request, request_id):
        return Response(requests.status(self.tenant_id, "CREATE", parse_uuid(request_id, "requestId")))


class EntityVersionsView(_View):
    def get(self, request, entity_type_name, external_id):
        kind, external = entity_type(entity_type_name), parse_uuid(external_id, "externalEntityUuid")
        return self.answer(versions.list_versions, self.tenant_id, self.branch(), self.page(),
                           kind, external)


class TypeVersionsView(_View):
    def get(self, request, entity_type_name):
        return self.answer(versions.list_versions, self.tenant_id, self.branch(), self.page(),
                           entity_type(entity_type_name))


class EntitiesAtView(_View):
    def get(self, request, entity_type_name, version_id):
        return self.answer(versions.entities_at, self.tenant_id, version_id, entity_type(entity_type_name))


class AllEntitiesAtView(_View):
    def get(self, request, version_id):
        return self.answer(versions.entities_at, self.tenant_id, version_id)


class LoadView(_View):
    def post(self, request):
        versions.get_settings(self.tenant_id)
        body = loading.check_load(request.data)
        return Response(str(requests.start(request.user, "LOAD", body).pk))


class LoadStatusView(_View):
    def get(self, request, request_id):
        return Response(requests.status(self.tenant_id, "LOAD", parse_uuid(request_id, "requestId")))


class BranchesView(_View):
    def get(self, request):
        return self.answer(versions.branches, self.tenant_id)


class DiffView(_View):
    def get(self, request, entity_type_name, internal_id):
        kind, pk = entity_type(entity_type_name), parse_uuid(internal_id, "internalEntityUuid")
        versions.check_entity(self.tenant_id, kind, pk)  # another tenant's id: 404 before anything else
        version_id = request.query_params.get("versionId")
        if not version_id:
            raise ValidationError("Required request parameter 'versionId' is not present")
        return self.answer(versions.diff, request.user, kind, pk, version_id)


class InfoView(_View):
    def get(self, request, version_id, entity_type_name, external_id):
        return self.answer(versions.info, self.tenant_id, version_id, entity_type(entity_type_name),
                           parse_uuid(external_id, "externalEntityUuid"))
