"""ThingsBoard's AI model controller (tb-pe-client ``AiModelControllerApi``), tenant administrators only:

    POST   /api/ai/model                    save (AiModel back, credentials as ******)
    GET    /api/ai/model?pageSize&page...   PageData of AiModel (textSearch: name, provider or model ID)
    GET    /api/ai/model/{modelUuid}        AiModel
    DELETE /api/ai/model/{modelUuid}        true (another tenant's or an unknown id: 404)
    POST   /api/ai/model/chat               TbChatRequest -> TbChatResponse (SUCCESS or FAILURE), unsaved model
"""

from dataclasses import replace

from django.db.models import Q
from django.shortcuts import get_object_or_404
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from ai import services
from ai.models import AiModel
from ai.rendering import model_json
from tbproject.api.ids import parse_uuid
from tbproject.api.pagination import page_data, page_request
from tbproject.api.permissions import IsTenantAdmin

__all__ = ["AiModelView", "AiModelDetailView", "AiModelChatView", "refused"]

SORT_FIELDS = {"createdTime": "created_time", "name": "name", "provider": "provider", "modelId": "model_id"}


def refused(call, *args):
    try:
        return call(*args)
    except services.ModelRefused as e:
        raise ValidationError(str(e)) from None


class _Base(APIView):
    permission_classes = [IsTenantAdmin]

    def models(self):
        return AiModel.objects.filter(tenant_id=self.request.user.tenant_id)

    def model(self, pk) -> AiModel:
        return get_object_or_404(self.models(), pk=parse_uuid(pk))


class AiModelView(_Base):
    def post(self, request):
        data = request.data
        raw_id = data.get("id") if isinstance(data, dict) else None
        existing = self.model(raw_id.get("id") if isinstance(raw_id, dict) else raw_id) if raw_id else None
        row = refused(services.save_model, request.user.tenant_id, data, existing)
        return Response(model_json(row))

    def get(self, request):
        req = page_request(request.query_params)
        queryset = self.models()
        if req.text_search:  # ThingsBoard: a case-insensitive substring of the name, the provider or the model ID
            text = req.text_search
            queryset = queryset.filter(Q(name__icontains=text) | Q(provider__icontains=text)
                                       | Q(model_id__icontains=text))
            req = replace(req, text_search="")
        return Response(page_data(queryset, req, search_field="name", sort_fields=SORT_FIELDS,
                                  render=lambda rows: [model_json(r) for r in rows]))


class AiModelDetailView(_Base):
    def get(self, request, model_uuid):
        return Response(model_json(self.model(model_uuid)))

    def delete(self, request, model_uuid):
        self.model(model_uuid).delete()
        return Response(True)


class AiModelChatView(_Base):
    def post(self, request):
        return Response(refused(services.test_chat, request.user.tenant_id, request.data))
