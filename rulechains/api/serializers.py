"""The RuleChain JSON of ThingsBoard's REST API."""

from rest_framework import serializers

from rulechains import chain_signals
from rulechains.models import RuleChain, RuleChainType
from tbproject.api.ids import entity_id
from tbproject.api.serializers import StorableJSONField, TbEntitySerializer

__all__ = ["RuleChainSerializer"]

NAME_MISSING = "Rule chain name should be specified!"


class RuleChainSerializer(TbEntitySerializer):
    """``root`` and ``firstRuleNodeId`` are the server's: the root changes with
    ``POST /api/ruleChain/{id}/root`` (an EDGE chain's, the edge template root, with
    ``POST /api/ruleChain/{id}/edgeTemplateRoot``), the nodes with ``POST /api/ruleChain/metadata``."""

    entity_type = "RULE_CHAIN"

    name = serializers.CharField(max_length=255, error_messages={
        "required": NAME_MISSING, "blank": NAME_MISSING, "null": NAME_MISSING})
    type = serializers.ChoiceField(RuleChainType.choices, required=False, allow_null=True)
    firstRuleNodeId = serializers.SerializerMethodField()
    root = serializers.SerializerMethodField()
    debugMode = serializers.BooleanField(source="debug_mode", required=False)
    configuration = StorableJSONField(required=False, allow_null=True)

    class Meta:
        model = RuleChain
        fields = TbEntitySerializer.base_fields + ("name", "type", "firstRuleNodeId", "root", "debugMode",
                                                   "configuration")

    def get_root(self, obj) -> bool:
        """The tenant's root chain; of EDGE chains, the edge template root (rulechains/chain_signals.py), asked
        once per tenant and rendering."""
        if obj.root or obj.type != RuleChainType.EDGE:
            return bool(obj.root)
        cache = self.context.setdefault("_edge_roots", {}) if isinstance(self.context, dict) else {}
        if obj.tenant_id not in cache:
            cache[obj.tenant_id] = chain_signals.edge_root_ids(obj.tenant_id)
        return obj.pk in cache[obj.tenant_id]

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
