"""Base serializer for ThingsBoard-shaped entities (ids as objects, camelCase, ms times)."""

from rest_framework import serializers

from tbproject.api.ids import EntityIdField
from tbproject.text import check_json

__all__ = ["TbEntitySerializer", "StorableJSONField"]


class StorableJSONField(serializers.JSONField):
    """A JSON value a database column can hold: PostgreSQL's jsonb refuses NUL characters and lone
    surrogates in any key or string, which would otherwise fail the save as a 500 (SQLite takes them)."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            return check_json(value)
        except ValueError:
            self.fail("unstorable")

    default_error_messages = {"unstorable": "Text in JSON values cannot contain NUL characters or lone surrogates."}


class TbEntitySerializer(serializers.ModelSerializer):
    """Adds id, createdTime, tenantId, version and additionalInfo to a tenant-scoped model.

    Subclasses set ``entity_type``. Server-owned fields that clients post back on a round trip
    (id, createdTime, tenantId, version, ownerId...) are read-only here and ignored on input.
    """

    entity_type: str = ""

    id = serializers.SerializerMethodField()
    createdTime = serializers.IntegerField(source="created_time", read_only=True)
    tenantId = EntityIdField("TENANT", source="tenant_id", read_only=True)
    version = serializers.IntegerField(read_only=True)
    additionalInfo = StorableJSONField(source="additional_info", required=False, allow_null=True)

    base_fields = ("id", "createdTime", "tenantId", "version", "additionalInfo")

    def get_id(self, obj) -> dict:
        return {"entityType": self.entity_type, "id": str(obj.pk)}

    @property
    def tenant(self):
        return self.context["request"].user.tenant

    def validate_additionalInfo(self, value):
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise serializers.ValidationError("must be a JSON object")
        return value
