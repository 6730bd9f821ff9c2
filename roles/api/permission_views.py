"""The caller's own rights (UserPermissionsController):

    GET /api/permissions/allowedPermissions                       AllowedPermissionsInfo (roles/allowed.py)
    GET /api/permission/{entityType}/{entityId}/{operation}       true when the caller sees the entity (else 404)
                                                                  and its roles grant the operation on its type
"""

from django.shortcuts import get_object_or_404
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from devices import group_types
from roles.allowed import allowed_permissions
from roles.choices import OPERATIONS
from roles.rights import rights_of
from tbproject.api.ids import parse_uuid
from tenants.choices import Authority
from tenants.models import Customer

__all__ = ["AllowedPermissionsView", "EntityPermissionView"]


class AllowedPermissionsView(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response(allowed_permissions(request.user))


class EntityPermissionView(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request, entity_type, entity_id, operation):
        if operation not in OPERATIONS:
            raise ValidationError(f"Unsupported operation '{operation:.32}'")
        model = Customer if entity_type == "CUSTOMER" else group_types.member_model(entity_type)
        if model is None:
            raise ValidationError(f"Unsupported entity type '{entity_type:.32}'")
        user = request.user
        manager = model._default_manager
        if user.authority == Authority.SYS_ADMIN:
            rows = manager.none()  # the system administrator owns no tenant entity
        elif hasattr(manager, "for_user"):
            rows = manager.for_user(user)
        else:
            rows = manager.filter(tenant_id=user.tenant_id)
            if user.authority == Authority.CUSTOMER_USER:
                rows = rows.filter(customer_id=user.customer_id)
        get_object_or_404(rows, pk=parse_uuid(entity_id))
        return Response(rights_of(user).allows(entity_type, operation))
