"""The Edge, EdgeInfo and EdgeEvent JSON of ThingsBoard's REST API.

``routingKey`` and ``secret`` are what an edge connects with: ThingsBoard shows both to tenant
administrators (its "copy edge key/secret" buttons, the install instructions), so they come back to
them, as the client's required fields; a customer user reads the secret as "" (and never the admin
page or a log line: edges/admin.py). A save without a secret keeps the stored one (a new edge gets a
random one), and without a routing key a new edge gets a random UUID.
"""

from rest_framework import serializers

from devices.api.lookups import resolve_customer
from devices.api.serializers import owner_id
from edges.models import Edge, new_routing_key, new_secret
from tbproject.api.ids import EntityIdField, entity_id
from tbproject.api.serializers import TbEntitySerializer
from tenants.choices import Authority

__all__ = ["EdgeSerializer", "EdgeInfoSerializer", "EdgeEventSerializer", "ROUTING_KEY_TAKEN"]

NAME_MISSING = "Edge name should be specified!"
TYPE_MISSING = "Edge type should be specified!"
ROUTING_KEY_TAKEN = "Edge with such routing key already exists!"


class EdgeSerializer(TbEntitySerializer):
    entity_type = "EDGE"

    name = serializers.CharField(max_length=255, error_messages={
        "required": NAME_MISSING, "blank": NAME_MISSING, "null": NAME_MISSING})
    type = serializers.CharField(max_length=255, error_messages={
        "required": TYPE_MISSING, "blank": TYPE_MISSING, "null": TYPE_MISSING})
    label = serializers.CharField(max_length=255, required=False, allow_blank=True, allow_null=True)
    customerId = EntityIdField("CUSTOMER", source="customer_id", required=False, allow_null=True)
    rootRuleChainId = serializers.SerializerMethodField()
    routingKey = serializers.CharField(source="routing_key", max_length=255, required=False, allow_blank=True,
                                       allow_null=True)
    secret = serializers.CharField(max_length=255, required=False, allow_blank=True, allow_null=True)
    edgeLicenseKey = serializers.CharField(source="edge_license_key", max_length=255, required=False,
                                           allow_blank=True, allow_null=True)
    cloudEndpoint = serializers.CharField(source="cloud_endpoint", max_length=255, required=False,
                                          allow_blank=True, allow_null=True)
    ownerId = serializers.SerializerMethodField()

    class Meta:
        model = Edge
        fields = TbEntitySerializer.base_fields + (
            "name", "type", "label", "customerId", "rootRuleChainId", "routingKey", "secret", "edgeLicenseKey",
            "cloudEndpoint", "ownerId")

    def get_rootRuleChainId(self, obj) -> dict | None:
        return entity_id("RULE_CHAIN", obj.root_rule_chain_id) if obj.root_rule_chain_id else None

    def get_ownerId(self, obj) -> dict:
        return owner_id(obj)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if self.context["request"].user.authority != Authority.TENANT_ADMIN:
            data["secret"] = ""
        return data

    def validate_name(self, value: str) -> str:
        value = value.strip()
        if not value:
            raise serializers.ValidationError(NAME_MISSING)
        return value

    def validate_type(self, value: str) -> str:
        value = value.strip()
        if not value:
            raise serializers.ValidationError(TYPE_MISSING)
        return value

    def validate(self, attrs):
        instance = self.instance
        key = (attrs.pop("routing_key", None) or "").strip()
        if key:
            taken = Edge.objects.filter(routing_key=key)
            if instance is not None:
                taken = taken.exclude(pk=instance.pk)
            if taken.exists():
                raise serializers.ValidationError(ROUTING_KEY_TAKEN)
            attrs["routing_key"] = key
        elif instance is None:
            attrs["routing_key"] = new_routing_key()
        secret = attrs.pop("secret", None)
        if secret:
            attrs["secret"] = secret
        elif instance is None:
            attrs["secret"] = new_secret()
        for field in ("label", "edge_license_key", "cloud_endpoint"):
            if field in attrs:
                attrs[field] = attrs[field] or ""
        return attrs

    def save(self, **kwargs):
        data = self.validated_data
        if "customer_id" in data:
            kwargs["customer"] = resolve_customer(self.tenant, data.pop("customer_id"))
        if self.instance is None:
            kwargs["tenant"] = self.tenant
        return super().save(**kwargs)


class EdgeInfoSerializer(EdgeSerializer):
    """EdgeInfo: the edge plus its owner's name (and CE's customerTitle); expects customer and tenant selected."""

    customerTitle = serializers.SerializerMethodField()
    customerIsPublic = serializers.SerializerMethodField()
    ownerName = serializers.SerializerMethodField()
    groups = serializers.SerializerMethodField()

    class Meta(EdgeSerializer.Meta):
        fields = EdgeSerializer.Meta.fields + ("customerTitle", "customerIsPublic", "ownerName", "groups")

    def get_customerTitle(self, obj):
        return obj.customer.title if obj.customer_id else None

    def get_customerIsPublic(self, obj) -> bool:
        return bool(obj.customer_id and obj.customer.additional_info.get("isPublic", False))

    def get_ownerName(self, obj) -> str:
        return obj.customer.title if obj.customer_id else obj.tenant.title

    def get_groups(self, obj) -> list:
        return []  # no EDGE entity groups are kept here (devices/api/groups.py EMPTY_GROUP_TYPES)


class EdgeEventSerializer(serializers.Serializer):
    id = serializers.SerializerMethodField()
    createdTime = serializers.IntegerField(source="created_time")
    seqId = serializers.IntegerField(source="seq_id")
    tenantId = EntityIdField("TENANT", source="tenant_id")
    edgeId = EntityIdField("EDGE", source="edge_id")
    action = serializers.CharField()
    entityId = serializers.UUIDField(source="entity_id", allow_null=True)
    uid = serializers.CharField()
    type = serializers.CharField()
    body = serializers.JSONField(allow_null=True)
    entityGroupId = serializers.UUIDField(source="entity_group_id", allow_null=True)

    def get_id(self, obj) -> dict:
        return {"id": str(obj.pk)}
