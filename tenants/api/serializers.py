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
    phone = serializers.CharField(read_only=True)
    additionalInfo = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ("id", "createdTime", "tenantId", "customerId", "email", "name", "authority",
                  "firstName", "lastName", "phone", "additionalInfo")

    def get_additionalInfo(self, obj) -> dict:
        # ThingsBoard shows the login's state here; ours is the user's is_active
        info = obj.additional_info if isinstance(obj.additional_info, dict) else {}
        return {**info, "userCredentialsEnabled": obj.is_active}

    def get_id(self, obj) -> dict:
        return {"entityType": "USER", "id": str(obj.pk)}
