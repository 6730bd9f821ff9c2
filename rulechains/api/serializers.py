"""The RuleChain JSON of ThingsBoard's REST API."""

from rest_framework import serializers

from rulechains.models import RuleChain, RuleChainType
from tbproject.api.ids import entity_id
from tbproject.api.serializers import StorableJSONField, TbEntitySerializer

__all__ = ["RuleChainSerializer"]

NAME_MISSING = "Rule chain name should be specified!"


class RuleChainSerializer(TbEntitySerializer):
    """``root`` and ``firstRuleNodeId`` are the server's: the root changes with
    ``POST /api/ruleChain/{id}/root``, the nodes with ``POST /api/ruleChain/metadata``."""

    entity_type = "RULE_CHAIN"

    name = serializers.CharField(max_length=255, error_messages={
        "required": NAME_MISSING, "blank": NAME_MISSING, "null": NAME_MISSING})
    type = serializers.ChoiceField(RuleChainType.choices, required=False, allow_null=True)
    firstRuleNodeId = serializers.SerializerMethodField()
    root = serializers.BooleanField(read_only=True)
    debugMode = serializers.BooleanField(source="debug_mode", required=False)
    configuration = StorableJSONField(required=False, allow_null=True)

    class Meta:
        model = RuleChain
        fields = TbEntitySerializer.base_fields + ("name", "type", "firstRuleNodeId", "root", "debugMode",
                                                   "configuration")

    def get_firstRuleNodeId(self, obj) -> dict | None:
        if obj.first_node_index is None:
            return None
        node = next((n for n in obj.nodes.all() if n.index == obj.first_node_index), None)
        return entity_id("RULE_NODE", node.pk) if node else None

    def validate_name(self, value: str) -> str:
        value = value.strip()
        if not value:
            raise serializers.ValidationError(NAME_MISSING)
        return value

    def validate_type(self, value):
        return value or RuleChainType.CORE

    def save(self, **kwargs):
        if self.instance is None:
            kwargs["tenant"] = self.tenant
        return super().save(**kwargs)
