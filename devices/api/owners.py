"""PE's owner change: `POST /api/owner/CUSTOMER/{ownerId}/{entityType}/{entityId}` and `.../TENANT/...`.

The optional body is a JSON list of entity group ids the entity joins under its new owner (groups of that owner
only, else 400). As in ThingsBoard, the entity leaves every group of its former owner in the same transaction; its
new owner's "All" is implicit (devices/group_owners.py).
"""

from functools import partial

from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from devices import group_owners
from devices.api.entity_views import EntityViewResource
from devices.api.lookups import resolve_groups, visible_customer
from devices.api.views import AssetResource, DeviceResource
from devices.ota.signals import change_members
from tbproject.api.ids import parse_uuid
from tbproject.api.permissions import IsTenantAdmin

__all__ = ["ChangeOwnerView"]

RESOURCES = {"DEVICE": DeviceResource, "ASSET": AssetResource, "ENTITY_VIEW": EntityViewResource}


class ChangeOwnerView(APIView):
    permission_classes = [IsTenantAdmin]
    owner_type = "CUSTOMER"

    def post(self, request, owner_id, entity_type, entity_id):
        resource = RESOURCES.get(entity_type)
        if resource is None:
            raise ValidationError(f"Unsupported entity type '{entity_type:.32}'; use one of: {', '.join(RESOURCES)}")
        user = request.user
        obj = get_object_or_404(resource.model.objects.for_user(user), pk=parse_uuid(entity_id))
        if self.owner_type == "CUSTOMER":
            customer = visible_customer(user, owner_id)
        elif parse_uuid(owner_id) != user.tenant_id:
            raise Http404("Requested owner wasn't found!")
        else:
            customer = None
        groups = resolve_groups(user.tenant, entity_type, self.group_ids(request.data))
        owner_pk = customer.pk if customer is not None else None
        foreign = next((g for g in groups if g.customer_id != owner_pk), None)
        if foreign is not None:  # a group holds its owner's entities only (as addEntities)
            raise ValidationError(group_owners.not_owned_message(obj.pk, foreign))
        with transaction.atomic():
            obj.customer = customer
            obj.save()  # out of the former owner's groups (devices/group_owners.py), in this transaction
            for group in groups:
                change_members(group, [obj], partial(group.members.add, obj), action="added")
        return Response(status=200)

    @staticmethod
    def group_ids(body) -> list:
        if body in (None, {}, []):
            return []
        if not isinstance(body, list) or not all(isinstance(i, str) for i in body):
            raise ValidationError("Request body must be a JSON list of entity group ids")
        return body
