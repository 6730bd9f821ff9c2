"""What the rule chain page needs beside ThingsBoard's rule chain endpoints (tenant administrators):

    GET  /api/components?componentTypes=FILTER,ACTION&ruleChainType=CORE
         ThingsBoard's ComponentDescriptor list of the rule-node types (rulechains/components.py)
    GET  /api/components/{componentType}?ruleChainType=CORE   the same, of one type (FILTER, ACTION...)
    GET  /api/component/{componentDescriptorClazz}             one descriptor by its class name (404 if
         no rule node here has that class)
    POST /api/ruleChain/node/validate   {type, configuration} -> {"valid": true}, or 400 saying why
    POST /api/ruleChain/{id}/test       {metadata, msg: {msgType, metadata, data, originator?}}
         -> the path a sample message takes through the chain as posted; nothing is stored
"""

from django.http import Http404
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from converters.engine import EngineError
from rulechains import components, trial
from rulechains.api.views import ENGINE_DOWN, RuleChainResource
from rulechains.metadata import MetadataError
from rulechains.nodes import NODES
from rulechains.nodes.base import ConfigError
from tbproject.api.exceptions import ServiceUnavailable
from tbproject.api.params import choice_param

__all__ = ["ComponentsView", "ComponentsByTypeView", "ComponentView", "ValidateNodeView", "TestChainView"]


class ComponentsView(RuleChainResource):
    def get(self, request):
        raw = request.query_params.get("componentTypes") or ",".join(components.GROUPS)
        groups = [g.strip().upper() for g in raw.split(",") if g.strip()]
        unknown = [g for g in groups if g not in components.GROUPS]
        if unknown:
            raise ValidationError(f"Unknown componentTypes: {', '.join(unknown)[:200]}. "
                                  f"Known: {', '.join(components.GROUPS)}")
        return Response(components.descriptors(groups))


class ComponentsByTypeView(RuleChainResource):
    def get(self, request, component_type):
        choice_param(request.query_params, "ruleChainType", ("CORE", "EDGE"))  # one palette serves both
        if component_type not in components.GROUPS:
            raise ValidationError(f"Unknown componentType: {component_type:.64}. Known: {', '.join(components.GROUPS)}")
        return Response(components.descriptors([component_type]))


class ComponentView(RuleChainResource):
    def get(self, request, clazz):
        if clazz not in NODES:
            raise Http404("Requested item wasn't found!")
        return Response(components.descriptor(clazz))


class ValidateNodeView(RuleChainResource):
    def post(self, request):
        data = request.data if isinstance(request.data, dict) else {}
        try:
            components.validate(data.get("type"), data.get("configuration"))
        except ConfigError as e:
            raise ValidationError(str(e)) from None
        except EngineError:
            raise ServiceUnavailable(ENGINE_DOWN) from None
        return Response({"valid": True})


class TestChainView(RuleChainResource):
    def post(self, request, pk):
        chain = self.get_object(pk)
        data = request.data
        if not isinstance(data, dict) or not isinstance(data.get("metadata"), dict):
            raise ValidationError('The body must be {"metadata": {...}, "msg": {"msgType", "metadata", "data"}}')
        try:
            return Response(trial.run(chain, data["metadata"], data.get("msg") or {}))
        except MetadataError as e:
            raise ValidationError(str(e)) from None
        except trial.UnknownOriginator as e:
            raise NotFound(str(e)) from None
