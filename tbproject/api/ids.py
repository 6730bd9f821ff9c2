"""Entity ids as ThingsBoard writes them: {"entityType": "DEVICE", "id": "<uuid>"}."""

import uuid

from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from tenants.choices import NULL_UUID

__all__ = ["entity_id", "parse_uuid", "EntityIdField"]


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


class EntityIdField(serializers.Field):
    """Reads a bare uuid or {"entityType", "id"}; writes {"entityType", "id"}.

    The NULL_UUID reads as None, so clients may send ThingsBoard's "unassigned" marker.
    """

    def __init__(self, entity_type: str, **kwargs):
        self.entity_type = entity_type
        super().__init__(**kwargs)

    def to_representation(self, value):
        return entity_id(self.entity_type, getattr(value, "pk", value))

    def to_internal_value(self, data):
        raw = data.get("id") if isinstance(data, dict) else data
        if raw in (None, ""):
            return None
        parsed = parse_uuid(raw)
        return None if str(parsed) == NULL_UUID else parsed
