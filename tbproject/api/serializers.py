"""Base serializer for ThingsBoard-shaped entities (ids as objects, camelCase, ms times)."""

from rest_framework import serializers

from tbproject.api.ids import EntityIdField

__all__ = ["TbEntitySerializer", "StorableJSONField"]


class StorableJSONField(serializers.JSONField):
    """A JSON value a database column can hold: PostgreSQL's jsonb refuses NUL characters and lone
    surrogates in any key or string, which would otherwise fail the save as a 500 (SQLite takes them)."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        stack = [value]
        while stack:  # a loop, not recursion: the depth is the client's
            item = stack.pop()
            if isinstance(item, dict):
                stack.extend(item.keys())
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, str) and not _storable(item):
                self.fail("unstorable")
        return value

    default_error_messages = {"unstorable": "Text in JSON values cannot contain NUL characters or lone surrogates."}


def _storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


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
