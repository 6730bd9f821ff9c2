"""What the notification endpoints share: who may call them and the owner-scoped lookups."""

from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404
from rest_framework.exceptions import ValidationError
from rest_framework.views import APIView

from tbproject.api.ids import parse_uuid
from tbproject.api.pagination import page_data, page_request
from tbproject.api.permissions import IsAdministrator

__all__ = ["IsAdministrator", "OwnedView"]


class OwnedView(APIView):
    """An endpoint over one model of notifications/models.py, scoped to the caller's owner."""

    permission_classes = [IsAdministrator]
    model = None
    sort_fields = {"createdTime": "created_time", "name": "name"}
    search_field = "name"
    duplicate = "Entity with such name already exists!"

    def get_queryset(self):
        return self.model.objects.owned_by(self.request.user)

    def get_object(self, pk):
        return get_object_or_404(self.get_queryset(), pk=parse_uuid(pk))

    def instance_of(self, data: dict):
        """The object a save names by ``id`` (None: a new one); another owner's is a 404."""
        raw = data.get("id")
        raw = raw.get("id") if isinstance(raw, dict) else raw
        return self.get_object(raw) if raw else None

    def page(self, queryset, render):
        req = page_request(self.request.query_params)
        return page_data(queryset, req, search_field=self.search_field, sort_fields=self.sort_fields,
                         search_lookup="icontains", render=lambda rows: [render(r) for r in rows])

    def store(self, obj):
        try:
            with transaction.atomic():
                obj.save()
        except IntegrityError:
            raise ValidationError(self.duplicate) from None
        return obj
