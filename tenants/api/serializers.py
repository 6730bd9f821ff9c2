"""JSON shapes of users and customers, as ThingsBoard's REST API has them."""

from rest_framework import serializers

from tbproject.api.ids import EntityIdField
from tenants.models import User

__all__ = ["UserSerializer"]


class UserSerializer(serializers.ModelSerializer):
    id = serializers.SerializerMethodField()
    createdTime = serializers.IntegerField(source="created_time", read_only=True)
    tenantId = EntityIdField("TENANT", source="tenant_id", read_only=True)
    customerId = EntityIdField("CUSTOMER", source="customer_id", read_only=True)
    firstName = serializers.CharField(source="first_name", read_only=True)
    lastName = serializers.CharField(source="last_name", read_only=True)
    name = serializers.EmailField(source="email", read_only=True)
    additionalInfo = serializers.JSONField(source="additional_info", read_only=True)

    class Meta:
        model = User
        fields = ("id", "createdTime", "tenantId", "customerId", "email", "name", "authority",
                  "firstName", "lastName", "additionalInfo")

    def get_id(self, obj) -> dict:
        return {"entityType": "USER", "id": str(obj.pk)}
