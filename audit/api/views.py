"""ThingsBoard's audit log endpoints (tenant administrators; another tenant's entity, user or
customer is a 404):

    GET /api/audit/logs                                   the tenant's log
    GET /api/audit/logs/entity/{entityType}/{entityId}    one entity's (deleted ones too)
    GET /api/audit/logs/user/{userId}                     one user's
    GET /api/audit/logs/customer/{customerId}             one customer's users'

each a PageData under ``pageSize, page, textSearch, sortProperty, sortOrder, startTime, endTime,
actionTypes``. As ThingsBoard: newest first; textSearch is a case-insensitive substring of the
entity type, entity name, user name, action type or status; without startTime and endTime the
last 30 days (``audit_log.default_query_period``)."""

import dataclasses
import re

from django.db.models import Q
from django.http import Http404
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.models import AuditLog
from audit.snapshots import AUDITED
from tbproject.api.ids import entity_id, parse_uuid
from tbproject.api.pagination import page_data, page_request
from tbproject.api.params import ms_param
from tbproject.api.permissions import IsTenantAdmin
from tbproject.clock import now_ms
from tenants.choices import EntityType
from tenants.models import Customer, User

__all__ = ["AuditLogsView", "EntityAuditLogsView", "UserAuditLogsView", "CustomerAuditLogsView", "audit_json"]

DEFAULT_PERIOD_MS = 30 * 24 * 3600 * 1000
SORT_FIELDS = {"createdTime": "created_time", "entityType": "entity_type", "entityName": "entity_name",
               "userName": "user_name", "actionType": "action_type", "actionStatus": "action_status"}
SEARCHED = ("entity_type", "entity_name", "user_name", "action_type", "action_status")
ACTION_TYPE_RE = re.compile(r"[A-Z_]{1,64}")


def audit_json(row: AuditLog) -> dict:
    return {
        "id": entity_id("AUDIT_LOG", row.pk), "createdTime": row.created_time,
        "tenantId": entity_id("TENANT", row.tenant_id), "customerId": entity_id("CUSTOMER", row.customer_id),
        "entityId": entity_id(row.entity_type, row.entity_id), "entityName": row.entity_name,
        "userId": entity_id("USER", row.user_id), "userName": row.user_name, "actionType": row.action_type,
        "actionData": row.action_data, "actionStatus": row.action_status,
        "actionFailureDetails": row.action_failure_details or None,
    }


class AuditLogsView(APIView):
    permission_classes = [IsTenantAdmin]

    def scope(self, queryset, **kwargs):
        """Hook: narrow to one entity, user or customer (404 when it is not the caller's)."""
        return queryset

    def get(self, request, **kwargs):
        params = request.query_params
        rows = self.scope(AuditLog.objects.for_user(request.user), **kwargs)  # 404 first, then the paging 400s
        req = page_request(params)
        start, end = ms_param(params, "startTime"), ms_param(params, "endTime")
        if start is None and end is None:
            start = now_ms() - DEFAULT_PERIOD_MS
        if start is not None:
            rows = rows.filter(created_time__gte=start)
        if end is not None:
            rows = rows.filter(created_time__lte=end)
        types = [t.strip() for t in (params.get("actionTypes") or "").split(",") if t.strip()]
        bad = [t for t in types if not ACTION_TYPE_RE.fullmatch(t)]
        if bad:
            raise ValidationError(f"Invalid actionTypes value: {bad[0]:.64}")
        if types:
            rows = rows.filter(action_type__in=types)
        if req.text_search:
            query = Q()
            for field in SEARCHED:
                query |= Q(**{f"{field}__icontains": req.text_search})
            rows = rows.filter(query)
        return Response(page_data(rows, dataclasses.replace(req, text_search=""), search_field="entity_name",
                                  sort_fields=SORT_FIELDS, render=lambda objs: [audit_json(r) for r in objs]))


class EntityAuditLogsView(AuditLogsView):
    def scope(self, queryset, entity_type, entity_id):
        if entity_type not in EntityType.values:
            raise ValidationError(f"Invalid entity type: {entity_type:.64}")
        pk = parse_uuid(entity_id)
        rows = queryset.filter(entity_type=entity_type, entity_id=pk)
        owned = any(model.objects.for_user(self.request.user).filter(pk=pk).exists()
                    for model, (kind, _) in AUDITED.items() if kind == entity_type)
        if not owned and not rows.exists():
            raise Http404
        return rows


class UserAuditLogsView(AuditLogsView):
    def scope(self, queryset, user_id):
        pk = parse_uuid(user_id)
        rows = queryset.filter(user_id=pk)
        if not User.objects.filter(pk=pk, tenant_id=self.request.user.tenant_id).exists() and not rows.exists():
            raise Http404
        return rows


class CustomerAuditLogsView(AuditLogsView):
    def scope(self, queryset, customer_id):
        pk = parse_uuid(customer_id)
        if not Customer.objects.filter(pk=pk, tenant_id=self.request.user.tenant_id).exists():
            raise Http404
        return queryset.filter(customer_id=pk)
