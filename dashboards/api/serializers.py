"""ThingsBoard's Dashboard and DashboardInfo JSON (CE's fields, and PE's ownerId/customerId/ownerName/groups).

    {"id": {"entityType": "DASHBOARD", "id": ...}, "createdTime", "tenantId", "customerId", "ownerId",
     "title", "name" (= title, read-only), "image", "mobileHide", "mobileOrder",
     "assignedCustomers": [{"customerId": {"entityType": "CUSTOMER", "id"}, "title", "public"}],
     "configuration": {...widgets, states, entityAliases, settings...}, "externalId", "version"}

DashboardInfo is the same without ``configuration`` (ThingsBoard: "lightweight information ...
but does not contain the heavyweight configuration JSON"). ``assignedCustomers``, ``version``
and the ids are the server's: posted back on a round trip, they are ignored (assignment has its
own endpoints); ``version`` is read by the save view for the optimistic check.
"""

from rest_framework import serializers

from dashboards.models import Dashboard
from tbproject.api.ids import entity_id, parse_uuid
from tbproject.api.serializers import TbEntitySerializer
from tbproject.text import check_text
from tenants.choices import Authority

__all__ = ["DashboardSerializer", "DashboardInfoSerializer", "assigned_customers"]

_TITLE_MESSAGES = {k: "Dashboard title should be specified!" for k in ("required", "blank", "null")}


def assigned_customers(dashboard: Dashboard) -> list[dict]:
    """ThingsBoard's ShortCustomerInfo list, by title (``public`` is false: there is no public
    customer here)."""
    customers = sorted(dashboard.assigned_customers.all(), key=lambda c: (c.title, str(c.pk)))  # prefetched
    return [{"customerId": entity_id("CUSTOMER", c.pk), "title": c.title, "public": False} for c in customers]


def _text(value, what: str):
    if value is None:
        return None
    if not isinstance(value, str):
        raise serializers.ValidationError(f"'{what}' must be a text")
    try:
        return check_text(value)
    except ValueError as e:
        raise serializers.ValidationError(f"'{what}': {e}") from None


class _ConfigurationField(serializers.Field):
    """The configuration as the client sent it: a JSON object (or null), kept in key order."""

    def get_attribute(self, instance):
        return instance

    def to_representation(self, value):
        return value.configuration

    def to_internal_value(self, data):
        if data is not None and not isinstance(data, dict):
            raise serializers.ValidationError("The dashboard configuration must be a JSON object (or null)")
        return data


class _ExternalIdField(serializers.Field):
    """``externalId``: null, or {"entityType": "DASHBOARD", "id"} (ThingsBoard's version-control link)."""

    def get_attribute(self, instance):
        return instance.external_id

    def to_representation(self, value):
        return entity_id("DASHBOARD", value) if value else None

    def to_internal_value(self, data):
        raw = data.get("id") if isinstance(data, dict) else data
        return None if raw in (None, "") else parse_uuid(raw)


class DashboardSerializer(TbEntitySerializer):
    entity_type = "DASHBOARD"

    additionalInfo = None  # ThingsBoard's Dashboard has none
    customerId = serializers.SerializerMethodField()
    ownerId = serializers.SerializerMethodField()
    title = serializers.CharField(max_length=255, trim_whitespace=False, error_messages={
        **_TITLE_MESSAGES, "max_length": "Dashboard title length must be equal or less than 255"})
    name = serializers.CharField(source="title", read_only=True)
    image = serializers.JSONField(required=False, allow_null=True)
    assignedCustomers = serializers.SerializerMethodField()
    mobileHide = serializers.JSONField(source="mobile_hide", required=False, allow_null=True)
    mobileOrder = serializers.JSONField(source="mobile_order", required=False, allow_null=True)
    configuration = _ConfigurationField(required=False, allow_null=True)
    externalId = _ExternalIdField(required=False, allow_null=True, source="external_id")

    class Meta:
        model = Dashboard
        fields = ("id", "createdTime", "tenantId", "customerId", "ownerId", "title", "name", "image",
                  "assignedCustomers", "mobileHide", "mobileOrder", "configuration", "externalId", "version")

    def get_customerId(self, obj) -> dict:
        return entity_id("CUSTOMER", None)  # owned by the tenant (PE's owner), shown to customers by assignment

    def get_ownerId(self, obj) -> dict:
        return entity_id("TENANT", obj.tenant_id)

    def get_assignedCustomers(self, obj) -> list:
        return assigned_customers(obj)

    def validate_title(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("Dashboard title should be specified!")
        return _text(value, "title")

    def validate_image(self, value):
        return _text(value, "image")

    def validate_mobileHide(self, value) -> bool:
        if value is None:
            return False
        if not isinstance(value, bool):
            raise serializers.ValidationError("'mobileHide' must be true or false")
        return value

    def validate_mobileOrder(self, value):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or abs(value) >= 2**31):
            raise serializers.ValidationError("'mobileOrder' must be an integer (or null)")
        return value

    def create(self, validated_data):
        configuration = validated_data.pop("configuration", None)
        dashboard = Dashboard(tenant=self.tenant, **validated_data)
        dashboard.configuration = configuration
        dashboard.save()
        return dashboard

    def update(self, instance, validated_data):
        if "configuration" in validated_data:
            instance.configuration = validated_data.pop("configuration")
        return super().update(instance, validated_data)


class DashboardInfoSerializer(DashboardSerializer):
    """DashboardInfo: no configuration; PE's ownerName and groups (EntityInfo of the DASHBOARD groups it is
    in, by name; empty for a customer user, who reaches no group here)."""

    configuration = None
    ownerName = serializers.SerializerMethodField()
    groups = serializers.SerializerMethodField()

    class Meta(DashboardSerializer.Meta):
        fields = tuple(f for f in DashboardSerializer.Meta.fields if f != "configuration") + ("ownerName", "groups")

    def get_ownerName(self, obj) -> str:
        return obj.tenant.title

    def get_groups(self, obj) -> list:
        request = self.context.get("request")
        if request is not None and request.user.authority == Authority.CUSTOMER_USER:
            return []
        groups = sorted(obj.groups.all(), key=lambda g: (g.name, str(g.pk)))  # prefetched
        return [{"id": entity_id("ENTITY_GROUP", g.pk), "name": g.name} for g in groups]
