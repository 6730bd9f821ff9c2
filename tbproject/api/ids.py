"""Entity ids as ThingsBoard writes them: {"entityType": "DEVICE", "id": "<uuid>"}."""

import uuid

from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from tenants.choices import NULL_UUID

__all__ = ["entity_id", "parse_uuid", "parse_id_list", "EntityIdField"]


def entity_id(entity_type: str, value) -> dict:
    return {"entityType": entity_type, "id": str(value) if value else NULL_UUID}


def parse_uuid(value, what: str = "id") -> uuid.UUID:
    """Parse a path or body id; a malformed one is a 400 with the offending text."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        raise ValidationError(f"Invalid UUID string: {value!s:.64}") from None


def parse_id_list(params, name: str, *, required: bool = True) -> list[uuid.UUID]:
    """An id list query parameter, comma-separated (`?deviceIds=a,b`) or repeated (`?deviceIds=a&deviceIds=b`,
    as the generated client sends it); any malformed id is a 400."""
    parts = [part.strip() for raw in params.getlist(name) for part in raw.split(",") if part.strip()]
    if not parts and required:
        raise ValidationError(f"Required request parameter '{name}' is not present")
    return [parse_uuid(part) for part in parts]


class EntityIdField(serializers.Field):
    """Reads a bare uuid or {"entityType", "id"}; writes {"entityType", "id"}.

    The NULL_UUID reads as None, so clients may send ThingsBoard's "unassigned" marker.
    """

    def __init__(self, entity_type: str, **kwargs):
        self.entity_type = entity_type
        super().__init__(**kwargs)

    _NONE = object()

    def get_attribute(self, instance):
        # DRF writes null without asking the field when the attribute is None; ThingsBoard
        # writes {"entityType": ..., "id": NULL_UUID} for "unassigned" instead.
        value = super().get_attribute(instance)
        return self._NONE if value is None else value

    def to_representation(self, value):
        if value is self._NONE:
            return entity_id(self.entity_type, None)
        return entity_id(self.entity_type, getattr(value, "pk", value))

    def to_internal_value(self, data):
        raw = data.get("id") if isinstance(data, dict) else data
        if raw in (None, ""):
            return None
        parsed = parse_uuid(raw)
        return None if str(parsed) == NULL_UUID else parsed
