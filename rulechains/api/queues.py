"""ThingsBoard's rule-engine queues, as read-only facts about this server.

    GET    /api/queues?serviceType=TB_RULE_ENGINE&pageSize&page&textSearch&sortProperty&sortOrder
    GET    /api/queues/{queueId}, /api/queues/name/{queueName}
    POST   /api/queues?serviceType=..., DELETE /api/queues/{queueId}

ThingsBoard runs each rule-engine queue as its own consumer group, with the settings below (its
thingsboard.yml defaults for Main, HighPriority and SequentialByOriginator). This server has one
rule-engine queue: every message of every rule chain goes through the rule engine's one task queue,
and a rule chain or a "checkpoint" node that names one of these queues is accepted and runs there.
They are listed so that clients, rule chain exports and device profiles that name them keep
working. They are the system's, as ThingsBoard's are for a tenant without an isolated rule
engine: only a system administrator manages queues in ThingsBoard (a tenant administrator is
refused with 403); here nobody can, so a system administrator's change answers 501.
"""

import uuid

from django.urls import path
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from tbproject.api.exceptions import NotSupported
from tbproject.api.ids import entity_id, parse_uuid
from tbproject.api.pagination import page_request
from tbproject.api.params import required_param
from tbproject.api.permissions import RoleChecked
from tenants.choices import Authority

__all__ = ["QUEUES", "urlpatterns"]

_NAMESPACE = uuid.UUID("6f1d3a56-0c4e-4b0e-9a57-2f6f6d1b7a10")
_SERVICE_TYPES = ("TB_RULE_ENGINE", "TB_CORE", "TB_TRANSPORT", "JS_EXECUTOR", "TB_VC_EXECUTOR", "EDGE",
                  "TB_INTEGRATION_EXECUTOR", "TB_CALCULATED_FIELDS")
_DENIED = "You don't have permission to perform this operation!"
_DESCRIPTION = ("ThingsBoard's default {name} queue, listed for compatibility. This server has one rule-engine "
                "queue: every message of every rule chain runs through it, whichever of Main, HighPriority "
                "and SequentialByOriginator it names. Read-only.")


def _queue(name: str, topic: str, submit: tuple, processing: tuple) -> dict:
    return {
        "id": {"entityType": "QUEUE", "id": str(uuid.uuid5(_NAMESPACE, name))},
        "createdTime": 0,
        "tenantId": entity_id("TENANT", None),  # the system's
        "name": name,
        "topic": topic,
        "pollInterval": 25,
        "partitions": 10,
        "consumerPerPartition": True,
        "packProcessingTimeout": 2000,
        "submitStrategy": {"type": submit[0], "batchSize": submit[1]},
        "processingStrategy": dict(zip(("type", "retries", "failurePercentage", "pauseBetweenRetries",
                                        "maxPauseBetweenRetries"), processing, strict=True)),
        "additionalInfo": {"description": _DESCRIPTION.format(name=name), "customProperties": "",
                           "duplicateMsgToAllPartitions": False},
    }


#: ThingsBoard's queue.rule-engine.queues defaults (thingsboard.yml)
QUEUES = (
    _queue("Main", "tb_rule_engine.main", ("BURST", 1000), ("SKIP_ALL_FAILURES", 3, 0.0, 3, 3)),
    _queue("HighPriority", "tb_rule_engine.hp", ("BURST", 100), ("RETRY_FAILED_AND_TIMED_OUT", 0, 0.0, 5, 5)),
    _queue("SequentialByOriginator", "tb_rule_engine.sq", ("SEQUENTIAL_BY_ORIGINATOR", 100),
           ("RETRY_FAILED_AND_TIMED_OUT", 3, 0.0, 5, 5)),
)


class _QueueView(APIView):
    permission_classes = [IsAuthenticated, RoleChecked]

    def check_permissions(self, request):
        super().check_permissions(request)
        allowed = (Authority.SYS_ADMIN,) if request.method in ("POST", "DELETE") else \
            (Authority.SYS_ADMIN, Authority.TENANT_ADMIN)
        if request.user.authority not in allowed:
            raise PermissionDenied(_DENIED)

    @staticmethod
    def refuse():
        raise NotSupported("The rule-engine queues of this server are fixed: it runs one queue for every "
                           "rule chain (GET /api/queues lists ThingsBoard's defaults it stands for)")


class QueueListView(_QueueView):
    def get(self, request):
        kind = required_param(request.query_params, "serviceType").replace("-", "_").upper()
        if kind not in _SERVICE_TYPES:
            raise ValidationError(f"Unsupported serviceType '{kind:.64}'; use one of: {', '.join(_SERVICE_TYPES)}")
        req = page_request(request.query_params)
        rows = list(QUEUES) if kind == "TB_RULE_ENGINE" else []
        if req.text_search:
            rows = [q for q in rows if req.text_search.lower() in q["name"].lower()]
        sort = {"createdTime": "createdTime", "name": "name", "topic": "topic"}
        if req.sort_property:
            if req.sort_property not in sort:
                raise ValidationError(f"Unsupported sortProperty '{req.sort_property:.64}'; use one of: "
                                      f"{', '.join(sorted(sort))}")
            rows.sort(key=lambda q: (q[req.sort_property], q["name"]), reverse=req.sort_order == "DESC")
        start = req.page * req.page_size
        return Response({"data": rows[start:start + req.page_size], "totalPages": -(-len(rows) // req.page_size),
                         "totalElements": len(rows), "hasNext": start + req.page_size < len(rows)})

    def post(self, request):
        self.refuse()



class QueueDetailView(_QueueView):
    def get(self, request, queue_id):
        pk = str(parse_uuid(queue_id))
        return Response(_found(q for q in QUEUES if q["id"]["id"] == pk))

    def delete(self, request, queue_id):
        pk = str(parse_uuid(queue_id))
        _found(q for q in QUEUES if q["id"]["id"] == pk)
        self.refuse()


class QueueByNameView(_QueueView):
    def get(self, request, queue_name):
        return Response(_found(q for q in QUEUES if q["name"] == queue_name))


def _found(rows) -> dict:
    queue = next(iter(rows), None)
    if queue is None:
        raise NotFound("Requested item wasn't found!")
    return queue


urlpatterns = [
    path("queues", QueueListView.as_view(), name="queue-list"),
    path("queues/name/<str:queue_name>", QueueByNameView.as_view(), name="queue-by-name"),
    path("queues/<str:queue_id>", QueueDetailView.as_view(), name="queue-detail"),
]
