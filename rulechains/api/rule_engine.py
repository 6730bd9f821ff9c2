"""ThingsBoard's REST API to the rule engine: ``POST /api/rule-engine/`` (the originator is the
calling user), ``POST /api/rule-engine/{entityType}/{entityId}``, ``.../{timeout}`` and
``.../{queueName}/{timeout}`` (milliseconds, any integer as ThingsBoard takes it: 0 or less waits
ThingsBoard's default 10 s; above 300 s it waits 300 s, the one rule of every long wait: tbproject/waits.py).

The JSON body becomes a REST_API_REQUEST message for the tenant's root chain, and the call waits
for a "rest call reply" node to answer with the message's data: 200 with that JSON, or 408 when
no reply came in time (rulechains/replies.py). The body may come as application/json or as
text/plain, as ThingsBoard's generated client sends it; it must be a JSON object or array. There
is one rule-engine queue here, so a queue name is accepted and not used. An entity another
tenant's, or not its customer's for a customer user, is a 404. Past the process's cap of waiting
requests (MAX_WAITING_REQUESTS, MAX_WAITING_REQUESTS_PER_TENANT), a 429 (ThingsBoard's rate-limit
error). Under the web server the wait holds no thread (tbproject.deferred.answer_when).
"""

import json
import logging
import re

from django.http import HttpResponse, JsonResponse
from django.urls import path
from rest_framework.exceptions import NotFound, Throttled, ValidationError

from devices.api.telemetry import ENTITY_MODELS, TelemetryView
from devices.models import EntityGroup
from rulechains import replies
from tbproject.api.exceptions import ErrorCode, ServiceUnavailable, tb_error
from tbproject.api.ids import parse_uuid
from tbproject.waits import wait_ms
from tenants.choices import Authority
from tenants.models import User

__all__ = ["RuleEngineView", "ORIGINATOR_TYPES", "urlpatterns"]

log = logging.getLogger(__name__)

ORIGINATOR_TYPES = (*ENTITY_MODELS, "TENANT", "USER", "ENTITY_GROUP")


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _body(request):
    raw = request.body
    try:
        data = json.loads(raw, parse_constant=_refuse_constant) if raw.strip() else None
    except (UnicodeDecodeError, ValueError, RecursionError) as e:  # "[" * 100000 nests past the parser's stack
        raise ValidationError(f"Invalid request body: not JSON ({str(e)[:120]})") from None
    if not isinstance(data, (dict, list)):
        raise ValidationError("Invalid request body: the message must be a JSON object or array")
    return data


_INT = re.compile(r"[+-]?[0-9]{1,10}", re.ASCII)
#: ThingsBoard's path variable is a Java int
_INT_RANGE = range(-(1 << 31), 1 << 31)


def _timeout(raw) -> int:
    """The wait in ms: ThingsBoard takes any int; 0 or less (which would time out at once) is the
    default, and no wait is longer than MAX_TIMEOUT_MS (waits.wait_ms). Anything else is a 400."""
    if raw is None:
        return replies.DEFAULT_TIMEOUT_MS
    if not _INT.fullmatch(raw) or int(raw) not in _INT_RANGE:
        raise ValidationError(f"Invalid timeout: {raw:.32}. It must be an integer number of milliseconds")
    return wait_ms(int(raw), replies.DEFAULT_TIMEOUT_MS)


def too_many():
    """DRF's 429 (ThingsBoard's "Too many requests" error) for a tenant past the cap of waiting requests."""
    return Throttled(detail="Too many requests for current tenant! The tenant has too many requests waiting "
                            "already")


def _answer(timeout_ms: int):
    def finish(reply):
        if reply is None:
            return JsonResponse(tb_error(408, f"The rule engine sent no reply within {timeout_ms} ms: does the root "
                                              "chain route REST_API_REQUEST to a rest call reply node?",
                                         ErrorCode.GENERAL), status=408)
        return HttpResponse(reply, content_type="application/json")

    return finish


class RuleEngineView(TelemetryView):
    """Tenant admins and customer users; the originator must be theirs to see."""

    parser_classes = ()  # the body is read as it came (request.body): text/plain carries JSON too

    def post(self, request, entity_type=None, entity_id=None, queue_name=None, timeout=None):
        timeout_ms = _timeout(timeout)
        if entity_type is None:
            kind, pk = "USER", request.user.pk
        else:
            kind, pk = self.originator(entity_type, entity_id)
        data = _body(request)
        from rulechains import outbox

        tenant_id = request.user.tenant_id
        request_id, payload = replies.message(tenant_id, kind, pk, data, timeout_ms=timeout_ms)
        try:
            return replies.reply_later(request, tenant_id, request_id, lambda: outbox.queue(payload),
                                       timeout_ms=timeout_ms, finish=_answer(timeout_ms))
        except replies.TooManyWaiting:
            raise too_many() from None
        except Exception:
            log.exception("rule engine: a REST API request of tenant %s could not be handed on", tenant_id)
            raise ServiceUnavailable("The rule engine cannot take the request now, try again later") from None

    def originator(self, entity_type: str, entity_id: str) -> tuple[str, object]:
        """(ENTITY_TYPE, id) of a path's entity the user may see; 400 for another type, else 404."""
        kind = entity_type.upper()
        user = self.request.user
        if kind in ENTITY_MODELS:
            return kind, self.entity(kind, entity_id).pk
        if kind not in ORIGINATOR_TYPES:
            raise ValidationError(f"Unsupported entity type: {kind:.32}. Supported: {', '.join(ORIGINATOR_TYPES)}")
        pk = parse_uuid(entity_id)
        if kind == "TENANT":
            found = user.authority == Authority.TENANT_ADMIN and pk == user.tenant_id
        elif kind == "USER":
            users = User.objects.filter(tenant_id=user.tenant_id, pk=pk)
            if user.authority == Authority.CUSTOMER_USER:
                users = users.filter(customer_id=user.customer_id)
            found = users.exists()
        else:
            found = EntityGroup.objects.for_user(user).filter(pk=pk).exists()
        if not found:
            raise NotFound(f"{kind.replace('_', ' ').capitalize()} with id [{pk}] is not found")
        return kind, pk


_view = RuleEngineView.as_view()
#: included by rulechains/api/urls.py (under /api/)
urlpatterns = [
    path("rule-engine/", _view, name="rule-engine-user"),
    path("rule-engine", _view, name="rule-engine-user-noslash"),
    path("rule-engine/<str:entity_type>/<str:entity_id>", _view, name="rule-engine-entity"),
    path("rule-engine/<str:entity_type>/<str:entity_id>/<str:timeout>", _view, name="rule-engine-entity-timeout"),
    path("rule-engine/<str:entity_type>/<str:entity_id>/<str:queue_name>/<str:timeout>", _view,
         name="rule-engine-entity-queue-timeout"),
]
